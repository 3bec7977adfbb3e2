"""A writer's own hand (issue 27): lines drawn on ``seqgen serve``'s writing pad or read from
files, saved as a style (``seqgen.styles``: one InkML file per line, with its text and, for
drawn ink, its pen times), and several lines of a style joined into one prime.

Drawn ink comes in screen pixels with y pointing down, as InkML, IAM-OnDB and SVG store it, and
is flipped as their readers flip it (ink's y points up). A prime is made at the training
data's density and scale: each line is thinned to about the training data's points per
character (every k-th point, so equal-time pen samples stay equal-time: the pen's speed is part
of a hand), then scaled so that its median pen-down step is the training data's, as
``--prime FILE`` scales a file's ink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_handwriting.ink import Ink, at_scale, from_polylines, thin

MAX_COORD = 1e6  # px; a drawn point beyond is refused


@dataclass
class Drawn(Ink):
    """Ink drawn on a screen, with each stroke's pen times (ms from the line's first point)."""

    times: list[np.ndarray] = field(default_factory=list)


def drawn_ink(strokes: Sequence[Sequence[Sequence[float]]], text: str) -> Drawn:
    """Pointer strokes (each a list of (x, y, t): pixels, y down; milliseconds) as ink."""
    polys, times = [], []
    for k, stroke in enumerate(strokes):
        try:
            a = np.asarray(stroke, np.float64).reshape(-1, 3)
        except (TypeError, ValueError):
            raise SeqgenError(f"stroke {k + 1}: points must be [x, y, t] numbers") from None
        if not (np.isfinite(a).all() and (np.abs(a[:, :2]) <= MAX_COORD).all()):
            raise SeqgenError(f"stroke {k + 1}: coordinates must be finite and within "
                              f"+-{MAX_COORD:g}")
        if len(a):
            polys.append(a[:, :2] * [1.0, -1.0])
            times.append(a[:, 2])
    if not polys:
        raise SeqgenError(f"the line {text[:40]!r} has no points: write it first")
    t0 = min(float(t[0]) for t in times)
    return Drawn(from_polylines(polys), text, None, [t - t0 for t in times])


def inkml_example(ink: Ink) -> str:
    """One line as InkML, y down as on a screen, with its transcription and, for drawn ink,
    a T channel (ms): ``seqgen_handwriting.markup`` reads it back as the same ink."""
    polys = [p * [1.0, -1.0] for p in ink.polylines()]
    times = ink.times if isinstance(ink, Drawn) and len(ink.times) == len(polys) else None
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<ink xmlns="http://www.w3.org/2003/InkML">', "<traceFormat>",
           '<channel name="X" type="decimal"/>', '<channel name="Y" type="decimal"/>']
    if times is not None:
        out.append('<channel name="T" type="integer" units="ms"/>')
    out.append("</traceFormat>")
    if ink.text is not None:
        out.append(f'<annotation type="transcription">{escape(ink.text)}</annotation>')
    for k, p in enumerate(polys):
        if times is not None:
            pts = ", ".join(f"{x:.2f} {y:.2f} {t:.0f}" for (x, y), t in zip(p, times[k],
                                                                           strict=True))
        else:
            pts = ", ".join(f"{x:.3f} {y:.3f}" for x, y in p)
        out.append(f"<trace>{pts}</trace>")
    out.append("</ink>")
    return "\n".join(out) + "\n"


def write_example(ink: Any, path: Path) -> None:
    if not isinstance(ink, Ink):
        raise SeqgenError(f"{path.name}: a handwriting style line must be ink")
    path.write_text(inkml_example(ink), encoding="utf-8")


def choose(texts: Sequence[str], width: int | None) -> list[int]:
    """The lines of a style a prime is made of, in writing order: the most recent first, as
    many as fit in ``width`` characters joined by spaces; where none fits (or the width is
    unknown), the shortest line alone (the most recent of equals)."""
    picked: list[int] = []
    total = 0
    for i in reversed(range(len(texts))):
        need = len(texts[i]) + (1 if picked else 0)
        if width and total + need <= width:
            picked.append(i)
            total += need
    if not picked and texts:
        picked = [min(reversed(range(len(texts))), key=lambda i: len(texts[i]))]
    return sorted(picked)


def fitted(ink: Ink, points_per_char: float, step: float, stride: int) -> Ink:
    """A line at the training data's density (about ``points_per_char``; without it, every
    ``stride``-th point) and scale (median pen-down ``step``)."""
    if points_per_char > 0 and ink.text:
        k = max(1, round(len(ink.strokes) / len(ink.text) / points_per_char))
    else:
        k = max(1, stride)
    thinned = thin(ink, k) if k > 1 else ink
    return Ink(at_scale(thinned.strokes, step), ink.text, ink.writer)


def joined(lines: Sequence[Ink]) -> Ink:
    """Lines as one line of ink: each after the one before (a pen-up move between, a
    character's width apart, their median heights level), the texts joined by spaces."""
    polys: list[np.ndarray] = []
    right = level = 0.0
    for k, ink in enumerate(lines):
        own = ink.polylines()
        pts = np.concatenate(own)
        mid = float(np.median(pts[:, 1]))
        if k == 0:
            shift, level = np.zeros(2), mid
        else:
            gap = float(np.ptp(pts[:, 0])) / max(len(ink.text or ""), 1)
            shift = np.array([right + gap - pts[:, 0].min(), level - mid])
        polys += [p + shift for p in own]
        right = float(pts[:, 0].max() + shift[0])
    return Ink(from_polylines(polys), " ".join(ink.text or "" for ink in lines))


def prime_of(domain: Any, documents: Sequence[Ink]) -> tuple[np.ndarray, str]:
    """A saved style as one prime: its most recent lines that fit in the model's line width
    (``domain.line_width()``), joined in writing order, at the training data's density and
    scale, encoded; and their texts joined by spaces."""
    docs = [d for d in documents if len(d.strokes)]
    if not docs:
        raise SeqgenError("the style has no ink")
    chosen = [docs[i] for i in choose([d.text or "" for d in docs], domain.line_width())]
    ink = joined([fitted(d, domain.points_per_char, domain.step, domain.options.stride)
                  for d in chosen])
    return domain.encode(ink), ink.text or ""


class OwnHand:
    """The handwriting domain's part in saved styles (``TextConditioned``'s style methods):
    ``HandwritingDomain`` takes it before ``TextConditioned``."""

    #: a saved style's lines are InkML files
    example_suffix: str | None = ".inkml"
    options: Any
    points_per_char: float

    def drawn(self, strokes: Sequence[Sequence[Sequence[float]]], text: str) -> Any:
        return drawn_ink(strokes, text)

    def read_examples(self, source: str) -> list[Any]:
        from seqgen_handwriting.readers import read_source

        return list(read_source(source, self.options.npy_layout)[0])

    def write_example(self, document: Any, path: Path) -> None:
        write_example(document, path)

    def prime_from(self, documents: Sequence[Any]) -> tuple[np.ndarray, str]:
        return prime_of(self, documents)

