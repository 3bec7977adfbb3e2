"""InkML and SVG-path readers (parsed with defusedxml, like every XML input)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_handwriting.ink import Ink
from seqgen_handwriting.readers import _float, _ink, _local, parse_xml

# ---- InkML ------------------------------------------------------------------------------------
_VALUE = re.compile(r"[!'\"]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[TF*?]")


def parse_trace(text: str, path: Path) -> np.ndarray:
    """An InkML <trace>: points separated by commas, values by spaces, with the explicit (!),
    first difference (') and second difference (") qualifiers. Returns (n, 2) x, y."""
    points: list[list[float]] = []
    mode: dict[int, str] = {}
    velocity: dict[int, float] = {}
    for raw in text.split(","):
        tokens = _VALUE.findall(raw)
        if not tokens:
            continue
        prev = points[-1] if points else []
        values = _trace_point(tokens, prev, mode, velocity)
        if len(values) < 2:
            raise SeqgenError(f"{path}: <trace> point {raw.strip()!r} has fewer than 2 values")
        if prev and len(values) != len(prev):
            values = (values + prev[len(values):])[:len(prev)]
        points.append(values)
    out = np.array([p[:2] for p in points], dtype=np.float64).reshape(-1, 2)
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


def _annotation(elem: Any) -> str | None:
    for child in elem:
        if _local(child.tag) == "annotation" and child.get("type") == "transcription":
            return (child.text or "").strip()
    return None


def read_inkml(path: Path) -> list[Ink]:
    """An InkML file: one document per <traceGroup> with a transcription, else one in all."""
    root = parse_xml(path)
    if _local(root.tag) != "ink":
        raise SeqgenError(f"{path}: the root element is <{_local(root.tag)}>, not <ink>")
    groups = [g for g in root.iter() if _local(g.tag) == "traceGroup" and _annotation(g)]
    units = [(g, _annotation(g)) for g in groups] or [(root, _annotation(root))]
    docs = []
    for elem, text in units:
        traces = [parse_trace(t.text or "", path) for t in elem.iter() if _local(t.tag) == "trace"]
        if not traces:
            raise SeqgenError(f"{path}: no <trace> elements")
        docs.append(_ink(traces, path, text))
    return docs


# ---- SVG --------------------------------------------------------------------------------------
_PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_path(d: str, path: Path) -> list[np.ndarray]:
    """SVG path data (M, L, H, V, Z, C, Q, absolute and relative) as polylines."""
    tokens = _PATH_TOKEN.findall(d)
    polys: list[list[tuple[float, float]]] = []
    cur = np.zeros(2)
    start = np.zeros(2)
    cmd = ""
    i = 0
    arity = {"M": 2, "L": 2, "H": 1, "V": 1, "Z": 0, "C": 6, "Q": 4}
    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd.upper() not in arity:
                raise SeqgenError(f"{path}: SVG path command {cmd!r} is not supported "
                                  f"(M, L, H, V, Z, C, Q are)")
            if cmd.upper() == "Z":
                if polys:
                    polys[-1].append((float(start[0]), float(start[1])))
                cur = start.copy()
                continue
        if not cmd:
            raise SeqgenError(f"{path}: SVG path data does not start with a command")
        n = arity[cmd.upper()]
        try:
            args = np.array([float(t) for t in tokens[i:i + n]])
        except ValueError:
            raise SeqgenError(f"{path}: SVG path data is malformed near {tokens[i]!r}") from None
        if len(args) < n or n == 0:
            raise SeqgenError(f"{path}: SVG path command {cmd!r} lacks arguments")
        i += n
        rel = cmd.islower()
        up = cmd.upper()
        if up == "H":
            args = np.array([args[0] + (cur[0] if rel else 0.0), cur[1]])
        elif up == "V":
            args = np.array([cur[0], args[0] + (cur[1] if rel else 0.0)])
        elif rel:
            args = args + np.tile(cur, n // 2)
        if up == "M":
            polys.append([])
            start = args[:2]
            cmd = "l" if rel else "L"  # further pairs after M are line-tos
            new = [args[:2]]
        elif up in "LHV":
            new = [args[:2]]
        else:  # Bezier curves, sampled at 8 points
            ctrl = np.vstack([cur, args.reshape(-1, 2)])
            t = np.linspace(0, 1, 9)[1:, None]
            if up == "C":
                new = list((1 - t) ** 3 * ctrl[0] + 3 * (1 - t) ** 2 * t * ctrl[1]
                           + 3 * (1 - t) * t ** 2 * ctrl[2] + t ** 3 * ctrl[3])
            else:
                new = list((1 - t) ** 2 * ctrl[0] + 2 * (1 - t) * t * ctrl[1] + t ** 2 * ctrl[2])
        if not polys:
            polys.append([(float(cur[0]), float(cur[1]))])
        polys[-1].extend((float(p[0]), float(p[1])) for p in new)
        cur = np.asarray(new[-1], dtype=np.float64)
    return [np.array(p, dtype=np.float64).reshape(-1, 2) for p in polys if p]


def _svg_strokes(elem: Any, path: Path) -> list[np.ndarray]:
    polys: list[np.ndarray] = []
    for e in elem.iter():
        tag = _local(e.tag)
        if tag == "path" and e.get("d"):
            polys.extend(parse_path(e.get("d"), path))
        elif tag in ("polyline", "line"):
            if tag == "line":
                nums = [e.get(k) for k in ("x1", "y1", "x2", "y2")]
            else:
                nums = _PATH_TOKEN.findall(e.get("points") or "")
            vals = [_float(v, path, f"<{tag}> coordinate") for v in nums]
            if len(vals) % 2:
                raise SeqgenError(f"{path}: <{tag}> has an odd number of coordinates "
                                  f"({len(vals)})")
            polys.append(np.array(vals, dtype=np.float64).reshape(-1, 2))
    return polys


def read_svg(path: Path) -> list[Ink]:
    """An SVG of ink paths: one document per <g data-text=...> line, else one for the file
    (its <title> is the transcription)."""
    root = parse_xml(path)
    if _local(root.tag) != "svg":
        raise SeqgenError(f"{path}: the root element is <{_local(root.tag)}>, not <svg>")
    lines = [g for g in root.iter() if _local(g.tag) == "g" and g.get("data-text") is not None]
    if lines:
        return [_ink(_svg_strokes(g, path), path, g.get("data-text")) for g in lines]
    title = next(((e.text or "").strip() for e in root if _local(e.tag) == "title"), None)
    return [_ink(_svg_strokes(root, path), path, title or None)]
