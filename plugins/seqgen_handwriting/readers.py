"""Readers for online handwriting: IAM-OnDB lineStrokes XML, strokes.npy (InkML and SVG paths
are in ``markup``), and the dispatch by suffix.

Every XML file is parsed with defusedxml (no entity expansion, no DTDs, no external
references). Every problem with a file is a one-line SeqgenError naming the file. All readers
return ``Ink`` documents with y pointing up (IAM-OnDB, InkML and SVG use screen coordinates,
y down, and are flipped).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import re
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_handwriting.ink import Ink, check_strokes, from_polylines

SUFFIXES = (".xml", ".inkml", ".svg", ".npy")


# ---- XML --------------------------------------------------------------------------------------
def parse_xml(path: Path) -> Any:
    """The root element of an XML file, parsed safely; SeqgenError on anything wrong."""
    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        return SafeET.parse(str(path)).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise SeqgenError(f"{path}: refused unsafe XML ({type(exc).__name__}: entity and "
                          f"DTD declarations are not allowed)") from None
    except (SafeET.ParseError, LookupError, ValueError) as exc:  # LookupError: an unknown
        # encoding declared; ValueError: text that is not in the declared encoding
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise SeqgenError(f"{path}: malformed XML ({why})") from None
    except OSError as exc:
        raise SeqgenError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _float(value: str | None, path: Path, what: str) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SeqgenError(f"{path}: {what}: expected a number, got {value!r}") from None
    if not np.isfinite(out):
        raise SeqgenError(f"{path}: {what}: NaN or infinite coordinate")
    return out


#: coordinates beyond this are refused: their offsets would not fit the float32 strokes
MAX_COORD = 1e30


def _ink(polylines: list[np.ndarray], path: Path, text: str | None,
         writer: int | None = None, flip: bool = True) -> Ink:
    polylines = [p for p in polylines if len(p)]
    if not polylines:
        raise SeqgenError(f"{path}: empty strokes (no points)")
    pts = np.concatenate(polylines)
    if not (np.abs(pts) <= MAX_COORD).all():  # NaN compares False too
        raise SeqgenError(f"{path}: NaN, infinite or huge coordinates (beyond +-{MAX_COORD:g})")
    if flip:
        polylines = [p * [1.0, -1.0] for p in polylines]
    return Ink(from_polylines(polylines), text, writer)


# ---- IAM-OnDB ---------------------------------------------------------------------------------
def read_iam(path: Path) -> Ink:
    """One IAM-OnDB lineStrokes file (``<StrokeSet><Stroke><Point x= y= time=>``)."""
    root = parse_xml(path)
    strokes = [e for e in root.iter() if _local(e.tag) == "Stroke"]
    if not strokes:
        raise SeqgenError(f"{path}: no <Stroke> elements: not an IAM-OnDB lineStrokes file")
    polylines = []
    for k, s in enumerate(strokes):
        pts = [(_float(p.get("x"), path, f"stroke {k + 1} x"),
                _float(p.get("y"), path, f"stroke {k + 1} y"))
               for p in s if _local(p.tag) == "Point"]
        polylines.append(np.array(pts, dtype=np.float64).reshape(-1, 2))
    writer = next((e.get("writerID") for e in root.iter() if e.get("writerID")), "")
    text = iam_transcription(path)
    known = re.fullmatch(r"[0-9]{1,18}", writer) is not None  # not "²", not 5000 digits
    return _ink(polylines, path, text, int(writer) if known else None)


def iam_transcription(path: Path) -> str | None:
    """The line's text from the IAM-OnDB ``ascii`` tree beside ``lineStrokes``, if present.

    lineStrokes/a01/a01-000/a01-000u-01.xml -> ascii/a01/a01-000/a01-000u.txt, line 1 of the
    block after ``CSR:``.
    """
    ascii_file = _ascii_path(path)
    if ascii_file is None or not ascii_file.is_file():
        return None
    number = int(path.stem.rsplit("-", 1)[1])
    lines = ascii_file.read_text("utf-8", errors="replace").splitlines()
    try:
        start = next(j for j, line in enumerate(lines) if line.strip() == "CSR:") + 1
    except StopIteration:
        return None
    body = lines[start:]
    while body and not body[0].strip():
        body = body[1:]
    return body[number - 1].strip() if 0 < number <= len(body) else None


# ---- strokes.npy + sentences.txt --------------------------------------------------------------
class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy object arrays of arrays and nothing else (no arbitrary code)."""

    ALLOWED = {(core, name) for core in ("numpy.core.multiarray", "numpy._core.multiarray")
               for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def load_npy(path: Path) -> np.ndarray:
    """np.load without arbitrary pickles: object arrays go through a numpy-only unpickler."""
    try:
        with open(path, "rb") as f:
            arr = _read_npy(f)
    except OSError as exc:
        raise SeqgenError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001 - on a damaged file numpy's header parser (a Python
        # literal: SyntaxError, tokenize errors) and the unpickler (MemoryError, SystemError from
        # numpy's __setstate__, ...) raise every kind of error
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise SeqgenError(f"{path}: not a readable .npy stroke file ({why})") from None
    if not isinstance(arr, np.ndarray):
        raise SeqgenError(f"{path}: not a numpy array")
    return arr


def _read_npy(f: BinaryIO) -> Any:
    version = np.lib.format.read_magic(f)
    header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
              else np.lib.format.read_array_header_2_0)
    shape, _, dtype = header(f)
    if dtype.hasobject:
        return _ArrayUnpickler(io.BytesIO(f.read())).load()
    need = math.prod(shape) * dtype.itemsize
    left = os.fstat(f.fileno()).st_size - f.tell()
    if need > left:  # a damaged header must not make numpy allocate what the file lacks
        raise ValueError(f"the header promises {need} bytes of data, the file holds {left}")
    f.seek(0)
    return np.load(f, allow_pickle=False)


