"""Duration-informed speech: what the frame model and the duration model read at every step.

The frame model (``-o mode=phonemes``) is a plain LSTM over frames whose input at each step is
the previous frame and the columns known ahead (the engine's ``VectorInput.known``): the
current phoneme with its neighbours, its stress, and where the frame sits in it, as Zen and
Sak 2015 and Merlin feed a frame-level acoustic model. The duration model (``-o
mode=durations``) is the same engine over phonemes: its step is one phoneme's log-duration,
its known columns the phoneme with two on each side and its place in the phrase. eSpeak NG
gives the phonemes of any text, and its own durations for comparison (``-o durations=espeak``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqgen.errors import SeqgenError

STRESS = {"ˈ": 0, "ˌ": 1}  # eSpeak's IPA stress marks, written before a vowel
UNKNOWN = "?"  # a phoneme the corpus never spoke (its own column)
PAUSE = ""  # a clause's pause, and the lead-in before the first phoneme


def split(symbol: str) -> tuple[str, np.ndarray]:
    """``ˈeɪ`` -> (``eɪ``, stress one-hot (2,)): primary, secondary."""
    stress = np.zeros(2, np.float32)
    for mark, col in STRESS.items():
        if mark in symbol:
            stress[col] = 1.0
    return "".join(c for c in symbol if c not in STRESS), stress


@dataclass
class Inventory:
    """The phonemes a model knows, in column order: the pause first, the unknown last."""

    symbols: list[str]

    @classmethod
    def fit(cls, phone_lists: Sequence[Sequence[str]]) -> Inventory:
        found = sorted({split(p)[0] for ps in phone_lists for p in ps} - {PAUSE})
        if not found:
            raise SeqgenError("the corpus has no phoneme timings: -o mode=phonemes needs "
                              "them (the embedded eSpeak corpus has them; recordings get them "
                              "by alignment, or use -o mode=synthesis)")
        return cls([PAUSE, *found, UNKNOWN])

    @property
    def size(self) -> int:
        return len(self.symbols)

    def ids(self, phones: Sequence[str]) -> np.ndarray:
        index = {s: i for i, s in enumerate(self.symbols)}
        return np.array([index.get(split(p)[0], self.size - 1) for p in phones], np.int64)

    def unknown(self, phones: Sequence[str]) -> list[str]:
        known = set(self.symbols)
        return sorted({split(p)[0] for p in phones} - known)


def _onehots(ids: np.ndarray, size: int, shifts: Sequence[int]) -> np.ndarray:
    """Each position's phoneme and its neighbours at ``shifts`` as one-hots, the pause
    beyond either end: (P, len(shifts) * size)."""
    P = len(ids)
    out = np.zeros((P, len(shifts) * size), np.float32)
    for j, sh in enumerate(shifts):
        idx = np.arange(P) + sh
        nb = np.where((idx >= 0) & (idx < P), ids[np.clip(idx, 0, max(P - 1, 0))], 0)
        out[np.arange(P), j * size + nb] = 1.0
    return out


FRAME_SHIFTS = (-1, 0, 1)
PHONE_SHIFTS = (-2, -1, 0, 1, 2)


def frame_dims(inv: Inventory) -> int:
    return len(FRAME_SHIFTS) * inv.size + 2 + 4


def phone_dims(inv: Inventory) -> int:
    return len(PHONE_SHIFTS) * inv.size + 4 + 5


def frame_track(phones: Sequence[str], durations: np.ndarray, inv: Inventory) -> np.ndarray:
    """(F, C) per frame: the phoneme and its neighbours, its stress, the frame's place in it
    (fraction, frames in, frames left, the phoneme's log length); F = sum of durations."""
    dur = np.asarray(durations, np.int64)
    keep = dur > 0  # a phoneme of no frames is still a neighbour of the next one
    ids = inv.ids(phones)
    per = np.concatenate([_onehots(ids, inv.size, FRAME_SHIFTS),
                          np.stack([split(p)[1] for p in phones])], 1)[keep]  # (P', 3S + 2)
    d = dur[keep]
    rows = np.repeat(np.arange(len(d)), d)  # (F,) the phoneme of each frame
    k = np.arange(len(rows)) - np.repeat(np.cumsum(d) - d, d)  # (F,) frames into it
    dd = d[rows].astype(np.float32)
    place = np.stack([(k + 0.5) / dd, k / 10.0, (dd - 1 - k) / 10.0, np.log(dd) / 3.0], 1)
    return np.concatenate([per[rows], place], 1).astype(np.float32)  # (F, C)


def phone_track(phones: Sequence[str], inv: Inventory, question: bool = False) -> np.ndarray:
    """(P, C) per phoneme: it and two neighbours each side, its and the next one's stress,
    its place between pauses (phonemes since, until; the last before a pause), whether the
    sentence is a question."""
    ids = inv.ids(phones)
    P = len(ids)
    stress = np.stack([split(p)[1] for p in phones])  # (P, 2)
    nxt = np.concatenate([stress[1:], np.zeros((1, 2), np.float32)])
    pause = np.array([split(p)[0] == PAUSE for p in phones])
    since = np.zeros(P, np.float32)
    until = np.zeros(P, np.float32)
    for i in range(1, P):
        since[i] = 0 if pause[i - 1] else since[i - 1] + 1
    for i in range(P - 2, -1, -1):
        until[i] = 0 if pause[i + 1] else until[i + 1] + 1
    final = np.append(pause[1:], True).astype(np.float32)  # a pause or the end follows
    place = np.stack([since / 10.0, until / 10.0, final,
                      np.full(P, float(question), np.float32),
                      np.arange(P, dtype=np.float32) / 50.0], 1)
    return np.concatenate([_onehots(ids, inv.size, PHONE_SHIFTS), stress, nxt, place],
                          1).astype(np.float32)


def step_track(track: np.ndarray, r: int) -> np.ndarray:
    """Frame columns -> step columns when a step holds r frames: each step's first frame."""
    return track[::r]


def log_durations(durations: np.ndarray) -> np.ndarray:
    """What the duration model predicts: log(1 + frames)."""
    return np.log1p(np.asarray(durations, np.float64)).astype(np.float32)


def frames_of(log_dur: np.ndarray, rate: float = 1.0) -> np.ndarray:
    """Predicted log(1 + frames) -> whole frames, scaled by 1 / rate (faster speech at 2)."""
    return np.maximum(np.rint(np.expm1(np.asarray(log_dur, np.float64)) / rate), 0).astype(
        np.int64)
