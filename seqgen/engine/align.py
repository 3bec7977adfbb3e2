"""Forced alignment: where each label of a known transcript lies in a sequence of vectors.

Given a CTC recogniser's per-step log-probabilities (engine/recognise.py) and the label ids of
the transcript, the Viterbi path through CTC's extended label sequence (a blank between and
around the labels; Graves et al. 2006) gives each label's first step: the likeliest
segmentation that reads exactly that transcript. This is how CTC-based aligners (torchaudio's
``forced_align``, wav2vec 2.0 alignment) time words and phonemes; speech uses it to give
recordings the phoneme durations its duration-informed model trains on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqgen.errors import SeqgenError

BLANK = 0


def ctc_align(logp: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """(T, C + 1) log-probabilities, blank at 0, and L label ids (1..C) -> (L,) the step at
    which each label starts on the Viterbi path. One line if T cannot hold the labels."""
    T, L = len(logp), len(ids)
    repeats = sum(a == b for a, b in zip(ids, ids[1:], strict=False))
    if L == 0 or T < L + repeats:
        raise SeqgenError(f"{T} steps cannot hold {L} labels (with {repeats} repeats)")
    ext = np.full(2 * L + 1, BLANK, np.int64)
    ext[1::2] = ids  # (S,) blank, l1, blank, l2, ..., blank
    S = len(ext)
    # a label may follow the one two back (skipping a blank) unless the two are the same
    skip = np.zeros(S, bool)
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    score = np.full(S, -np.inf)
    score[:2] = logp[0, ext[:2]]
    back = np.zeros((T, S), np.int8)  # 0: stay, 1: from s - 1, 2: from s - 2
    for t in range(1, T):
        stay, step = score, np.concatenate([[-np.inf], score[:-1]])
        jump = np.where(skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        cand = np.stack([stay, step, jump])  # (3, S)
        back[t] = cand.argmax(0)
        score = cand.max(0) + logp[t, ext]
    s = S - 1 if score[S - 1] >= score[S - 2] else S - 2  # end on the last label or blank
    starts = np.zeros(L, np.int64)
    for t in range(T - 1, -1, -1):
        if s % 2 == 1:
            starts[s // 2] = t  # overwritten down to the label's first step
        s -= int(back[t, s]) if t else 0
    return starts


def durations(starts: np.ndarray, total: int, scale: int = 1) -> tuple[int, np.ndarray]:
    """Label starts (recogniser steps) -> the lead-in before the first label and each label's
    length, in input steps (``scale`` of them a recogniser step), summing to ``total``."""
    bounds = np.minimum(np.asarray(starts, np.int64) * scale, total)
    lengths = np.diff(np.append(bounds, total))  # (L,)
    return int(bounds[0]), lengths
