"""Event encodings of polyphonic music: PerformanceRNN's note-on/note-off, or note + duration.

A piece is an array of notes ``(N, 4)``: start and end in seconds, MIDI pitch, velocity. The
codec quantises times to ``time_step`` seconds and velocities to ``velocity_bins`` bins, and
writes one token per event. ``performance`` (Magenta's PerformanceRNN):

    0                 separator (start and end of every piece; the engine's stop token)
    1 .. 128          NOTE_ON pitch 0..127
    129 .. 256        NOTE_OFF pitch 0..127
    257 ..            TIME_SHIFT by 1..n_shift steps (a longer rest is several shifts)
    then              VELOCITY bin 0..velocity_bins-1 (emitted before a NOTE_ON when it changes)

With the defaults (10 ms steps, shifts up to 1 s, 32 velocity bins) that is PerformanceRNN's 388
event classes plus the separator. ``duration`` replaces NOTE_OFF by DURATION tokens right after
each NOTE_ON (1..n_shift steps, several for a long note; 129 .. 128 + n_shift), so the model
says how long a note lasts when it starts it instead of having to remember to end it; time
shifts then move only from onset to onset. ``normalize`` gives the notes that survive either
round trip: times on the grid, velocities on their bin's value, and same-pitch overlaps resolved
the way MIDI resolves them (the earlier note ends where the later one starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SEP = 0
ON0, OFF0, SHIFT0 = 1, 129, 257  # the performance layout
DUR0 = 129  # the duration layout: NOTE_ON 1..128, DURATION 129.., then TIME_SHIFT, VELOCITY
ENCODINGS = ("performance", "duration")
NO_NOTES = np.zeros((0, 4), dtype=np.float64)
#: the velocity of decoded notes that no VELOCITY event set
DEFAULT_VELOCITY = 80
#: how long a note left sounding at the end of a sample lasts at least (seconds)
DANGLING_MIN = 0.5


def note_array(rows: Sequence[tuple[float, float, int, int]] | np.ndarray) -> np.ndarray:
    """Notes (N, 4) from (start, end, pitch, velocity) rows, sorted by start, then pitch: the
    order every reader hands the codec, whatever order its file listed them in."""
    if not len(rows):
        return NO_NOTES.copy()
    notes = np.asarray(rows, dtype=np.float64)
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


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
    """Notes <-> event tokens, in the ``performance`` or the ``duration`` layout."""

    def __init__(self, time_step_ms: int = 10, max_shift_ms: int = 1000,
                 velocity_bins: int = 32, encoding: str = "performance") -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding {encoding!r}: choose one of {', '.join(ENCODINGS)}")
        self.encoding = encoding
        self.step = time_step_ms / 1000.0
        self.n_shift = max(1, max_shift_ms // time_step_ms)
        self.vel_bins = velocity_bins
        self.shift0 = SHIFT0 if encoding == "performance" else DUR0 + self.n_shift
        self.vel0 = self.shift0 + self.n_shift
        self.vocab_size = self.vel0 + velocity_bins
        v = np.arange(1, 128)
        self._bin_of = np.concatenate([[0], (v - 1) * max(velocity_bins, 1) // 127])  # by vel
        # each bin decodes to the middle velocity of those it holds
        self._vel_of = np.array([int(np.median(v[self._bin_of[1:] == b]))
                                 for b in range(velocity_bins)], dtype=np.int64)
        #: steps of time each token advances (0 for all but TIME_SHIFT)
        self.shift_steps = np.zeros(self.vocab_size, dtype=np.int64)
        self.shift_steps[self.shift0:self.vel0] = np.arange(1, self.n_shift + 1)

    # ---- quantisation -----------------------------------------------------------------------
    def _quantize(self, notes: np.ndarray) -> tuple[np.ndarray, ...]:
        """Grid start, end, pitch, velocity bin; same-pitch overlaps resolved; by (start, pitch)."""
        notes = np.asarray(notes, dtype=np.float64).reshape(-1, 4)
        keep = (notes[:, 2] >= 0) & (notes[:, 2] <= 127) & np.isfinite(notes).all(1)
        notes = notes[keep]
        s = np.round(notes[:, 0] / self.step).astype(np.int64)
        e = np.round(notes[:, 1] / self.step).astype(np.int64)
        p = np.round(notes[:, 2]).astype(np.int64)
        vel = np.clip(np.round(notes[:, 3]), 1, 127).astype(np.int64)
        vb = self._bin_of[vel] if self.vel_bins else np.zeros(len(vel), np.int64)
        return _resolve(s, e, p, vb)

    def _velocity(self, vb: np.ndarray) -> np.ndarray:
        return self._vel_of[vb] if self.vel_bins else np.full(len(vb), DEFAULT_VELOCITY)

    def _notes(self, s: np.ndarray, e: np.ndarray, p: np.ndarray, vb: np.ndarray) -> np.ndarray:
        if not len(s):
            return NO_NOTES.copy()
        return np.stack([s * self.step, e * self.step, p, self._velocity(vb)], 1).astype(
            np.float64)

    def normalize(self, notes: np.ndarray) -> np.ndarray:
        """The notes as decode(encode(notes)) returns them."""
        return self._notes(*self._quantize(notes))

    # ---- events -----------------------------------------------------------------------------
    def _shift(self, out: list[int], gap: int) -> None:
        while gap > 0:
            d = min(gap, self.n_shift)
            out.append(self.shift0 + d - 1)
            gap -= d

    def encode(self, notes: np.ndarray) -> np.ndarray:
        """Notes (N, 4) -> tokens (T,) int64, without separators."""
        s, e, p, vb = self._quantize(notes)
        if self.encoding == "duration":
            return self._encode_durations(s, e, p, vb)
        n = len(s)
        times = np.concatenate([e, s])
        kinds = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])  # offs first
        pitch = np.concatenate([p, p])
        vbin = np.concatenate([np.full(n, -1), vb])
        order = np.lexsort((pitch, kinds, times))
        out: list[int] = []
        now, vel = 0, -1
        for t, k, q, b in zip(times[order].tolist(), kinds[order].tolist(),
                              pitch[order].tolist(), vbin[order].tolist(), strict=True):
            self._shift(out, t - now)
            now = t
            if k == 0:
                out.append(OFF0 + q)
            else:
                if self.vel_bins and b != vel:
                    out.append(self.vel0 + b)
                    vel = b
                out.append(ON0 + q)
        return np.asarray(out, dtype=np.int64)

    def _encode_durations(self, s: np.ndarray, e: np.ndarray, p: np.ndarray,
                          vb: np.ndarray) -> np.ndarray:
        out: list[int] = []
        now, vel = 0, -1
        for a, b, q, v in zip(s.tolist(), e.tolist(), p.tolist(), vb.tolist(), strict=True):
            self._shift(out, a - now)
            now = a
            if self.vel_bins and v != vel:
                out.append(self.vel0 + v)
                vel = v
            out.append(ON0 + q)
            left = b - a
            while left > 0:
                d = min(left, self.n_shift)
                out.append(DUR0 + d - 1)
                left -= d
        return np.asarray(out, dtype=np.int64)

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        """Tokens -> notes (N, 4), always valid: every note ends after it starts, and notes of
        one pitch never overlap. Performance: unmatched NOTE_OFFs are ignored, a NOTE_ON of a
        sounding pitch ends the earlier note there, notes still sounding at the end are closed.
        Duration: a NOTE_ON without a DURATION (a sample cut short) lasts DANGLING_MIN."""
        toks = np.asarray(tokens, dtype=np.int64).tolist()
        rows = self._decode_durations(toks) if self.encoding == "duration" else \
            self._decode_performance(toks)
        if not rows:
            return NO_NOTES.copy()
        s, e, p, vel = (np.asarray(c, dtype=np.int64) for c in zip(*rows, strict=True))
        s, e, p, vel = _resolve(s, e, p, vel)
        return np.stack([s * self.step, e * self.step, p, vel], 1).astype(np.float64)

    def _decode_performance(self, toks: list[int]) -> list[tuple[int, int, int, int]]:
        now, vel = 0, DEFAULT_VELOCITY
        active: dict[int, tuple[int, int]] = {}
        out: list[tuple[int, int, int, int]] = []
        for tok in toks:
            if ON0 <= tok < OFF0:
                q = tok - ON0
                if q in active:
                    start, v = active.pop(q)
                    out.append((start, now, q, v))  # now == start: _resolve drops it
                active[q] = (now, vel)
            elif OFF0 <= tok < SHIFT0:
                q = tok - OFF0
                if q in active:
                    start, v = active.pop(q)
                    out.append((start, max(now, start + 1), q, v))
            elif SHIFT0 <= tok < self.vel0:
                now += tok - SHIFT0 + 1
            elif self.vel0 <= tok < self.vocab_size:
                vel = int(self._vel_of[tok - self.vel0])
        tail = round(DANGLING_MIN / self.step)
        out += [(start, max(now, start + tail), q, v) for q, (start, v) in active.items()]
        return out

    def _decode_durations(self, toks: list[int]) -> list[tuple[int, int, int, int]]:
        now, vel = 0, DEFAULT_VELOCITY
        out: list[tuple[int, int, int, int]] = []
        note: list[int] | None = None  # start, length so far, pitch, velocity
        tail = round(DANGLING_MIN / self.step)

        def flush() -> None:
            if note is not None:
                out.append((note[0], note[0] + (note[1] or tail), note[2], note[3]))

        for tok in toks:
            if ON0 <= tok < DUR0:
                flush()
                note = [now, 0, tok - ON0, vel]
            elif DUR0 <= tok < self.shift0:
                if note is not None:
                    note[1] += tok - DUR0 + 1
            else:
                flush()
                note = None
                if self.shift0 <= tok < self.vel0:
                    now += tok - self.shift0 + 1
                elif self.vel0 <= tok < self.vocab_size:
                    vel = int(self._vel_of[tok - self.vel0])
        flush()
        return out

    def seconds(self, tokens: np.ndarray) -> float:
        """How much time the tokens advance."""
        toks = np.asarray(tokens, dtype=np.int64)
        toks = toks[(toks >= 0) & (toks < self.vocab_size)]
        return float(self.shift_steps[toks].sum()) * self.step


def _resolve(s: np.ndarray, e: np.ndarray, p: np.ndarray, v: np.ndarray
             ) -> tuple[np.ndarray, ...]:
    """Notes on the step grid made valid for MIDI: at least one step long; of two notes of one
    pitch at one onset the longer kept; an earlier note of a pitch ends where a later one
    starts. Sorted by (start, pitch)."""
    e = np.maximum(e, s + 1)
    order = np.lexsort((-e, s, p))  # by pitch, then start, longest first
    s, e, p, v = s[order], e[order], p[order], v[order]
    dup = np.zeros(len(s), dtype=bool)
    dup[1:] = (p[1:] == p[:-1]) & (s[1:] == s[:-1])
    s, e, p, v = s[~dup], e[~dup], p[~dup], v[~dup]
    same = np.zeros(len(s), dtype=bool)
    same[:-1] = p[1:] == p[:-1]
    nxt = np.concatenate([s[1:], [0]]).astype(np.int64)
    e = np.where(same, np.minimum(e, nxt), e)
    order = np.lexsort((p, s))
    return s[order], e[order], p[order], v[order]
