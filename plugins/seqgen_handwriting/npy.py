"""strokes.npy readers, in the two layouts in use:

- the coding-challenge one: ``strokes.npy`` an object array of (T, 3) rows of
  (end_of_stroke, dx, dy), with ``sentences.txt`` (one transcription per line) beside it;
- sjvasquez/handwriting-synthesis's ``styles/style-N-strokes.npy``: one float32 (T, 3) array of
  rows (dx, dy, end_of_stroke), first row (0, 0, 1), y up, with the line's text in
  ``style-N-chars.npy`` (a 0-d bytes array).

Which column is end_of_stroke is detected (the first or the last, whichever holds only 0s
and 1s) or given with ``-o npy_layout=``. Object arrays are pickles: they go through an
unpickler that builds numpy arrays and nothing else.
"""

from __future__ import annotations

import io
import math
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_handwriting.ink import Ink, check_strokes

LAYOUTS = ("auto", "eos-first", "eos-last")
STROKES_SUFFIX = "-strokes.npy"
CHARS_SUFFIX = "-chars.npy"
_LAYOUT_HINT = ("pass -o npy_layout=eos-first (rows of end_of_stroke, dx, dy) or "
                "-o npy_layout=eos-last (rows of dx, dy, end_of_stroke)")


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


# ---- the -chars.npy beside a -strokes.npy -----------------------------------------------------
def is_chars(path: Path) -> bool:
    return path.name.lower().endswith(CHARS_SUFFIX)


def chars_partner(path: Path) -> Path | None:
    """style-N-strokes.npy -> style-N-chars.npy (whether or not it exists)."""
    name = path.name
    if not name.lower().endswith(STROKES_SUFFIX):
        return None
    return path.with_name(name[:-len(STROKES_SUFFIX)] + CHARS_SUFFIX)


def strokes_partner(path: Path) -> Path:
    """style-N-chars.npy -> style-N-strokes.npy (whether or not it exists)."""
    return path.with_name(path.name[:-len(CHARS_SUFFIX)] + STROKES_SUFFIX)


def read_chars(path: Path) -> str:
    """The text of a -chars.npy: a 0-d bytes (or str) array, or a 1-D array of byte codes."""
    arr = load_npy(path)
    if arr.dtype.kind in "SU" and arr.size == 1:
        raw: bytes | str = arr.reshape(()).item()
    elif arr.dtype.kind in "iu" and arr.dtype.itemsize == 1 and arr.ndim == 1:
        raw = arr.astype(np.uint8).tobytes()  # what hand.py's .tostring().decode() reads
    else:
        raise SeqgenError(f"{path}: expected a 0-d bytes array holding the line's text, got "
                          f"shape {arr.shape} ({arr.dtype})")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SeqgenError(f"{path}: the text is not UTF-8 (bad byte at offset "
                              f"{exc.start})") from None
    return raw.replace("\x00", "").strip()


def companions(path: Path) -> list[Path]:
    """The files beside a .npy that its reading depends on (its transcriptions)."""
    chars = chars_partner(path)
    if chars is not None and chars.is_file():
        return [chars]
    return [f for f in (path.with_name("sentences.txt"), path.with_name(path.stem + ".txt"))
            if f.is_file()][:1]


def _sentences(path: Path, count: int) -> list[str | None]:
    """The transcriptions of a strokes.npy: -chars.npy, sentences.txt or <stem>.txt, or none."""
    found = companions(path)
    if not found:
        return [None] * count
    txt = found[0]
    if is_chars(txt):
        if count != 1:
            raise SeqgenError(f"{txt}: one text for {count} stroke lines in {path.name}")
        return [read_chars(txt)]
    try:
        lines = txt.read_text("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SeqgenError(f"{txt}: not UTF-8 text (bad byte at offset {exc.start})") from None
    if len(lines) < count:
        raise SeqgenError(f"{txt}: {len(lines)} sentences for {count} stroke "
                          f"lines in {path.name}")
    return [t.strip() for t in lines[:count]]


# ---- the strokes ------------------------------------------------------------------------------
def eos_column(rows: np.ndarray, path: Path, layout: str) -> int:
    """The end_of_stroke column of (T, 3) rows: 0 or 2, given or detected."""
    binary = [c for c in (0, 2) if np.isin(rows[:, c], (0.0, 1.0)).all()]
    if layout == "auto":
        if len(binary) == 1:
            return binary[0]
        why = ("both the first and the last column hold only 0 and 1" if binary else
               "neither the first nor the last column holds only 0 and 1")
        raise SeqgenError(f"{path}: cannot tell which column is end_of_stroke ({why}); "
                          f"{_LAYOUT_HINT}")
    if layout not in LAYOUTS:
        raise SeqgenError(f"option npy_layout={layout!r}: choose one of {', '.join(LAYOUTS)}")
    col = 0 if layout == "eos-first" else 2
    if col not in binary:
        raise SeqgenError(f"{path}: -o npy_layout={layout}, but the "
                          f"{'first' if col == 0 else 'last'} column holds values other than "
                          f"0 and 1: not end_of_stroke")
    return col


def _as_ink_rows(rows: np.ndarray, col: int) -> np.ndarray:
    """(T, 3) rows in the file's layout -> seqgen's (dx, dy, end_of_stroke)."""
    out = rows[:, [1, 2, 0]].copy() if col == 0 else rows.copy()
    if col == 2 and len(out) > 1 and out[0].tolist() == [0.0, 0.0, 1.0]:
        # sjvasquez's coords_to_offsets prepends (0, 0, 1) as a start token for the line's
        # first point: that point begins the first stroke, it is not a dot of its own
        out[0, 2] = 0.0
    return out


def read_npy(path: Path, layout: str = "auto") -> list[Ink]:
    """A strokes.npy in either layout: an object array of (T, 3) lines or one (T, 3) array."""
    if is_chars(path):
        raise SeqgenError(f"{path}: the transcription of {strokes_partner(path).name}, not "
                          f"strokes: give that file (the text is read from here)")
    arr = load_npy(path)
    if arr.dtype == object and arr.ndim >= 1:
        lines = list(arr)
    elif arr.dtype != object and arr.ndim == 2:
        lines = [arr]
    else:
        raise SeqgenError(f"{path}: expected an object array of (T, 3) stroke arrays or one "
                          f"(T, 3) array, got shape {arr.shape} ({arr.dtype})")
    if not lines:
        raise SeqgenError(f"{path}: no stroke lines")
    checked = [check_strokes(line, f"{path}: line {k + 1}") for k, line in enumerate(lines)]
    col = eos_column(np.concatenate(checked), path, layout)
    texts = _sentences(path, len(checked))
    return [Ink(_as_ink_rows(rows, col), text)
            for rows, text in zip(checked, texts, strict=True)]


def write_npy(docs: list[Ink], folder: Path) -> None:
    """The strokes.npy + sentences.txt format (rows of end_of_stroke, dx, dy)."""
    folder.mkdir(parents=True, exist_ok=True)
    arr = np.empty(len(docs), dtype=object)
    for i, d in enumerate(docs):
        arr[i] = d.strokes[:, [2, 0, 1]].astype(np.float32)
    np.save(folder / "strokes.npy", arr, allow_pickle=True)
    (folder / "sentences.txt").write_text("".join((d.text or "") + "\n" for d in docs), "utf-8")
