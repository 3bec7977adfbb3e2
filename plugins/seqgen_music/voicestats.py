"""Voice leading by numbers, of four true voices (the ``voices`` encoding's Chorale objects).

harmony.py has to guess voices from a note array (by rank); here soprano, alto, tenor and bass
are the parts themselves, so crossings are seen and a held note is told from a struck one.
Every figure is pooled over a set: the events of all its pieces over the sum of their
denominators, never a mean of per-piece ratios.

- **sonority**: a frame at which at least one voice attacks (strikes a note); its pitches are
  what each voice sounds there (a held note included). A *four-voice* sonority has no voice
  resting;
- **move**: two consecutive sonorities, both four-voice, in which at least one voice's pitch
  differs. A voice *moves* when its pitch differs (a re-struck note stands still);
- **parallel fifths / octaves**, per 100 moves, over the six pairs of voices: both voices of the
  pair move, the same way, and the interval between them (absolute semitones mod 12, so that
  compound intervals and crossed voices count) is 7 (fifth) or 0 (octave; a unison counts) in
  both sonorities. ``parallels`` is their sum. Fifths or octaves in contrary motion
  (music21's "antiparallel") are not parallels;
- **hidden fifths / octaves**, per 100 moves: both voices of a pair move the same way into an
  interval of 7 (0) mod 12 from one that is not 7 (0) mod 12; given for the outer voices
  (soprano and bass) and for all six pairs;
- **crossings**: the share of four-voice sonorities in which some voice sounds strictly below
  a voice meant to be lower (alto above soprano, bass above tenor, ...); a unison is not one;
- **overlaps**, per 100 moves: a voice moving above the previous pitch of the voice above it or
  below that of the voice below it (adjacent voices; each pair counts once a move);
- **triads, sevenths**: the share of four-voice sonorities whose pitch-class set harmony.KINDS
  calls a triad (major, minor, diminished, augmented; any inversion, any doubling) or a seventh
  chord; **triads under fermatas**: the same of the sonority at the first frame of each run of
  soprano fermata frames (four-voice ones only);
- **final chord**, of each piece's last four-voice sonority: its *root* is the triad's or the
  seventh chord's root, the lower note of a bare fifth, or the one pitch class of octaves
  (else none); *root on the tonic*: root == the piece's key tonic (Chorale.tonic); *tonic
  triad*: a major triad on the tonic, or in a minor key a minor one (a Picardy third counts);
  *major*: a major triad on any root;
- **ranges**: of the notes (attacks) each voice sings over the set, the lowest and highest pitch
  and the 5th and 95th percentile; *outside Bach's ranges*: the share of all notes beyond
  chorale.RANGES for their voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import numpy as np

from seqgen_music.chorale import RANGES, Chorale
from seqgen_music.harmony import KINDS, SEVENTHS, TRIADS

VOICES = ("soprano", "alto", "tenor", "bass")
UPPER, LOWER = np.triu_indices(4, 1)  # the six pairs (S-A, S-T, S-B, A-T, A-B, T-B)
OUTER = 2  # S-B in that order
_BITS = 1 << np.arange(12)


def _roots() -> tuple[np.ndarray, np.ndarray]:
    """Of every pitch-class set (12-bit mask): its root (-1: none) and whether it is a major
    triad (1), a minor triad (2) or neither (0)."""
    root = np.full(1 << 12, -1, dtype=np.int8)
    quality = np.zeros(1 << 12, dtype=np.int8)
    shapes = [*TRIADS, *SEVENTHS, (0, 7), (0,)]
    for shape in shapes:
        for r in range(12):
            mask = sum(1 << ((r + i) % 12) for i in shape)
            if root[mask] < 0:  # an augmented triad: its lowest pitch class
                root[mask] = r
            if shape in ((0, 4, 7), (0, 3, 7)):
                quality[mask] = 1 if shape == (0, 4, 7) else 2
    return root, quality


ROOTS, QUALITY = _roots()


def masks(sonorities: np.ndarray) -> np.ndarray:
    """12-bit pitch-class masks of (K, 4) four-voice sonorities."""
    return np.bitwise_or.reduce(_BITS[sonorities % 12], axis=1)


class Flags(NamedTuple):
    """(M, 6) per move and pair of voices (UPPER/LOWER order)."""

    similar: np.ndarray  # both move, the same way
    contrary: np.ndarray  # both move, opposite ways
    before: np.ndarray  # interval mod 12 in the first sonority
    after: np.ndarray  # ... in the second


def sonorities(ch: Chorale) -> np.ndarray:
    """(K, 4) pitches at the frames where some voice attacks, in order."""
    onsets = np.flatnonzero(ch.attack.any(axis=1))
    return np.asarray(ch.pitch[onsets], dtype=np.int64)


def moves(son: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The moves of a piece's sonorities: (M, 4) pitches before and after."""
    a, b = son[:-1], son[1:]
    keep = (a >= 0).all(axis=1) & (b >= 0).all(axis=1) & (a != b).any(axis=1)
    return a[keep], b[keep]


