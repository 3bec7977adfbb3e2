"""Readers for online handwriting: IAM-OnDB lineStrokes XML and the dispatch by suffix
(strokes.npy is read in ``npy``, InkML in ``markup``, SVG in ``svg``).

Every XML file is parsed with defusedxml (no entity expansion, no DTDs, no external
references). Every problem with a file is a one-line SeqgenError naming the file. All readers
return ``Ink`` documents with y pointing up (IAM-OnDB, InkML and SVG use screen coordinates,
y down, and are flipped).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from seqgen.engine.files import discover, no_files
from seqgen.engine.status import counted
from seqgen.errors import SeqgenError
from seqgen_handwriting.ink import Ink
from seqgen_handwriting.xmlink import ink_of, local_name, number, parse_xml

SUFFIXES = (".xml", ".inkml", ".svg", ".npy")


# ---- IAM-OnDB ---------------------------------------------------------------------------------
def read_iam(path: Path) -> Ink:
    """One IAM-OnDB lineStrokes file (``<StrokeSet><Stroke><Point x= y= time=>``)."""
    root = parse_xml(path)
    strokes = [e for e in root.iter() if local_name(e.tag) == "Stroke"]
    if not strokes:
        raise SeqgenError(f"{path}: no <Stroke> elements: not an IAM-OnDB lineStrokes file")
    polylines = []
    for k, s in enumerate(strokes):
        pts = [(number(p.get("x"), path, f"stroke {k + 1} x"),
                number(p.get("y"), path, f"stroke {k + 1} y"))
               for p in s if local_name(p.tag) == "Point"]
        polylines.append(np.array(pts, dtype=np.float64).reshape(-1, 2))
    writer = next((e.get("writerID") for e in root.iter() if e.get("writerID")), "")
    text = iam_transcription(path)
    known = re.fullmatch(r"[0-9]{1,18}", writer) is not None  # not "²", not 5000 digits
    return ink_of(polylines, path, text, int(writer) if known else None)


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


# ---- dispatch ---------------------------------------------------------------------------------
def read_file(path: Path, npy_layout: str = "auto") -> list[Ink]:
    """Every line of ink in one file (npy_layout: the column order of a (T, 3) .npy)."""
    from seqgen_handwriting.markup import read_inkml
    from seqgen_handwriting.npy import read_npy
    from seqgen_handwriting.svg import read_svg

    suffix = path.suffix.lower()
    if suffix == ".xml":
        return [read_iam(path)]
    if suffix == ".inkml":
        return read_inkml(path)
    if suffix == ".svg":
        return read_svg(path)
    if suffix == ".npy":
        return read_npy(path, npy_layout)
    raise SeqgenError(f"{path}: cannot read {suffix or 'files without a suffix'}; "
                      f"handwriting reads {', '.join(SUFFIXES)}")


def source_files(source: str) -> list[Path]:
    """The ink files of a --data source: a file, a directory (searched recursively) or a glob."""
    found = _without_transcriptions(discover(source, SUFFIXES, "handwriting"))
    if not found:  # only transcriptions
        raise SeqgenError(no_files(source, SUFFIXES, "handwriting"))
    return found


def _without_transcriptions(files: list[Path]) -> list[Path]:
    """Drop the -chars.npy files: each is read as the text of its -strokes.npy, never as ink."""
    from seqgen.plugins import warn
    from seqgen_handwriting.npy import is_chars, strokes_partner

    for f in files:
        if is_chars(f) and not strokes_partner(f).is_file():
            warn(f"{f}: a transcription with no {strokes_partner(f).name} beside it: skipped")
    return [f for f in files if not is_chars(f)]


def read_source(source: str, npy_layout: str = "auto") -> tuple[list[Ink], str]:
    """All documents of a --data source and a key identifying the contents."""
    from seqgen_handwriting.npy import companions

    h = hashlib.sha256()
    docs: list[Ink] = []
    files = source_files(source)
    for f in counted(files, "reading the handwriting files", unit="files"):
        h.update(f"{f.name}\0{f.stat().st_size}\0".encode())
        h.update(f.read_bytes())
        aside = _ascii_path(f)
        beside = companions(f) if f.suffix.lower() == ".npy" else [aside] if aside else []
        for other in beside:  # the transcriptions: a changed text is a changed corpus
            if other.is_file():
                h.update(other.read_bytes())
        docs.extend(read_file(f, npy_layout))
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

