"""Harmony by numbers a listener asks for: four voices, chords, parallels, voice ranges.

Computed from a note array alone (N, 4: start s, end s, MIDI pitch, velocity), the same way for
samples, held-out and training pieces, since a sample has no parts. A note sounds from its start
up to, not including, its end; the *sonority* at an onset is the set of distinct pitches sounding
then (a unison of two voices is one pitch). Four-voice sonorities are split into voices by rank:
soprano the highest pitch ... bass the lowest.

- **four voices**: the share of the time some note sounds during which exactly four distinct
  pitches sound;
- **triads, sevenths**: the share of sonorities (one per onset) whose pitch-class set is a major,
  minor, diminished or augmented triad (any inversion, any doubling), or one of those triads with
  a diminished, minor or major seventh above its root (and the French sixth, C E G-flat B-flat):
  what music21's ``isTriad`` / ``isSeventh`` say of the chord spelled as a stack of thirds,
  without the spelling a note array lacks;
- **parallels**, per 100 *moves* (consecutive onsets, both four-voice, whose pitches differ):
  two voices a fifth (or an octave: 0 mod 12; compound intervals count) apart in both sonorities,
  both moving the same way;
- **voice overlaps**, per 100 moves: a voice moving above the previous pitch of the voice above it,
  or below that of the voice below. Rank-assigned voices cannot cross, and tracking voices by
  nearest pitch cannot find a crossing either (matching two sorted pitch sets by least total
  motion always pairs them in order), so crossings are not measured; overlaps are the nearest
  measurable thing;
- **voice ranges**: per piece the 5th and 95th percentile pitch of each voice over its four-voice
  sonorities, averaged over the pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

DIGITS = 4  # times rounded to 0.1 ms, so that float noise does not split a chord
VOICES = ("soprano", "alto", "tenor", "bass")
TRIADS = ((0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 8))
SEVENTHS = (*(t + (s,) for t in TRIADS for s in (9, 10, 11)), (0, 4, 6, 10))
_UPPER, _LOWER = np.triu_indices(4, 1)  # the six pairs of voices, upper voice first (S=0)


def _kinds() -> np.ndarray:
    """Chord kind of every pitch-class set (a 12-bit mask): 0 other, 1 triad, 2 seventh."""
    kinds = np.zeros(1 << 12, dtype=np.int8)
    for kind, shapes in ((1, TRIADS), (2, SEVENTHS)):
        for shape in shapes:
            for root in range(12):
                kinds[sum(1 << ((root + i) % 12) for i in shape)] = kind
    return kinds


KINDS = _kinds()


def pc_mask(pitches: np.ndarray) -> np.ndarray:
    """12-bit pitch-class masks of a (T, 128) boolean array of sounding pitches."""
    pcs = np.pad(pitches, ((0, 0), (0, 4))).reshape(len(pitches), 11, 12).any(axis=1)
    return (pcs.astype(np.int64) << np.arange(12)).sum(axis=1)


def chord_kind(pitches: Sequence[int]) -> str:
    """``"triad"``, ``"seventh"`` or ``""`` for one chord of MIDI pitches."""
    occ = np.zeros((1, 128), dtype=bool)
    occ[0, np.asarray(pitches, dtype=int)] = True
    return ("", "triad", "seventh")[int(KINDS[pc_mask(occ)[0]])]


def sounding(notes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(T, 128): which pitches sound at each time (start <= t < end)."""
    s, e = np.round(notes[:, 0], DIGITS), np.round(notes[:, 1], DIGITS)
    pitch = notes[:, 2].astype(int)
    out = np.zeros((len(times), 128), dtype=bool)
    for p in np.unique(pitch):
        one = pitch == p
        on = np.searchsorted(np.sort(s[one]), times, side="right")
        off = np.searchsorted(np.sort(e[one]), times, side="right")
        out[:, p] = on > off
    return out