def flags(a: np.ndarray, b: np.ndarray) -> Flags:
    step = np.sign(b - a)
    both = (step[:, UPPER] != 0) & (step[:, LOWER] != 0)
    return Flags(both & (step[:, UPPER] == step[:, LOWER]),
                 both & (step[:, UPPER] != step[:, LOWER]),
                 np.abs(a[:, UPPER] - a[:, LOWER]) % 12, np.abs(b[:, UPPER] - b[:, LOWER]) % 12)


@dataclass
class Counts:
    """What one piece (or a set, summed) holds, before the ratios."""

    sonorities: int = 0
    four: int = 0  # four-voice sonorities
    moves: int = 0
    fifths: int = 0
    octaves: int = 0
    hidden_fifths: int = 0
    hidden_octaves: int = 0
    hidden_fifths_outer: int = 0
    hidden_octaves_outer: int = 0
    crossings: int = 0
    overlaps: int = 0
    triads: int = 0
    sevenths: int = 0
    fermatas: int = 0
    fermata_triads: int = 0
    finals: int = 0
    final_root: int = 0  # root on the tonic
    final_tonic: int = 0  # a tonic triad
    final_major: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def _motion(a: np.ndarray, b: np.ndarray) -> Counts:
    f = flags(a, b)
    par = f.similar & (f.before == f.after)
    hid = f.similar & (f.before != f.after)
    over = (b[:, 1:] > a[:, :-1]) | (b[:, :-1] < a[:, 1:])
    return Counts(moves=len(a), fifths=int((par & (f.after == 7)).sum()),
                  octaves=int((par & (f.after == 0)).sum()),
                  hidden_fifths=int((hid & (f.after == 7)).sum()),
                  hidden_octaves=int((hid & (f.after == 0)).sum()),
                  hidden_fifths_outer=int((hid[:, OUTER] & (f.after[:, OUTER] == 7)).sum()),
                  hidden_octaves_outer=int((hid[:, OUTER] & (f.after[:, OUTER] == 0)).sum()),
                  overlaps=int(over.sum()))


def _chords(ch: Chorale, son: np.ndarray) -> Counts:
    four = son[(son >= 0).all(axis=1)]
    kinds = KINDS[masks(four)]
    starts = np.flatnonzero(ch.fermata & ~np.r_[False, ch.fermata[:-1]])
    held = np.asarray(ch.pitch[starts], dtype=np.int64)
    held = held[(held >= 0).all(axis=1)]
    out = Counts(sonorities=len(son), four=len(four),
                 crossings=int((four[:, UPPER] < four[:, LOWER]).any(axis=1).sum()),
                 triads=int((kinds == 1).sum()), sevenths=int((kinds == 2).sum()),
                 fermatas=len(held), fermata_triads=int((KINDS[masks(held)] == 1).sum()))
    if len(four):
        last = int(masks(four[-1:])[0])
        on_tonic = int(ROOTS[last]) == ch.tonic % 12
        quality = int(QUALITY[last])
        out.finals, out.final_root = 1, int(on_tonic)
        out.final_tonic = int(on_tonic and (quality == 1 or (quality == 2 and ch.minor)))
        out.final_major = int(quality == 1)
    return out


def chorale_counts(ch: Chorale) -> Counts:
    son = sonorities(ch)
    return _chords(ch, son) + _motion(*moves(son))


@dataclass
class VoiceStats:
    pieces: int
    sonorities: int
    four_voices: float  # share of the sonorities
    moves: int
    fifths: float  # per 100 moves
    octaves: float
    parallels: float
    hidden_fifths: float  # all six pairs, per 100 moves
    hidden_octaves: float
    hidden_fifths_outer: float  # soprano-bass
    hidden_octaves_outer: float
    crossings: float  # share of the four-voice sonorities
    overlaps: float  # per 100 moves
    triads: float  # share of the four-voice sonorities
    sevenths: float
    fermatas: int
    fermata_triads: float  # share of the fermata sonorities
    final_root: float  # share of the pieces with a final chord
    final_tonic: float
    final_major: float
    lowest: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))  # (4,) per voice
    highest: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    p5: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    p95: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    outside: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))  # share per voice
    outside_all: float = float("nan")


def _ratio(a: float, b: float, scale: float = 1.0) -> float:
    return scale * a / b if b else float("nan")


