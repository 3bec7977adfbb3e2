"""Ink and Page: the handwriting documents, and conversions between offsets and polylines.

An ``Ink`` is one line of handwriting: float32 rows of (dx, dy, end_of_stroke), y pointing up,
each row the offset from the previous point (the first row is the offset from the origin); a
row with end_of_stroke = 1 is the last point of a stroke, so the next row is a pen-up move.
A ``Page`` is several lines written one under another (multi-line --text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from seqgen.errors import SeqgenError


@dataclass
class Ink:
    strokes: np.ndarray
    text: str | None = None
    writer: int | None = None

    def polylines(self) -> list[np.ndarray]:
        """The strokes as absolute (n, 2) point arrays, y up."""
        return to_polylines(self.strokes)

    @classmethod
    def from_polylines(cls, polylines: Sequence[np.ndarray], text: str | None = None,
                       writer: int | None = None) -> Ink:
        return cls(from_polylines(polylines), text, writer)

    def __len__(self) -> int:
        return len(self.strokes)


@dataclass
class Page:
    lines: list[Ink] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text or "" for line in self.lines)


def to_polylines(strokes: np.ndarray) -> list[np.ndarray]:
    """(T, 3) offset rows -> absolute polylines, split after every end-of-stroke row."""
    arr = np.asarray(strokes, dtype=np.float64)
    if len(arr) == 0:
        return []
    pts = np.cumsum(arr[:, :2], axis=0)
    ends = np.flatnonzero(arr[:, 2] > 0.5) + 1
    return [p for p in np.split(pts, ends) if len(p)]


def from_polylines(polylines: Sequence[np.ndarray]) -> np.ndarray:
    """Absolute polylines -> (T, 3) float32 offset rows; the first point becomes the origin."""
    polys = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polylines]
    polys = [p for p in polys if len(p)]
    if not polys:
        return np.zeros((0, 3), np.float32)
    pts = np.concatenate(polys)
    out = np.zeros((len(pts), 3), np.float32)
    out[1:, :2] = np.diff(pts, axis=0)
    out[np.cumsum([len(p) for p in polys]) - 1, 2] = 1.0
    return out


def thin(ink: Ink, stride: int) -> Ink:
    """Every ``stride``-th point of each stroke, its first and last always kept."""
    polys = []
    for p in ink.polylines():
        keep = np.unique(np.r_[np.arange(0, len(p), stride), len(p) - 1])
        polys.append(p[keep])
    return Ink(from_polylines(polys), ink.text, ink.writer)


def scale_to(strokes: np.ndarray, step: float) -> float:
    """The factor that makes the median pen-down step of ``strokes`` ``step`` (1 if none)."""
    r = np.asarray(strokes, np.float64)
    pen_down = r[1:][r[:-1, 2] < 0.5, :2]
    steps = np.hypot(pen_down[:, 0], pen_down[:, 1])
    return step / float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0


def at_scale(strokes: np.ndarray, step: float) -> np.ndarray:
    """Offsets scaled so that the median pen-down step is ``step`` (a model's training scale):
    ink of any origin (screen pixels, sjvasquez's normalised offsets, IAM's units) then means
    what the model's ink means."""
    out = np.asarray(strokes, np.float32).copy()
    out[:, :2] *= scale_to(out, step)
    return out


def check_strokes(arr: object, where: str) -> np.ndarray:
    """Validate a (T, 3) stroke array read from a file: shape, finiteness, not empty."""
    try:
        a = np.asarray(arr)
    except (ValueError, TypeError):  # ragged nested lists from an object array's pickle
        raise SeqgenError(f"{where}: strokes must be a (T, 3) array of numbers") from None
    if a.dtype == object or a.ndim != 2 or a.shape[1] != 3:
        raise SeqgenError(f"{where}: strokes must be a (T, 3) array of numbers, "
                          f"got shape {a.shape} ({a.dtype})")
    if len(a) == 0:
        raise SeqgenError(f"{where}: empty strokes (no points)")
    try:
        a = a.astype(np.float32)
    except (TypeError, ValueError):
        raise SeqgenError(f"{where}: strokes are not numbers ({a.dtype})") from None
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        raise SeqgenError(f"{where}: strokes contain NaN or infinite values "
                          f"(first at row {int(np.flatnonzero(bad)[0])})")
    return a