def _sentences(path: Path, count: int) -> list[str | None]:
    """The transcriptions of a strokes.npy: sentences.txt or <stem>.txt beside it, or none."""
    for name in ("sentences.txt", path.stem + ".txt"):
        txt = path.with_name(name)
        if txt.is_file():
            try:
                found = txt.read_text("utf-8").splitlines()
            except UnicodeDecodeError as exc:
                raise SeqgenError(f"{txt}: not UTF-8 text (bad byte at offset "
                                  f"{exc.start})") from None
            if len(found) < count:
                raise SeqgenError(f"{txt}: {len(found)} sentences for {count} stroke "
                                  f"lines in {path.name}")
            return [t.strip() for t in found[:count]]
    return [None] * count


def read_npy(path: Path) -> list[Ink]:
    """strokes.npy (object array of (T, 3) rows of end_of_stroke, dx, dy) + sentences.txt.

    The transcriptions come from ``sentences.txt`` beside it (one line per stroke line), or
    ``<stem>.txt``. A plain numeric (T, 3) array is one line.
    """
    arr = load_npy(path)
    if arr.dtype == object and arr.ndim >= 1:
        lines = list(arr)
    elif arr.dtype != object and arr.ndim == 2:
        lines = [arr]
    else:
        raise SeqgenError(f"{path}: expected an object array of (T, 3) stroke arrays or one "
                          f"(T, 3) array, got shape {arr.shape} ({arr.dtype})")
    texts = _sentences(path, len(lines))
    docs = []
    for k, (line, text) in enumerate(zip(lines, texts, strict=True)):
        rows = check_strokes(line, f"{path}: line {k + 1}")
        docs.append(Ink(rows[:, [1, 2, 0]].copy(), text))
    if not docs:
        raise SeqgenError(f"{path}: no stroke lines")
    return docs


def write_npy(docs: list[Ink], folder: Path) -> None:
    """The strokes.npy + sentences.txt format (rows of end_of_stroke, dx, dy)."""
    folder.mkdir(parents=True, exist_ok=True)
    arr = np.empty(len(docs), dtype=object)
    for i, d in enumerate(docs):
        arr[i] = d.strokes[:, [2, 0, 1]].astype(np.float32)
    np.save(folder / "strokes.npy", arr, allow_pickle=True)
    (folder / "sentences.txt").write_text("".join((d.text or "") + "\n" for d in docs), "utf-8")


# ---- dispatch ---------------------------------------------------------------------------------
def read_file(path: Path) -> list[Ink]:
    from seqgen_handwriting.markup import read_inkml, read_svg

    suffix = path.suffix.lower()
    if suffix == ".xml":
        return [read_iam(path)]
    if suffix == ".inkml":
        return read_inkml(path)
    if suffix == ".svg":
        return read_svg(path)
    if suffix == ".npy":
        return read_npy(path)
    raise SeqgenError(f"{path}: cannot read {suffix or 'files without a suffix'}; "
                      f"handwriting reads {', '.join(SUFFIXES)}")


def source_files(source: str) -> list[Path]:
    """The ink files of a --data source: a file, a directory (searched recursively) or a glob."""
    import glob

    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                       and not any(s.startswith(".") for s in p.relative_to(path).parts))
    else:
        found = sorted(Path(p) for p in glob.glob(source, recursive=True)
                       if Path(p).is_file() and Path(p).suffix.lower() in SUFFIXES)
    if not found and not path.exists() and not glob.has_magic(source):
        raise SeqgenError(f"{source}: no such file or directory")
    if not found:
        raise SeqgenError(f"{source}: no handwriting files ({', '.join(SUFFIXES)}) found")
    return found


def read_source(source: str) -> tuple[list[Ink], str]:
    """All documents of a --data source and a key identifying the contents."""
    h = hashlib.sha256()
    docs: list[Ink] = []
    files = source_files(source)
    for f in files:
        h.update(f"{f.name}\0{f.stat().st_size}\0".encode())
        h.update(f.read_bytes())
        aside = f.with_name("sentences.txt") if f.suffix == ".npy" else _ascii_path(f)
        if aside is not None and aside.is_file():
            h.update(aside.read_bytes())
        docs.extend(read_file(f))
    return docs, h.hexdigest()


def _ascii_path(f: Path) -> Path | None:
    parts = f.parts
    if f.suffix != ".xml":
        return None
    if "lineStrokes" not in parts:
        return None
    i = len(parts) - 1 - parts[::-1].index("lineStrokes")
    m = re.fullmatch(r"(.+)-(\d+)", f.stem)
    return Path(*parts[:i], "ascii", *parts[i + 1:-1], m.group(1) + ".txt") if m else None