def _ranges(stats: VoiceStats, chorales: Sequence[Chorale]) -> None:
    notes = [np.concatenate([c.pitch[c.attack[:, v] & (c.pitch[:, v] >= 0), v]
                             for c in chorales] or [np.zeros(0, np.int16)]) for v in range(4)]
    if not all(len(n) for n in notes):
        return
    out = [(n < lo) | (n > hi) for n, (lo, hi) in zip(notes, RANGES, strict=True)]
    pct = np.array([np.percentile(n, [5, 95]) for n in notes])
    stats.lowest = np.array([n.min() for n in notes], float)
    stats.highest = np.array([n.max() for n in notes], float)
    stats.p5, stats.p95 = pct[:, 0], pct[:, 1]
    stats.outside = np.array([o.mean() for o in out])
    stats.outside_all = float(np.concatenate(out).mean())


def set_voice_stats(chorales: Sequence[Chorale]) -> VoiceStats:
    """The figures of a set of pieces (module docstring), pooled over its pieces."""
    t = Counts()
    for ch in chorales:
        t = t + chorale_counts(ch)

    def move(n: int) -> float:
        return _ratio(n, t.moves, 100)

    stats = VoiceStats(
        pieces=len(chorales), sonorities=t.sonorities, four_voices=_ratio(t.four, t.sonorities),
        moves=t.moves, fifths=move(t.fifths), octaves=move(t.octaves),
        parallels=move(t.fifths + t.octaves), hidden_fifths=move(t.hidden_fifths),
        hidden_octaves=move(t.hidden_octaves), hidden_fifths_outer=move(t.hidden_fifths_outer),
        hidden_octaves_outer=move(t.hidden_octaves_outer), crossings=_ratio(t.crossings, t.four),
        overlaps=move(t.overlaps), triads=_ratio(t.triads, t.four),
        sevenths=_ratio(t.sevenths, t.four), fermatas=t.fermatas,
        fermata_triads=_ratio(t.fermata_triads, t.fermatas),
        final_root=_ratio(t.final_root, t.finals), final_tonic=_ratio(t.final_tonic, t.finals),
        final_major=_ratio(t.final_major, t.finals))
    _ranges(stats, chorales)
    return stats


def _pct(x: float | None) -> str:
    return "-" if x is None or x != x else f"{100 * x:.1f} %"


def _rate(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"


def rows(sets: dict[str, VoiceStats]) -> list[tuple[str, list[str]]]:
    """The rows ``seqgen stats`` prints of four-voice pieces, one column per set."""
    cols = list(sets.values())

    def span(c: VoiceStats, v: int) -> str:
        if c.lowest[v] != c.lowest[v]:
            return "-"
        return f"{c.lowest[v]:.0f}-{c.highest[v]:.0f} ({c.p5[v]:.0f}-{c.p95[v]:.0f})"

    per_move = [("parallel 5ths", "fifths"), ("parallel 8ves/unisons", "octaves"),
                ("parallel 5ths + 8ves", "parallels"), ("hidden 5ths S-B", "hidden_fifths_outer"),
                ("hidden 8ves S-B", "hidden_octaves_outer"),
                ("hidden 5ths, all pairs", "hidden_fifths"),
                ("hidden 8ves, all pairs", "hidden_octaves"), ("voice overlaps", "overlaps")]
    shares = [("crossings (of 4-voice sonorities)", "crossings"),
              ("triads (of 4-voice sonorities)", "triads"),
              ("sevenths (of 4-voice sonorities)", "sevenths"),
              ("triads under fermatas", "fermata_triads"),
              ("final chord: root on the tonic", "final_root"),
              ("final chord: tonic triad", "final_tonic"),
              ("final chord: major triad", "final_major")]
    return [
        ("four voices (of sonorities)", [_pct(c.four_voices) for c in cols]),
        ("four-voice moves", [str(c.moves) for c in cols]),
        *((f"{name} per 100 moves", [_rate(getattr(c, key)) for c in cols])
          for name, key in per_move),
        *((name, [_pct(getattr(c, key)) for c in cols]) for name, key in shares),
        *((f"{name} lowest-highest (p5-p95)", [span(c, v) for c in cols])
          for v, name in enumerate(VOICES)),
        ("notes outside Bach's ranges", [_pct(c.outside_all) for c in cols]),
    ]


def summary_rows(groups: dict[str, Sequence[Chorale]], copied: dict[str, float | None],
                 ngram: int, qpm: float) -> list[tuple[str, list[str]]]:
    """``seqgen stats`` of a run in the voices encoding: pieces, length, copying, then rows()."""
    cols = list(groups.values())
    secs = [float(np.mean([c.frames for c in g])) * 15.0 / qpm if len(g) else float("nan")
            for g in cols]
    return [
        ("pieces", [str(len(g)) for g in cols]),
        ("seconds per piece", ["-" if s != s else f"{s:.1f}" for s in secs]),
        (f"{ngram}-grams copied from training", [_pct(copied[k]) for k in groups]),
        *rows({k: set_voice_stats(g) for k, g in groups.items()}),
    ]
