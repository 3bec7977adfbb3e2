"""Rules that keep a ``voices`` sample well formed and, if asked, singable (issue 26 item 4).

The engine calls the rule before every step with the tokens so far (B, T) and masks what it
forbids (``Domain.constraint_rule``). Two layers:

- **the grammar**, always: METER, KEY, then frames of POS S A T B; each POS one sixteenth after
  the last (its fermata flag free), a BAR on each bar line saying the header's key again; a
  HOLD only where the voice sounded in the frame before; the end only between frames.
- **voice leading** (``-o voice_leading=on``): each voice within Bach's range (chorale.RANGES), no
  voice above the voice over it (crossing), no parallel fifths or octaves (unisons and compound
  intervals included) with the frame before: the textbook rules a chorale student learns first.
  Where they leave a voice no note, the parallels rule gives way first, then the crossing rule,
  so that a voice is never forced into a rest.

The rule reads each new token once (state per row), so a sample of T steps costs O(T).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seqgen_music import satb
from seqgen_music.chorale import RANGES, REST

PITCHES = np.arange(satb.LOW, satb.HIGH + 1)  # (P,) the pitch tokens' MIDI pitches
PERFECT = (0, 7)  # interval classes of octaves (and unisons) and fifths


class Reader:
    """What one row has said since its last separator."""

    def __init__(self) -> None:
        self.t = 0  # tokens since the separator
        self.bar = 16
        self.tonic, self.minor = 0, False
        self.fermata = self.was_fermata = False  # this frame's, the last frame's
        self.pos = -1
        self.cur = [REST] * 4  # this frame's pitches so far
        self.prev = [REST] * 4  # the last frame's

    def read(self, tok: int) -> None:
        if tok == satb.SEP:
            self.__init__()  # type: ignore[misc]
            return
        if self.t == 0 and satb.METER0 <= tok < satb.KEY0:
            self.bar = tok - satb.METER0 + 1
        elif self.t == 1 and satb.KEY0 <= tok < satb.BAR0:
            self.tonic, self.minor = (tok - satb.KEY0) % 12, tok - satb.KEY0 >= 12
        elif self.t >= satb.HEADER:
            k = (self.t - satb.HEADER) % satb.FRAME
            if k == 0:
                self.pos, fermata = satb.frame_start(tok) or (0, False)
                self.was_fermata, self.fermata = self.fermata, fermata
                self.prev, self.cur = self.cur, [REST] * 4
            else:
                v = k - 1
                self.cur[v] = (self.prev[v] if tok == satb.HOLD else REST
                               if tok == satb.REST_TOKEN else tok - satb.PITCH0 + satb.LOW)
        self.t += 1

    def tonic_chord(self, pitches: list[int]) -> bool:
        """Whether the pitches are the key's tonic triad, all three notes: major, or in a
        minor key minor too (a major one there is Bach's Picardy third)."""
        pcs = {(p - self.tonic) % 12 for p in pitches if p != REST}
        return pcs == {0, 4, 7} or (self.minor and pcs == {0, 3, 7})


def _grammar(row: Reader) -> np.ndarray:
    """(V,) True where a token may come next."""
    ok = np.zeros(satb.VOCAB, bool)
    if row.t == 0:
        ok[satb.METER0:satb.KEY0] = True
    elif row.t == 1:
        ok[satb.KEY0:satb.BAR0] = True
    elif (row.t - satb.HEADER) % satb.FRAME == 0:
        bar = satb.BAR0 + 2 * (row.tonic + 12 * row.minor)  # the bar line says the header's key
        if row.t == satb.HEADER:  # the first frame: anywhere in a bar (a pickup)
            ok[satb.POS0 + 2:satb.POS0 + 2 * row.bar] = True
            ok[bar:bar + 2] = True
        else:
            nxt = (row.pos + 1) % row.bar
            start = bar if nxt == 0 else satb.POS0 + 2 * nxt
            ok[start:start + 2] = True
            ok[satb.SEP] = True
    else:
        ok[satb.REST_TOKEN:satb.POS0] = True
        ok[satb.HOLD] = row.prev[(row.t - satb.HEADER) % satb.FRAME - 1] != REST
    return ok


def _parallel(row: Reader, v: int) -> np.ndarray:
    """(P,) True for the pitches that would move voice v in parallel fifths or octaves with a
    voice above it that moved into this frame."""
    bad = np.zeros(len(PITCHES), bool)
    was = row.prev[v]
    if was == REST:
        return bad
    for u in range(v):
        now, before = row.cur[u], row.prev[u]
        if REST in (now, before) or now == before:
            continue
        ic = (before - was) % 12
        if ic not in PERFECT:
            continue
        same_way = np.sign(PITCHES - was) == np.sign(now - before)
        bad |= same_way & (PITCHES != was) & ((now - PITCHES) % 12 == ic)
    return bad


def _leading(row: Reader, v: int) -> list[np.ndarray]:
    """(P,) pitch masks, strictest last: in range, not crossing, no parallels."""
    lo, hi = RANGES[v]
    ranged = (PITCHES >= lo) & (PITCHES <= hi)
    above = [p for p in row.cur[:v] if p != REST]
    crossing = ranged & (PITCHES <= min(above)) if above else ranged
    return [ranged, crossing, crossing & ~_parallel(row, v)]


def _allowed(row: Reader, leading: bool) -> np.ndarray:
    ok = _grammar(row)
    k = (row.t - satb.HEADER) % satb.FRAME
    if not leading or row.t < satb.HEADER or k == 0:
        return ok
    v = k - 1
    held = row.prev[v]
    pitch_ok = ok[satb.PITCH0:satb.POS0]
    for mask in reversed(_leading(row, v)):  # the strictest that leaves a note
        hold_ok = bool(ok[satb.HOLD]) and bool(mask[held - satb.LOW]) \
            if satb.LOW <= held <= satb.HIGH else False
        if (pitch_ok & mask).any() or hold_ok:
            out = ok.copy()
            out[satb.PITCH0:satb.POS0] = pitch_ok & mask
            out[satb.HOLD] = hold_ok
            return out
    return ok


def rule(leading: bool) -> Callable[[np.ndarray], np.ndarray]:
    """The constraint rule: tokens so far (B, T) -> (B, V) True where forbidden."""
    rows: list[Reader] = []
    done = [0]  # columns of ``seen`` already read

    def forbid(seen: np.ndarray) -> np.ndarray:
        if len(rows) != len(seen) or seen.shape[1] < done[0]:  # a new call: start again
            rows[:] = [Reader() for _ in range(len(seen))]
            done[0] = 0
        for b, row in enumerate(rows):
            for tok in seen[b, done[0]:].tolist():
                row.read(int(tok))
        done[0] = seen.shape[1]
        return ~np.stack([_allowed(row, leading) for row in rows])  # (B, V)
    return forbid
