"""Four-part music as four explicit voices on a sixteenth-note grid (BachBot, DeepBach).

A :class:`Chorale` holds, frame by frame (one per sixteenth note), the pitch each of soprano,
alto, tenor and bass sounds (-1: a rest) and whether it is struck there (an attack) or held from
the frame before (a tie); whether the soprano holds a fermata; the frame's place in its bar; and
the piece's metre and key. It is read from a score's four parts (music21), transposed to every
key that keeps each voice in Bach's range (DeepBach: about 7.5 keys a chorale), and written back
as a score of four named parts (render_voices.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

GRID = 0.25  # quarter lengths a frame lasts: a sixteenth note
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
#: Bach's voice ranges in the chorales, MIDI (field facts: the 331 four-part chorales)
RANGES = ((57, 81), (53, 74), (48, 69), (36, 64))
MAX_FRAMES = 4096  # 256 bars of 4/4: longer is not a chorale
REST = -1
VELOCITY = 80  # the voices encoding has no dynamics: one mezzo-forte for every note
NAMES_MAJOR = ("C", "D-", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
NAMES_MINOR = ("c", "c#", "d", "e-", "e", "f", "f#", "g", "g#", "a", "b-", "b")


@dataclass
class Chorale:
    """One four-voice piece. Frames F; voices in the order soprano, alto, tenor, bass."""

    pitch: np.ndarray  # (F, 4) int16: MIDI pitch sounding, REST (-1) for a rest
    attack: np.ndarray  # (F, 4) bool: the voice strikes its note here (else it holds it)
    fermata: np.ndarray  # (F,) bool: the soprano holds a fermata
    pos: np.ndarray  # (F,) int16: sixteenths since the bar line
    bar: int = 16  # sixteenths a bar
    tonic: int = 0  # pitch class of the key's tonic
    minor: bool = False
    name: str = ""
    qpm: float = 100.0  # the tempo its sixteenths sound at (the domain's -o qpm)

    @property
    def frames(self) -> int:
        return len(self.pitch)

    @property
    def duration(self) -> float:
        """Quarter notes."""
        return self.frames * GRID

    @property
    def key_name(self) -> str:
        return (NAMES_MINOR if self.minor else NAMES_MAJOR)[self.tonic % 12]

    @property
    def notes(self) -> np.ndarray:
        """(N, 4) every voice's notes in seconds at ``qpm``: start, end, pitch, velocity 80
        (what a piano roll or a synthesizer takes; ``note_voices`` says whose each is)."""
        step = 15.0 / self.qpm
        rows = [(s * step, (s + n) * step, p, VELOCITY) for v in range(4)
                for s, n, p in self.line(v)]
        return np.asarray(rows, np.float64).reshape(-1, 4)

    @property
    def note_voices(self) -> np.ndarray:
        """(N,) the voice (0 soprano .. 3 bass) of each of ``notes``."""
        return np.asarray([v for v in range(4) for _ in self.line(v)], np.int64)

    def line(self, voice: int) -> list[tuple[int, int, int]]:
        """The voice's notes as (first frame, frames, pitch); rests left out."""
        out: list[tuple[int, int, int]] = []
        for f in range(self.frames):
            p = int(self.pitch[f, voice])
            if p == REST:
                continue
            if self.attack[f, voice] or f == 0 or self.pitch[f - 1, voice] != p:
                out.append((f, 1, p))
            else:
                s, n, q = out[-1]
                out[-1] = (s, n + 1, q)
        return out

    def transposed(self, k: int) -> Chorale:
        pitch = np.where(self.pitch >= 0, self.pitch + k, REST).astype(np.int16)
        name = self.name + (f"{k:+d}" if k else "")
        return Chorale(pitch, self.attack.copy(), self.fermata.copy(), self.pos.copy(), self.bar,
                       (self.tonic + k) % 12, self.minor, name, self.qpm)

    def in_range(self) -> bool:
        """Whether every voice stays within Bach's range for it."""
        for v, (lo, hi) in enumerate(RANGES):
            sung = self.pitch[:, v][self.pitch[:, v] >= 0]
            if len(sung) and (sung.min() < lo or sung.max() > hi):
                return False
        return True

    def __repr__(self) -> str:
        return (f"Chorale({self.name!r}, {self.frames} sixteenths, {self.key_name}, "
                f"{self.bar // 4}/4)" if self.bar % 4 == 0 else
                f"Chorale({self.name!r}, {self.frames} sixteenths, {self.key_name})")


