"""Performance events, as in Magenta's PerformanceRNN: NOTE_ON, NOTE_OFF, TIME_SHIFT, VELOCITY.

A piece is an array of notes ``(N, 4)``: start and end in seconds, MIDI pitch, velocity. The
codec quantises times to ``time_step`` seconds and velocities to ``velocity_bins`` bins, and
writes one token per event:

    0                 separator (start and end of every piece; the engine's stop token)
    1 .. 128          NOTE_ON pitch 0..127
    129 .. 256        NOTE_OFF pitch 0..127
    257 ..            TIME_SHIFT by 1..n_shift steps (a longer rest is several shifts)
    then              VELOCITY bin 0..velocity_bins-1 (emitted before a NOTE_ON when it changes)

With the defaults (10 ms steps, shifts up to 1 s, 32 velocity bins) that is PerformanceRNN's 388
event classes plus the separator. ``normalize`` gives the notes that survive the round trip:
times on the grid, velocities on their bin's value, and same-pitch overlaps resolved the way
MIDI resolves them (the earlier note ends where the later one starts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEP = 0
ON0, OFF0, SHIFT0 = 1, 129, 257
NO_NOTES = np.zeros((0, 4), dtype=np.float64)
#: the velocity of decoded notes that no VELOCITY event set
DEFAULT_VELOCITY = 80
#: how long a note left sounding at the end of a sample lasts at least (seconds)
DANGLING_MIN = 0.5


@dataclass
class Piece:
    """One piece of music: notes (N, 4) = start s, end s, pitch, velocity; sorted by start."""

    notes: np.ndarray
    name: str = ""
    drums: bool = False

    @property
    def duration(self) -> float:
        return float(self.notes[:, 1].max()) if len(self.notes) else 0.0

    def __repr__(self) -> str:
        return f"Piece({self.name!r}, {len(self.notes)} notes, {self.duration:.1f} s)"


class PerformanceCodec:
    """Notes <-> performance event tokens."""

    def __init__(self, time_step_ms: int = 10, max_shift_ms: int = 1000,
                 velocity_bins: int = 32) -> None:
        self.step = time_step_ms / 1000.0
        self.n_shift = max(1, max_shift_ms // time_step_ms)
        self.vel_bins = velocity_bins
        self.vel0 = SHIFT0 + self.n_shift
        self.vocab_size = self.vel0 + velocity_bins
        v = np.arange(1, 128)
        self._bin_of = np.concatenate([[0], (v - 1) * max(velocity_bins, 1) // 127])  # by vel
        # each bin decodes to the middle velocity of those it holds
        self._vel_of = np.array([int(np.median(v[self._bin_of[1:] == b]))
                                 for b in range(velocity_bins)], dtype=np.int64)
        #: steps of time each token advances (0 for all but TIME_SHIFT)
        self.shift_steps = np.zeros(self.vocab_size, dtype=np.int64)
        self.shift_steps[SHIFT0:self.vel0] = np.arange(1, self.n_shift + 1)

    # ---- quantisation -----------------------------------------------------------------------
    def _quantize(self, notes: np.ndarray) -> tuple[np.ndarray, ...]:
        """Grid start, end, pitch, velocity bin; same-pitch overlaps resolved; by (start, pitch)."""
        notes = np.asarray(notes, dtype=np.float64).reshape(-1, 4)
        keep = (notes[:, 2] >= 0) & (notes[:, 2] <= 127) & np.isfinite(notes).all(1)
        notes = notes[keep]
        s = np.round(notes[:, 0] / self.step).astype(np.int64)
        e = np.maximum(np.round(notes[:, 1] / self.step).astype(np.int64), s + 1)
        p = np.round(notes[:, 2]).astype(np.int64)
        vel = np.clip(np.round(notes[:, 3]), 1, 127).astype(np.int64)
        vb = self._bin_of[vel] if self.vel_bins else np.zeros(len(vel), np.int64)
        order = np.lexsort((-e, s, p))  # by pitch, then start, longest first
        s, e, p, vb = s[order], e[order], p[order], vb[order]
        dup = np.zeros(len(s), dtype=bool)  # same pitch, same start: keep the longest
        dup[1:] = (p[1:] == p[:-1]) & (s[1:] == s[:-1])
        s, e, p, vb = s[~dup], e[~dup], p[~dup], vb[~dup]
        same = np.zeros(len(s), dtype=bool)  # a later note of the same pitch cuts this one
        same[:-1] = p[1:] == p[:-1]
        nxt = np.concatenate([s[1:], [0]])
        e = np.where(same, np.minimum(e, nxt), e)
        order = np.lexsort((p, s))
        return s[order], e[order], p[order], vb[order]

    def _velocity(self, vb: np.ndarray) -> np.ndarray:
        return self._vel_of[vb] if self.vel_bins else np.full(len(vb), DEFAULT_VELOCITY)

    def normalize(self, notes: np.ndarray) -> np.ndarray:
        """The notes as decode(encode(notes)) returns them."""
        s, e, p, vb = self._quantize(notes)
        return np.stack([s * self.step, e * self.step, p, self._velocity(vb)], 1).astype(
            np.float64) if len(s) else NO_NOTES.copy()

    # ---- events -----------------------------------------------------------------------------
    def encode(self, notes: np.ndarray) -> np.ndarray:
        """Notes (N, 4) -> tokens (T,) int64, without separators."""
        s, e, p, vb = self._quantize(notes)
        n = len(s)
        times = np.concatenate([e, s])
        kinds = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])  # offs first
        pitch = np.concatenate([p, p])
        vbin = np.concatenate([np.full(n, -1), vb])
        order = np.lexsort((pitch, kinds, times))
        out: list[int] = []
        now, vel = 0, -1
        n_shift, vel0 = self.n_shift, self.vel0
        for t, k, q, b in zip(times[order].tolist(), kinds[order].tolist(),
                              pitch[order].tolist(), vbin[order].tolist(), strict=True):
            gap = t - now
            while gap > 0:
                d = min(gap, n_shift)
                out.append(SHIFT0 + d - 1)
                gap -= d
            now = t
            if k == 0:
                out.append(OFF0 + q)
            else:
                if self.vel_bins and b != vel:
                    out.append(vel0 + b)
                    vel = b
                out.append(ON0 + q)
        return np.asarray(out, dtype=np.int64)

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        """Tokens -> notes (N, 4). Unmatched NOTE_OFFs are ignored; a NOTE_ON of a sounding
        pitch ends the earlier note there; notes still sounding at the end are closed."""
        now, vel = 0, DEFAULT_VELOCITY
        active: dict[int, tuple[int, int]] = {}
        out: list[tuple[float, float, int, int]] = []
        step, vel0 = self.step, self.vel0
        for tok in np.asarray(tokens, dtype=np.int64).tolist():
            if ON0 <= tok < OFF0:
                q = tok - ON0
                if q in active:
                    start, v = active.pop(q)
                    if now > start:
                        out.append((start * step, now * step, q, v))
                active[q] = (now, vel)
            elif OFF0 <= tok < SHIFT0:
                q = tok - OFF0
                if q in active:
                    start, v = active.pop(q)
                    out.append((start * step, max(now, start + 1) * step, q, v))
            elif SHIFT0 <= tok < vel0:
                now += tok - SHIFT0 + 1
            elif vel0 <= tok < self.vocab_size:
                vel = int(self._vel_of[tok - vel0])
        for q, (start, v) in active.items():
            out.append((start * step, max(now * step, start * step + DANGLING_MIN), q, v))
        if not out:
            return NO_NOTES.copy()
        notes = np.asarray(out, dtype=np.float64)
        return notes[np.lexsort((notes[:, 2], notes[:, 0]))]

    def seconds(self, tokens: np.ndarray) -> float:
        """How much time the tokens advance."""
        toks = np.asarray(tokens, dtype=np.int64)
        toks = toks[(toks >= 0) & (toks < self.vocab_size)]
        return float(self.shift_steps[toks].sum()) * self.step
