"""Renderers: SVG (round-capped paths, plotter polylines, or animated in writing order), PNG
(cairosvg, else matplotlib) and InkML. Each accepts one ``Ink`` line or a ``Page`` of lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from seqgen_handwriting.ink import Ink, Page

LINE_HEIGHT = 60.0  # px: the height of a line's body (5th to 95th percentile of detrended y)
MARGIN = 20.0


@dataclass
class Style:
    stroke_width: float = 2.0
    color: str = "black"
    background: str = "white"
    plotter: bool = False
    animate: bool = False
    speed: float = 200.0  # points per second when animated
    smooth: int = 4  # sub-steps per segment of the drawn curve (0: straight segments)


@dataclass
class Laid:
    """A page laid out in SVG coordinates (y down, px)."""

    lines: list[tuple[str | None, list[np.ndarray], list[int]]]  # text, polylines, points each
    width: float
    height: float


def _lines(sample: Any) -> list[Ink]:
    if isinstance(sample, Page):
        return list(sample.lines)
    if isinstance(sample, Ink):
        return [sample]
    raise TypeError(f"cannot render {type(sample).__name__}: expected Ink or Page")


def _body(p: np.ndarray) -> float:
    """The height of a line's body: 5th to 95th percentile of y around its linear trend, so
    that a line that drifts up or down is not drawn tiny."""
    if len(p) > 2 and np.ptp(p[:, 0]) > 0:
        slope, icept = np.polyfit(p[:, 0], p[:, 1], 1)
        y = p[:, 1] - (slope * p[:, 0] + icept)
    else:
        y = p[:, 1]
    return float(np.subtract(*np.percentile(y, [95, 5])))


def smooth_curve(p: np.ndarray, k: int) -> np.ndarray:
    """A centripetal Catmull-Rom curve through the points, k sub-steps per segment.

    Centripetal parametrisation (alpha = 0.5) neither overshoots nor loops at the sharp turns
    of handwriting; the curve passes through every original point.
    """
    if k <= 1 or len(p) < 3:
        return p
    q = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])  # (n + 2, 2), ends extended
    d = np.maximum(np.hypot(*np.diff(q, axis=0).T), 1e-9) ** 0.5  # knot intervals
    t = np.concatenate([[0.0], np.cumsum(d)])
    P0, P1, P2, P3 = (q[i:len(q) - 3 + i, None] for i in range(4))  # (n - 1, 1, 2) each
    t0, t1, t2, t3 = (t[i:len(t) - 3 + i, None, None] for i in range(4))
    s = (np.arange(k) / k)[None, :, None]
    tt = t1 + s * (t2 - t1)  # (n - 1, k, 1)
    A1 = ((t1 - tt) * P0 + (tt - t0) * P1) / (t1 - t0)
    A2 = ((t2 - tt) * P1 + (tt - t1) * P2) / (t2 - t1)
    A3 = ((t3 - tt) * P2 + (tt - t2) * P3) / (t3 - t2)
    B1 = ((t2 - tt) * A1 + (tt - t0) * A2) / (t2 - t0)
    B2 = ((t3 - tt) * A2 + (tt - t1) * A3) / (t3 - t1)
    C = ((t2 - tt) * B1 + (tt - t1) * B2) / (t2 - t1)
    return np.vstack([C.reshape(-1, 2), p[-1:]])


def layout(sample: Any, smooth: int = 0) -> Laid:
    """Scale every line alike (median body height -> LINE_HEIGHT px) and stack them."""
    inks = _lines(sample)
    polys = [[p * [1.0, -1.0] for p in ink.polylines()] for ink in inks]
    bodies = [_body(np.concatenate(ps)) for ps in polys if ps]
    body = float(np.median(bodies)) if bodies else 0.0
    scale = LINE_HEIGHT / body if body > 1e-9 else 1.0
    laid: list[tuple[str | None, list[np.ndarray], list[int]]] = []
    y = MARGIN
    width = 0.0
    for ink, ps in zip(inks, polys, strict=True):
        if not ps:
            laid.append((ink.text, [], []))
            y += LINE_HEIGHT * 1.5
            continue
        allp = np.concatenate(ps) * scale
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        shift = np.array([MARGIN - lo[0], y - lo[1]])
        laid.append((ink.text, [smooth_curve(p * scale + shift, smooth) for p in ps],
                     [len(p) for p in ps]))
        width = max(width, float(hi[0] - lo[0]))
        y += max(float(hi[1] - lo[1]), LINE_HEIGHT) + LINE_HEIGHT * 0.5
    return Laid(laid, max(width, 1.0) + 2 * MARGIN, max(y - LINE_HEIGHT * 0.5, 1.0) + MARGIN)


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _d(p: np.ndarray) -> str:
    if len(p) == 1:  # a dot: a zero-length segment shows as a round cap
        return f"M{_fmt(p[0, 0])} {_fmt(p[0, 1])}h0"
    pts = " ".join(f"{_fmt(x)} {_fmt(y)}" for x, y in p[1:])
    return f"M{_fmt(p[0, 0])} {_fmt(p[0, 1])}L{pts}"


def svg_text(sample: Any, style: Style | None = None) -> str:
    """The SVG document for an Ink or a Page."""
    st = style or Style()
    laid = layout(sample, st.smooth)
    w, h = _fmt(laid.width), _fmt(laid.height)
    title = "\n".join(t or "" for t, _, _ in laid.lines).strip()
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}">']
    if title:
        out.append(f"<title>{escape(title)}</title>")
    if st.background != "none" and not st.plotter:
        out.append(f'<rect width="100%" height="100%" fill={quoteattr(st.background)}/>')
    paint = f'fill="none" stroke={quoteattr(st.color)} stroke-width="{_fmt(st.stroke_width)}"'
    if not st.plotter:
        paint += ' stroke-linecap="round" stroke-linejoin="round"'
    clock = 0.0
    for text, polys, counts in laid.lines:
        out.append(f'<g class="line" data-text={quoteattr(text or "")} {paint}>')
        for p, n in zip(polys, counts, strict=True):
            if st.plotter:
                pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in p)
                out.append(f'<polyline points="{pts}"/>')
            elif st.animate:
                length = float(np.hypot(*np.diff(p, axis=0).T).sum()) + 0.01 if len(p) > 1 else 0.01
                dur = max(n, 1) / st.speed
                dash = _fmt(length + 1)
                out.append(f'<path d="{_d(p)}" stroke-dasharray="{dash}" '
                           f'stroke-dashoffset="{dash}"><animate attributeName="stroke-dashoffset" '
                           f'from="{dash}" to="0" begin="{clock:.3f}s" dur="{dur:.3f}s" '
                           f'fill="freeze"/></path>')
                clock += dur + 1 / st.speed  # the pen-up move takes one point's time
            else:
                out.append(f'<path d="{_d(p)}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_svg(sample: Any, path: Path, style: Style | None = None) -> None:
    path.write_text(svg_text(sample, style), encoding="utf-8")


def write_png(sample: Any, path: Path, style: Style | None = None) -> None:
    """PNG through cairosvg (the SVG as a browser draws it); matplotlib where Cairo is missing."""
    st = style or Style()
    static = Style(st.stroke_width, st.color, st.background, st.plotter, False, st.speed,
                   st.smooth)
    try:
        import cairosvg

        cairosvg.svg2png(bytestring=svg_text(sample, static).encode("utf-8"), write_to=str(path))
        return
    except (ImportError, OSError):  # no cairosvg, or no libcairo on this system
        pass
    _png_matplotlib(sample, path, static)


def _png_matplotlib(sample: Any, path: Path, st: Style) -> None:
    # a Figure of its own, not pyplot's: it draws to PNG with no backend chosen (so none of
    # engine.plot.pyplot's) and leaves no figure behind in pyplot's registry
    from matplotlib.figure import Figure

    laid = layout(sample, st.smooth)
    dpi = 100
    fig = Figure(figsize=(laid.width / dpi, laid.height / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, laid.width)
    ax.set_ylim(laid.height, 0)
    ax.axis("off")
    bg = st.background if st.background != "none" else "white"
    fig.patch.set_facecolor(bg)
    for _, polys, _ in laid.lines:
        for p in polys:
            ax.plot(p[:, 0], p[:, 1], color=st.color, lw=st.stroke_width * 72 / dpi,
                    solid_capstyle="round", solid_joinstyle="round", marker="o" if len(p) == 1
                    else None, ms=st.stroke_width * 72 / dpi)
    fig.savefig(str(path), format="png", dpi=dpi, facecolor=bg)


def inkml_text(sample: Any) -> str:
    """InkML: one <traceGroup> per line with its transcription; y down, like a screen."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<ink xmlns="http://www.w3.org/2003/InkML">',
           "<traceFormat>", '<channel name="X" type="decimal"/>',
           '<channel name="Y" type="decimal"/>', "</traceFormat>"]
    page = _lines(sample)
    top = 0.0
    for k, ink in enumerate(page):
        polys = [p * [1.0, -1.0] for p in ink.polylines()]
        if polys:
            allp = np.concatenate(polys)
            shift = np.array([0.0, top - allp[:, 1].min()])
            top += float(np.ptp(allp[:, 1])) * 1.5 + 1.0
            polys = [p + shift for p in polys]
        out.append(f'<traceGroup xml:id="line{k + 1}">')
        if ink.text is not None:
            out.append(f'<annotation type="transcription">{escape(ink.text)}</annotation>')
        for p in polys:
            out.append("<trace>" + ", ".join(f"{x:.3f} {y:.3f}" for x, y in p) + "</trace>")
        out.append("</traceGroup>")
    if len(page) == 1 and page[0].text is not None:
        out.insert(6, f'<annotation type="transcription">{escape(page[0].text)}</annotation>')
    out.append("</ink>")
    return "\n".join(out) + "\n"


def write_inkml(sample: Any, path: Path) -> None:
    path.write_text(inkml_text(sample), encoding="utf-8")