def empty(frames: int, bar: int = 16, tonic: int = 0, minor: bool = False,
          name: str = "") -> Chorale:
    return Chorale(np.full((frames, 4), REST, np.int16), np.zeros((frames, 4), bool),
                   np.zeros(frames, bool), (np.arange(frames) % bar).astype(np.int16), bar,
                   tonic, minor, name)


def keys_in_range(ch: Chorale, shifts: range = range(-12, 13)) -> list[Chorale]:
    """The piece in every transposition up to an octave either way that keeps each voice in Bach's
    range; the piece as written always, first."""
    out = [ch]
    out += [t for k in shifts if k and (t := ch.transposed(k)).in_range()]
    return out


# ---- reading a score ----------------------------------------------------------------------
def _fermata(element: Any) -> bool:
    from music21 import expressions

    # a trill is an expression too (22 soprano trills in the chorales): test the kind
    return any(isinstance(e, expressions.Fermata) for e in element.expressions)


def _fill(ch: Chorale, part: Any, v: int) -> int:
    """Write one part's notes into voice v; returns how many notes fell off the grid."""
    off_grid = 0
    for n in part.flatten().stripTies().notes:
        a, b = float(n.offset) / GRID, float(n.offset + n.quarterLength) / GRID
        start, stop = round(a), min(round(b), ch.frames)
        off_grid += abs(a - start) > 1e-6 or abs(b - round(b)) > 1e-6
        if stop <= start:
            continue
        midis = [p.midi for p in n.pitches]  # a chord in one part: its outer note
        ch.pitch[start:stop, v] = max(midis) if v < 2 else min(midis)
        ch.attack[start, v] = True
        if v == 0 and _fermata(n):
            ch.fermata[start:stop] = True
    return off_grid


def positions(ch: Chorale, part: Any) -> None:
    """Each frame's sixteenths since its bar line, from the measures (a pickup bar is padded
    on the left, music21's paddingLeft)."""
    for m in part.getElementsByClass("Measure"):
        a = round(float(m.offset) / GRID)
        b = min(round(float(m.offset + m.duration.quarterLength) / GRID), ch.frames)
        pad = round(float(m.paddingLeft) / GRID)
        ch.pos[a:b] = (np.arange(b - a) + pad) % ch.bar


def from_score(score: Any, name: str) -> tuple[Chorale | None, str | None]:
    """A four-part score as a Chorale, or None and why not; the second item, with a Chorale,
    says what was repaired (notes moved onto the grid)."""
    parts = list(score.parts)
    if len(parts) != 4:
        return None, f"{len(parts)} parts, not 4 voices"
    sigs = list(score.recurse().getElementsByClass("TimeSignature"))
    bar = round(float(sigs[0].barDuration.quarterLength) / GRID) if sigs else 16
    frames = round(float(score.highestTime) / GRID)
    if not 1 <= bar <= 32:
        return None, f"a bar of {bar} sixteenths (at most 32)"
    if not 0 < frames <= MAX_FRAMES:
        return None, f"{frames} sixteenths long (at most {MAX_FRAMES})"
    key = score.analyze("key")
    ch = empty(frames, bar, int(key.tonic.pitchClass), key.mode == "minor", name)
    off = sum(_fill(ch, p, v) for v, p in enumerate(parts))
    positions(ch, parts[0])
    if not (ch.pitch >= 0).any():
        return None, "no notes"
    return ch, (f"{off} notes off the sixteenth grid, moved onto it" if off else None)


# ---- storage (the parse cache) ------------------------------------------------------------
def pack(chorales: list[Chorale]) -> dict[str, np.ndarray]:
    meta = np.array([[c.frames, c.bar, c.tonic, int(c.minor)] for c in chorales], np.int64)
    return {"pitch": np.concatenate([c.pitch for c in chorales]),
            "attack": np.concatenate([c.attack for c in chorales]),
            "fermata": np.concatenate([c.fermata for c in chorales]),
            "pos": np.concatenate([c.pos for c in chorales]), "meta": meta,
            "names": np.array([c.name for c in chorales])}


def unpack(z: dict[str, np.ndarray]) -> list[Chorale]:
    out, a = [], 0
    for (n, bar, tonic, minor), name in zip(z["meta"].tolist(), z["names"].tolist(), strict=True):
        b = a + n
        out.append(Chorale(z["pitch"][a:b], z["attack"][a:b], z["fermata"][a:b], z["pos"][a:b],
                           bar, tonic, bool(minor), str(name)))
        a = b
    return out
