"""Mel-cepstral distortion (dB), aligned with dynamic time warping.

Mel-cepstra come from log-mel frames by the DCT-II, scaled as SPTK's one-sided cepstrum
(``log_mel[n] = c_0 + sum_d c_d cos(pi d (n + 1/2) / N)``, natural log, the convention of the
mcep coefficients Merlin measures), orders 1..``ORDER`` (c0, the energy, excluded). Per
frame, as Merlin: ``(10 / ln 10) * sqrt(2 * sum_d (c_d - c'_d)^2)``; the frames of two
utterances are paired by DTW on that distance and the MCD is the mean over the path.
"""

from __future__ import annotations

import math

import numpy as np

ORDER = 24
K = 10.0 / math.log(10.0) * math.sqrt(2.0)


def cepstra(log_mel: np.ndarray, order: int = ORDER) -> np.ndarray:
    """(T, N) natural-log mel spectra -> (T, order) mel-cepstra c_1..c_order."""
    x = np.asarray(log_mel, np.float64)
    n = x.shape[-1]
    d = np.arange(1, order + 1)[:, None]
    basis = np.cos(np.pi * d * (np.arange(n)[None, :] + 0.5) / n) * (2.0 / n)
    return x @ basis.T


def frame_mcd(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """MCD in dB of paired cepstral frames (..., order)."""
    return K * np.sqrt(np.sum((np.asarray(c1) - np.asarray(c2)) ** 2, axis=-1))


def dtw_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The minimum-cost monotone path through a (T1, T2) cost matrix (steps (1,0), (0,1), (1,1))."""
    T1, T2 = cost.shape
    acc = np.full((T1 + 1, T2 + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, T1 + 1):
        row, prev, c = acc[i], acc[i - 1], cost[i - 1]
        diag = np.minimum(prev[:-1], prev[1:])  # from (i-1, j-1) or (i-1, j)
        base = c + diag  # (T2,) best without a horizontal move
        # horizontal moves within the row: row[j] = min(base[j], row[j-1] + c[j])
        for j in range(1, T2 + 1):
            left = row[j - 1] + c[j - 1]
            row[j] = base[j - 1] if base[j - 1] < left else left
    i, j = T1, T2
    path = [(i - 1, j - 1)]
    while i > 1 or j > 1:
        moves = ((acc[i - 1, j - 1], i - 1, j - 1), (acc[i - 1, j], i - 1, j),
                 (acc[i, j - 1], i, j - 1))
        _, i, j = min(moves, key=lambda m: m[0])
        path.append((i - 1, j - 1))
    p = np.asarray(path[::-1])
    return p[:, 0], p[:, 1]


def mcd(log_mel_a: np.ndarray, log_mel_b: np.ndarray, align: bool = True) -> float:
    """MCD in dB between two utterances' log-mel frames, DTW-aligned (or frame by frame)."""
    a, b = cepstra(log_mel_a), cepstra(log_mel_b)
    if not align:
        n = min(len(a), len(b))
        return float(np.mean(frame_mcd(a[:n], b[:n])))
    cost = frame_mcd(a[:, None, :], b[None, :, :])  # (T1, T2)
    ia, ib = dtw_path(cost)
    return float(np.mean(cost[ia, ib]))
