"""Statistics of samples against the corpus: does the model copy or invent?

Per piece: note density, polyphony, pitch range; per set: the pitch-class histogram; and the
fraction of the samples' event n-grams found verbatim in the training pieces. The held-out
pieces (the run's validation split) give the reference: how much real, unseen music of the same
style shares with the training set by chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqgen_music.augment import pitch_class_histogram

_MULT = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class SetStats:
    pieces: int
    notes_per_second: float
    polyphony: float
    pitch_range: float
    lowest: int
    highest: int
    seconds: float
    pitch_classes: np.ndarray  # (12,)


def polyphony(notes: np.ndarray) -> float:
    """Mean number of notes sounding while at least one sounds."""
    if not len(notes):
        return 0.0
    order = np.argsort(notes[:, 0])
    s, e = notes[order, 0], notes[order, 1]
    covered, cur_s, cur_e = 0.0, s[0], e[0]
    for a, b in zip(s[1:].tolist(), e[1:].tolist(), strict=True):
        if a > cur_e:
            covered += cur_e - cur_s
            cur_s, cur_e = a, b
        else:
            cur_e = max(cur_e, b)
    covered += cur_e - cur_s
    return float((e - s).sum() / covered) if covered > 0 else 0.0


def set_stats(notes_list: Sequence[np.ndarray]) -> SetStats:
    """Figures averaged over pieces (histogram over all notes, weighted by duration)."""
    full = [n for n in notes_list if len(n)]
    if not full:
        return SetStats(0, 0.0, 0.0, 0.0, 0, 0, 0.0, np.zeros(12))
    secs = [float(n[:, 1].max() - n[:, 0].min()) for n in full]
    dens = [len(n) / max(s, 1e-9) for n, s in zip(full, secs, strict=True)]
    allnotes = np.concatenate(full)
    return SetStats(
        pieces=len(full), notes_per_second=float(np.mean(dens)),
        polyphony=float(np.mean([polyphony(n) for n in full])),
        pitch_range=float(np.mean([n[:, 2].max() - n[:, 2].min() for n in full])),
        lowest=int(allnotes[:, 2].min()), highest=int(allnotes[:, 2].max()),
        seconds=float(np.mean(secs)), pitch_classes=pitch_class_histogram(allnotes))


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance of two histograms: 0 same, 1 disjoint."""
    return float(0.5 * np.abs(np.asarray(a) - np.asarray(b)).sum())


def ngram_hashes(tokens: np.ndarray, n: int) -> np.ndarray:
    """A 64-bit hash of every window of n tokens (polynomial, wrapping arithmetic)."""
    t = np.asarray(tokens, dtype=np.uint64)
    if len(t) < n:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(len(t) - n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _MULT + t[k:len(t) - n + 1 + k] + np.uint64(1)
    return h


def copied_fraction(samples: Sequence[np.ndarray], training: Sequence[np.ndarray],
                    n: int) -> float:
    """Fraction of the samples' n-grams of events that occur verbatim in the training pieces."""
    known = np.unique(np.concatenate([ngram_hashes(t, n) for t in training] or
                                     [np.zeros(0, np.uint64)]))
    grams = np.concatenate([ngram_hashes(s, n) for s in samples] or [np.zeros(0, np.uint64)])
    if not len(grams):
        return float("nan")
    return float(np.isin(grams, known).mean())


def table(rows: list[tuple[str, list[str]]], header: list[str]) -> str:
    widths = [max(len(header[0]), *(len(r[0]) for r in rows))]
    for j in range(1, len(header)):
        widths.append(max(len(header[j]), *(len(r[1][j - 1]) for r in rows)))
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    for name, vals in rows:
        cells = [name.ljust(widths[0])] + [v.rjust(w) for v, w in
                                           zip(vals, widths[1:], strict=True)]
        lines.append("  ".join(cells))
    return "\n".join(lines)