@dataclass
class Counts:
    """What one piece (or a set, summed) holds, before the ratios."""

    sounding: float = 0.0  # seconds in which some note sounds
    four: float = 0.0  # ... in which exactly four distinct pitches sound
    onsets: int = 0
    triads: int = 0
    sevenths: int = 0
    moves: int = 0
    fifths: int = 0
    octaves: int = 0
    overlaps: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def piece_counts(notes: np.ndarray) -> tuple[Counts, np.ndarray]:
    """The counts of one piece and its four-voice sonorities (K, 4), soprano first."""
    notes = notes[notes[:, 1] > notes[:, 0]]
    if not len(notes):
        return Counts(), np.zeros((0, 4), dtype=int)
    bounds = np.unique(np.round(notes[:, :2], DIGITS))
    held = sounding(notes, (bounds[:-1] + bounds[1:]) / 2).sum(axis=1)
    dur = np.diff(bounds)
    onsets = np.unique(np.round(notes[:, 0], DIGITS))
    occ = sounding(notes, onsets)
    kinds = KINDS[pc_mask(occ)]
    four = np.flatnonzero(occ.sum(axis=1) == 4)
    voices = np.nonzero(occ[four])[1].reshape(-1, 4)[:, ::-1]  # rows ascending: reversed
    counts = Counts(sounding=float(dur[held > 0].sum()), four=float(dur[held == 4].sum()),
                    onsets=len(onsets), triads=int((kinds == 1).sum()),
                    sevenths=int((kinds == 2).sum()))
    return counts + _motion(voices, np.diff(four) == 1), voices


def _motion(voices: np.ndarray, adjacent: np.ndarray) -> Counts:
    """Moves, parallels and overlaps between consecutive four-voice sonorities."""
    a, b = voices[:-1][adjacent], voices[1:][adjacent]
    changed = (a != b).any(axis=1)
    a, b = a[changed], b[changed]
    step = np.sign(b - a)
    same = (step[:, _UPPER] == step[:, _LOWER]) & (step[:, _UPPER] != 0)
    before = (a[:, _UPPER] - a[:, _LOWER]) % 12
    after = (b[:, _UPPER] - b[:, _LOWER]) % 12
    over = (b[:, 1:] > a[:, :-1]) | (b[:, :-1] < a[:, 1:])
    return Counts(moves=len(a), fifths=int((same & (before == 7) & (after == 7)).sum()),
                  octaves=int((same & (before == 0) & (after == 0)).sum()),
                  overlaps=int(over.sum()))


@dataclass
class HarmonyStats:
    pieces: int
    four_voices: float  # share of the sounding time
    triads: float  # share of the onsets' sonorities
    sevenths: float
    fifths: float  # per 100 moves
    octaves: float
    overlaps: float
    moves: int
    ranges: np.ndarray  # (4, 2): mean 5th and 95th percentile pitch of S, A, T, B


def set_harmony(notes_list: Sequence[np.ndarray]) -> HarmonyStats:
    """The measures of a set of pieces: counts summed over the pieces, ranges averaged."""
    total, ranges = Counts(), []
    for notes in notes_list:
        counts, voices = piece_counts(np.asarray(notes, dtype=np.float64).reshape(-1, 4))
        total = total + counts
        if len(voices):
            ranges.append(np.percentile(voices, [5, 95], axis=0).T)

    def ratio(a: float, b: float, scale: float = 1.0) -> float:
        return scale * a / b if b else float("nan")

    return HarmonyStats(
        pieces=len(notes_list), four_voices=ratio(total.four, total.sounding),
        triads=ratio(total.triads, total.onsets), sevenths=ratio(total.sevenths, total.onsets),
        fifths=ratio(total.fifths, total.moves, 100),
        octaves=ratio(total.octaves, total.moves, 100),
        overlaps=ratio(total.overlaps, total.moves, 100), moves=total.moves,
        ranges=np.mean(ranges, axis=0) if ranges else np.full((4, 2), np.nan))


def rows(sets: dict[str, HarmonyStats]) -> list[tuple[str, list[str]]]:
    """The rows ``seqgen stats`` prints, one column per set."""
    cols = list(sets.values())

    def pct(x: float) -> str:
        return "-" if x != x else f"{100 * x:.1f} %"

    def rate(x: float) -> str:
        return "-" if x != x else f"{x:.2f}"

    def span(lo: float, hi: float) -> str:
        return "-" if lo != lo else f"{lo:.1f}-{hi:.1f}"

    return [
        ("four voices (share of time)", [pct(c.four_voices) for c in cols]),
        ("triads (share of onsets)", [pct(c.triads) for c in cols]),
        ("sevenths (share of onsets)", [pct(c.sevenths) for c in cols]),
        ("four-voice moves", [str(c.moves) for c in cols]),
        ("parallel 5ths per 100 moves", [rate(c.fifths) for c in cols]),
        ("parallel 8ves per 100 moves", [rate(c.octaves) for c in cols]),
        ("voice overlaps per 100 moves", [rate(c.overlaps) for c in cols]),
        *((f"{name} range (p5-p95)", [span(*c.ranges[v]) for c in cols])
          for v, name in enumerate(VOICES)),
    ]

