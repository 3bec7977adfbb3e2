"""The InkML reader (parsed with defusedxml, like every XML input).

Transcriptions: ``<annotation type="transcription">``, CROHME's ``<annotation type="truth">``
and ImadocSen's ``<annotationXML type="Ground truth"><label>``. X and Y are read at the
positions their ``<traceFormat>`` declares (T first, Y before X, ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_handwriting.ink import Ink
from seqgen_handwriting.xmlink import ink_of, local_name, parse_xml

_VALUE = re.compile(r"[!'\"]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[TF*?]")


def parse_trace(text: str, path: Path, xy: tuple[int, int] = (0, 1)) -> np.ndarray:
    """An InkML <trace>: points separated by commas, values by spaces, with the explicit (!),
    first difference (') and second difference (") qualifiers. Returns (n, 2) x, y, taken
    from the channels at positions ``xy``."""
    need = max(xy) + 1
    points: list[list[float]] = []
    mode: dict[int, str] = {}
    velocity: dict[int, float] = {}
    for raw in text.split(","):
        tokens = _VALUE.findall(raw)
        if not tokens:
            continue
        prev = points[-1] if points else []
        values = _trace_point(tokens, prev, mode, velocity)
        if len(values) < need:
            raise SeqgenError(f"{path}: <trace> point {raw.strip()!r} has fewer than {need} "
                              f"values")
        if prev and len(values) != len(prev):
            values = (values + prev[len(values):])[:len(prev)]
        points.append(values)
    out = np.array([[p[xy[0]], p[xy[1]]] for p in points], dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(out).all():
        raise SeqgenError(f"{path}: <trace> has NaN or infinite coordinates")
    return out


def _trace_point(tokens: list[str], prev: list[float], mode: dict[int, str],
                 velocity: dict[int, float]) -> list[float]:
    """The values of one trace point; a channel the previous point lacks starts afresh."""
    values: list[float] = []
    for tok in tokens:
        ch = len(values)
        if tok in ("!", "'", '"'):
            mode[ch] = tok
            continue
        last = prev[ch] if ch < len(prev) else None
        if tok in ("T", "F"):
            value = float(tok == "T")
        elif tok in ("*", "?"):
            value = last if last is not None else 0.0
        else:
            value = float(tok)
        m = mode.get(ch, "!")
        if last is not None and m == "'":
            velocity[ch] = value
            value = last + value
        elif last is not None and m == '"':
            velocity[ch] = velocity.get(ch, 0.0) + value
            value = last + velocity[ch]
        values.append(value)
    return values


#: annotation types that hold the text: seqgen's own and CROHME's (type="truth")
_TEXT_TYPES = ("transcription", "truth")


def _annotation(elem: Any) -> str | None:
    """The transcription among ``elem``'s own annotations, if any."""
    found: dict[str, str] = {}
    for child in elem:
        tag, kind = local_name(child.tag), (child.get("type") or "").strip().lower()
        if tag == "annotation" and kind in _TEXT_TYPES:
            found.setdefault(kind, (child.text or "").strip())
        elif tag == "annotationXML" and kind in ("ground truth", *_TEXT_TYPES):
            # ImadocSen: <annotationXML type="Ground truth"><type/><label>text</label>; CROHME's
            # <annotationXML type="truth"> holds MathML and no <label>, so it is passed over
            label = next((e for e in child.iter() if local_name(e.tag) == "label"), None)
            if label is not None:
                found.setdefault("label", (label.text or "").strip())
    return next((found[k] for k in (*_TEXT_TYPES, "label") if found.get(k)), None)


def _units(elem: Any) -> list[Any]:
    """The outermost <traceGroup>s with a transcription and traces of their own.

    A sentence whose words are labelled groups inside it is one line; CROHME's per-symbol
    groups (traceView references, no traces) are not lines: the file is.
    """
    out = []
    for child in elem:
        if local_name(child.tag) != "traceGroup":
            continue
        if _annotation(child) and any(local_name(t.tag) == "trace" for t in child.iter()):
            out.append(child)
        else:
            out.extend(_units(child))
    return out


def _xy(fmt: Any, path: Path) -> tuple[int, int] | None:
    """The positions of X and Y among a <traceFormat>'s channels (None: it declares none)."""
    # direct <channel> children only: intermittent channels come after the regular ones
    names = [(c.get("name") or "").strip().upper() for c in fmt if local_name(c.tag) == "channel"]
    if not names:
        return None
    if "X" not in names or "Y" not in names:
        raise SeqgenError(f"{path}: <traceFormat> declares channels {', '.join(names)}, "
                          f"without X and Y")
    return names.index("X"), names.index("Y")


def _ids(root: Any) -> dict[str, Any]:
    xml_id = "{http://www.w3.org/XML/1998/namespace}id"
    return {i: e for e in root.iter() for i in (e.get("id"), e.get(xml_id)) if i}


def _context_format(ref: str | None, ids: dict[str, Any]) -> Any:
    """The <traceFormat> a contextRef leads to (context -> traceFormatRef or inkSource)."""
    elem = ids.get((ref or "").lstrip("#"))
    for _ in range(4):  # context -> inkSource -> traceFormat, with no reference loops
        if elem is None or local_name(elem.tag) == "traceFormat":
            return elem
        inner = next((c for c in elem if local_name(c.tag) in ("traceFormat", "inkSource")), None)
        ref = elem.get("traceFormatRef") or elem.get("inkSourceRef")
        elem = inner if inner is not None else ids.get((ref or "").lstrip("#"))
    return None


def _channel_reader(root: Any, path: Path) -> Any:
    """A function (trace, group) -> the (x, y) channel positions for that trace."""
    fmts = [f for f in root.iter() if local_name(f.tag) == "traceFormat"]
    orders = {xy for xy in (_xy(f, path) for f in fmts) if xy is not None}
    if len(orders) <= 1:
        only = next(iter(orders), (0, 1))
        return lambda trace, group: only
    ids = _ids(root)

    def resolve(trace: Any, group: Any) -> tuple[int, int]:
        for ref in (trace.get("contextRef"), group.get("contextRef")):
            fmt = _context_format(ref, ids) if ref else None
            xy = _xy(fmt, path) if fmt is not None else None
            if xy is not None:
                return xy
        raise SeqgenError(f"{path}: its <traceFormat>s put X and Y at different positions and "
                          f"a <trace> has no contextRef leading to one: cannot tell X from Y")
    return resolve


def read_inkml(path: Path) -> list[Ink]:
    """An InkML file: one document per <traceGroup> with a transcription, else one in all."""
    root = parse_xml(path)
    if local_name(root.tag) != "ink":
        raise SeqgenError(f"{path}: the root element is <{local_name(root.tag)}>, not <ink>")
    channels = _channel_reader(root, path)
    units = [(g, _annotation(g)) for g in _units(root)] or [(root, _annotation(root))]
    docs = []
    for elem, text in units:
        traces = [parse_trace(t.text or "", path, channels(t, elem))
                  for t in elem.iter() if local_name(t.tag) == "trace"]
        if not traces:
            raise SeqgenError(f"{path}: no <trace> elements")
        docs.append(ink_of(traces, path, text))
    return docs
