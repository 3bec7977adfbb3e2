"""The SVG reader: the drawn lines of an SVG as pen strokes.

The file is parsed with defusedxml first (no entities, no DTDs, like every XML input), every
path's data and point list is checked (svgelements stops at the first error without a word,
so a damaged path would lose its tail silently), then the safe tree goes to svgelements, which
applies what a browser would: ``transform`` attributes (nested groups compose), the viewBox,
``<use>``, CSS styles, arcs and the S/T shorthands. Each subpath is a stroke; a subpath that is
a bare moveto (a leading ``M0,0``) draws nothing and is dropped.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from seqgen.errors import SeqgenError
from seqgen.plugins import warn
from seqgen_handwriting.ink import Ink
from seqgen_handwriting.xmlink import ink_of, local_name, parse_xml

CURVE_POINTS = 8  # points sampled on each Bezier segment
ARC_STEP = math.pi / 8  # one sampled point per this much of an arc's turn
LINE = "data-seqgen-line"  # set on each <g data-text> line; svgelements hands it down
FILLED = "data-seqgen-filled"  # set on filled outlines, to warn about them
#: what an SVG draws that is not a line: skipped, with a warning naming the file
NOT_INK = ("text", "image", "foreignObject", "video", "audio")
#: containers drawn only where referenced (svgelements would draw some of them in place)
UNDRAWN = ("symbol", "marker", "mask", "clipPath", "pattern")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def read_svg(path: Path) -> list[Ink]:
    """An SVG of ink: one document per <g data-text=...> line, else one for the file (its
    <title> is the transcription)."""
    root = parse_xml(path)
    if local_name(root.tag) != "svg":
        raise SeqgenError(f"{path}: the root element is <{local_name(root.tag)}>, not <svg>")
    _check(root, path)
    _mark_filled(root, None, None)
    _hide_undrawn(root)
    lines = [g for g in root.iter() if local_name(g.tag) == "g" and g.get("data-text") is not None]
    for k, g in enumerate(lines):
        g.set(LINE, str(k))
    shapes = _shapes(root, path)
    if lines:
        per_line: list[list[np.ndarray]] = [[] for _ in lines]
        for line, polys in shapes:
            if line is not None:
                per_line[line].extend(polys)
        return [ink_of(polys, path, g.get("data-text"))
                for polys, g in zip(per_line, lines, strict=True)]
    title = next(((e.text or "").strip() for e in root if local_name(e.tag) == "title"), None)
    return [ink_of([p for _, polys in shapes for p in polys], path, title or None)]


# ---- checks on the raw tree -------------------------------------------------------------------
def _check(root: Any, path: Path) -> None:
    """Refuse damaged path data and point lists; warn for what is not ink."""
    skipped = sorted({local_name(e.tag) for e in root.iter() if local_name(e.tag) in NOT_INK})
    if skipped:
        warn(f"{path}: {', '.join(f'<{t}>' for t in skipped)} skipped: only paths, lines and "
             f"stroked shapes are read as pen strokes")
    for e in root.iter():
        tag = local_name(e.tag)
        if tag == "path" and (e.get("d") or "").strip():
            check_path_data(e.get("d"), path)
        elif tag in ("polyline", "polygon"):
            _check_points(e.get("points") or "", tag, path)


def _paint(e: Any, name: str) -> str | None:
    """The fill or stroke an element declares (attribute or style), if any."""
    m = re.search(rf"(?:^|;)\s*{name}\s*:\s*([^;]+)", e.get("style") or "")
    value = m.group(1) if m else e.get(name)
    return value.strip().lower() if value is not None else None


def _mark_filled(e: Any, fill: str | None, stroke: str | None) -> None:
    """Mark the shapes whose declared paint is a fill and no stroke (potrace's outlines).

    An undeclared fill is the SVG default, black, which hand-written SVGs of pen paths leave
    as it is: those are not flagged.
    """
    fill, stroke = _paint(e, "fill") or fill, _paint(e, "stroke") or stroke
    if local_name(e.tag) in ("path", "polygon") and fill not in (None, "none") \
            and stroke in (None, "none"):
        e.set(FILLED, "1")
    for child in e:
        _mark_filled(child, fill, stroke)


def _hide_undrawn(root: Any) -> None:
    """Move <symbol>, <marker>, ... into a <defs>: <use> still finds them there."""
    parents = {child: parent for parent in root.iter() for child in parent}
    undrawn = [e for e in root.iter() if local_name(e.tag) in UNDRAWN]
    if not undrawn:
        return
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    defs = ET.SubElement(root, f"{ns}defs")
    for e in undrawn:
        if e in parents and local_name(parents[e].tag) not in (*UNDRAWN, "defs"):
            parents[e].remove(e)
            defs.append(e)


def check_path_data(d: str, path: Path) -> None:
    """Path data that svgelements reads to the end, starting with a moveto."""
    import svgelements as se

    if d.strip()[0] not in "Mm":
        raise SeqgenError(f"{path}: SVG path data does not start with a moveto (M): "
                          f"{d.strip()[:20]!r}")
    lexer = se.SVGLexicalParser()
    try:
        lexer.parse(se.Path(), d)
    except Exception:  # noqa: BLE001 - its parser fails with ValueError, TypeError and
        # AttributeError on missing arguments
        raise SeqgenError(f"{path}: SVG path data is malformed or lacks arguments near "
                          f"{d[max(lexer.pos - 10, 0):lexer.pos + 10].strip()!r}") from None
    rest = d[lexer.pos:].strip(" \t\r\n,")
    if rest:
        raise SeqgenError(f"{path}: SVG path data is malformed near {rest[:20]!r}")


def _check_points(points: str, tag: str, path: Path) -> None:
    values = [v for v in re.split(r"[\s,]+", points.strip()) if v]
    bad = next((v for v in values if not _NUMBER.fullmatch(v)), None)
    if bad is not None:
        raise SeqgenError(f"{path}: <{tag}> coordinate: expected a number, got {bad!r}")
    if len(values) % 2:
        raise SeqgenError(f"{path}: <{tag}> has an odd number of coordinates ({len(values)})")


# ---- geometry, by svgelements ---------------------------------------------------------------
def _shapes(root: Any, path: Path) -> list[tuple[int | None, list[Any]]]:
    """(line index or None, polylines) for each drawn shape, transforms applied."""
    import svgelements as se

    data = ET.tostring(root)  # the tree defusedxml parsed: no DTD, no entity left to expand
    out: list[tuple[int | None, list[Any]]] = []
    outlines = discs = 0
    try:
        doc = se.SVG.parse(io.BytesIO(data), on_error="raise")
        for e in doc.elements():
            if not isinstance(e, se.Shape):
                continue
            stroked = e.stroke is not None and e.stroke.value is not None
            if not stroked and isinstance(e, (se.Rect, se.Circle, se.Ellipse)):
                discs += not _background(e)  # a fill, not a line of ink
                continue
            outlines += not stroked and e.values.get(FILLED) is not None
            line = e.values.get(LINE)
            out.append((int(line) if line is not None else None, polylines(e)))
    except SeqgenError:
        raise
    except Exception as exc:  # noqa: BLE001 - svgelements raises ValueError, IndexError,
        # RecursionError (a <use> that uses itself), ... on what it cannot read
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise SeqgenError(f"{path}: not a readable SVG ({type(exc).__name__}: {why})") from None
    if outlines:
        warn(f"{path}: {outlines} filled outline(s) (fill, no stroke) read as their outline: "
             f"an outline is traced around the letter, it is not the pen's path")
    if discs:
        warn(f"{path}: {discs} filled <rect>/<circle>/<ellipse> without a stroke skipped: "
             f"a fill is not a pen stroke")
    return out


def _background(e: Any) -> bool:
    """A page background: a <rect width="100%" height="100%">, as seqgen's own SVGs have."""
    return bool(e.values.get("width") == "100%" and e.values.get("height") == "100%")


def polylines(shape: Any) -> list[np.ndarray]:
    """A shape's subpaths as (n, 2) point arrays, transforms applied, curves sampled."""
    import svgelements as se

    polys: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for seg in shape.segments(transformed=True):
        if isinstance(seg, se.Move) or not cur:
            if len(cur) > 1:  # a subpath of a bare moveto draws nothing
                polys.append(cur)
            cur = [_xy(seg.end if isinstance(seg, se.Move) else seg.start)]
            if isinstance(seg, se.Move):
                continue
        if isinstance(seg, se.Close | se.Line):
            end = _xy(seg.end)
            if end != cur[-1] or len(cur) == 1:  # M x y Z is a dot
                cur.append(end)
        else:
            n = (min(16, max(4, math.ceil(abs(seg.sweep) / ARC_STEP)))
                 if isinstance(seg, se.Arc) else CURVE_POINTS)
            cur.extend(_xy(p) for p in seg.npoint(np.linspace(0.0, 1.0, n + 1)[1:]))
    if len(cur) > 1:
        polys.append(cur)
    return [np.array(poly, np.float64).reshape(-1, 2) for poly in polys]


def _xy(point: Any) -> tuple[float, float]:
    return float(point[0]), float(point[1])
