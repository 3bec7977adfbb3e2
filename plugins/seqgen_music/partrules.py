"""Rules that keep a ``voices`` sample well formed and, if asked, singable (issue 26 item 4).

The engine calls the rule before every step with the tokens so far (B, T) and masks what it
forbids (``Domain.constraint_rule``). Two layers:

- **the grammar**, always: METER, KEY, then frames of POS S A T B; each POS one sixteenth after
  the last (its fermata flag free), a BAR on each bar line saying the header's key again; a
  HOLD only where the voice sounded in the frame before; the end only between frames.
- **voice leading** (``-o voice_leading=on``): each voice within Bach's range (chorale.RANGES), no
  voice above the voice over it (crossing), no parallel fifths or octaves (unisons and compound
  intervals included) with the frame before: the textbook rules a chorale student learns first;
  and the ending on the tonic triad (root in the bass): under a harmonized tune's last note,
  and under a fermata once a sample asked for seconds has reached 90 % of them (where the
  length rule ends it). Where they leave a voice no note, the ending gives way first, then the
  parallels rule, then the crossing rule, so that a voice is never forced into a rest.

The rule reads each new token once (state per row), so a sample of T steps costs O(T).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seqgen_music import satb
from seqgen_music.chorale import RANGES, REST

PITCHES = np.arange(satb.LOW, satb.HIGH + 1)  # (P,) the pitch tokens' values
PERFECT = (0, 7)  # interval classes of octaves (and unisons) and fifths


@dataclass
class Ending:
    """Where a piece must close on its tonic triad: from frame ``final`` on (a harmonized tune's
    last note), and at fermatas from frame ``fermatas`` on (a sample near its length)."""

    final: int | None = None
    fermatas: int | None = None

    def due(self, frame: int, fermata: bool) -> bool:
        return (self.final is not None and frame >= self.final) or (
            fermata and self.fermatas is not None and frame >= self.fermatas)


class Reader:
    """What one row has said since its last separator."""

    def __init__(self, relative: bool = False) -> None:
        self.relative = relative  # pitch tokens count from the tonic (satb.reference)
        self.t = 0  # tokens since the separator
        self.bar = 16
        self.tonic, self.minor = 0, False
        self.fermata = self.was_fermata = False  # this frame's, the last frame's
        self.pos = -1
        self.cur = [REST] * 4  # this frame's pitches so far
        self.prev = [REST] * 4  # the last frame's

    def read(self, tok: int) -> None:
        if tok == satb.SEP:
            self.__init__(self.relative)  # type: ignore[misc]
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
                               if tok == satb.REST_TOKEN else tok - satb.PITCH0 + satb.LOW
                               + satb.reference(self.tonic, self.relative))
        self.t += 1

    @property
    def pitches(self) -> np.ndarray:
        """(P,) the MIDI pitch each pitch token stands for in this piece."""
        return PITCHES + satb.reference(self.tonic, self.relative)

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
    was, pitches = row.prev[v], row.pitches
    if was == REST:
        return bad
    for u in range(v):
        now, before = row.cur[u], row.prev[u]
        if REST in (now, before) or now == before:
            continue
        ic = (before - was) % 12
        if ic not in PERFECT:
            continue
        same_way = np.sign(pitches - was) == np.sign(now - before)
        bad |= same_way & (pitches != was) & ((now - pitches) % 12 == ic)
    return bad


def _tonic(row: Reader, v: int) -> np.ndarray:
    """(P,) the pitches of a complete tonic triad in root position: the bass on the root, the
    tenor given what soprano and alto lack of the third and fifth, one third only (a Picardy
    third allowed in minor)."""
    have = {(p - row.tonic) % 12 for p in row.cur[:v] if p != REST}
    third = ({3, 4} if row.minor else {4}) - ({3, 4} - have if have & {3, 4} else set())
    if v == 3:
        pcs = {0}
    else:
        need = [s for s in (third, {7}) if not have & s]
        pcs = need[0] if v == 2 and len(need) == 1 else {0, 7} | third
    return np.isin((row.pitches - row.tonic) % 12, sorted(pcs))


def _leading(row: Reader, v: int, ending: Ending | None) -> list[np.ndarray]:
    """(P,) pitch masks, strictest last: in range, not crossing, no parallels, the ending."""
    lo, hi = RANGES[v]
    pitches = row.pitches
    ranged = (pitches >= lo) & (pitches <= hi)
    above = [p for p in row.cur[:v] if p != REST]
    crossing = ranged & (pitches <= min(above)) if above else ranged
    masks = [ranged, crossing, crossing & ~_parallel(row, v)]
    frame = (row.t - satb.HEADER) // satb.FRAME
    if ending is not None and ending.due(frame, row.fermata):
        masks.append(masks[-1] & _tonic(row, v))
    return masks


def _allowed(row: Reader, leading: bool, ending: Ending | None = None) -> np.ndarray:
    ok = _grammar(row)
    k = (row.t - satb.HEADER) % satb.FRAME
    if not leading or row.t < satb.HEADER or k == 0:
        return ok
    v = k - 1
    held = row.prev[v] - int(row.pitches[0])  # the held pitch's index among the tokens
    pitch_ok = ok[satb.PITCH0:satb.POS0]
    for mask in reversed(_leading(row, v, ending)):  # the strictest that leaves a note
        hold_ok = bool(ok[satb.HOLD]) and bool(mask[held]) if 0 <= held < len(mask) else False
        if (pitch_ok & mask).any() or hold_ok:
            out = ok.copy()
            out[satb.PITCH0:satb.POS0] = pitch_ok & mask
            out[satb.HOLD] = hold_ok
            return out
    return ok


def rule(leading: bool, relative: bool = False, ending: Ending | None = None
         ) -> Callable[[np.ndarray], np.ndarray]:
    """The constraint rule: tokens so far (B, T) -> (B, V) True where forbidden; ``relative``:
    the pitch tokens count from the tonic (satb.reference); ``ending``: where voice leading
    closes on the tonic."""
    rows: list[Reader] = []
    done = [0]  # columns of ``seen`` already read

    def forbid(seen: np.ndarray) -> np.ndarray:
        if len(rows) != len(seen) or seen.shape[1] < done[0]:  # a new call: start again
            rows[:] = [Reader(relative) for _ in range(len(seen))]
            done[0] = 0
        for b, row in enumerate(rows):
            for tok in seen[b, done[0]:].tolist():
                row.read(int(tok))
        done[0] = seen.shape[1]
        return ~np.stack([_allowed(row, leading, ending) for row in rows])  # (B, V)
    return forbid
