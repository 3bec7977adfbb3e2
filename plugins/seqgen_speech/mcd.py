"""Mel-cepstral distortion (dB), aligned with dynamic time warping.

Mel-cepstra come from log-mel frames by the DCT-II, scaled as SPTK's one-sided cepstrum
(``log_mel[n] = c_0 + sum_d c_d cos(pi d (n + 1/2) / N)``, natural log, the convention of the
mcep coefficients Merlin measures), orders 1..``ORDER`` (c0, the energy, excluded). Per
frame, as Merlin: ``(10 / ln 10) * sqrt(2 * sum_d (c_d - c'_d)^2)``; the frames of two
utterances are paired by DTW on that distance (``librosa.sequence.dtw``) and the MCD is the mean
over the path. An utterance with no frames has no MCD: ``mcd`` raises ``EmptyUtterance`` (a
ValueError) naming which one, and ``seqgen speech-eval`` counts such samples instead.
"""

from __future__ import annotations

import math

import numpy as np

ORDER = 24
K = 10.0 / math.log(10.0) * math.sqrt(2.0)


class EmptyUtterance(ValueError):
    """One of the two utterances given to ``mcd`` has no frames."""


def cepstra(log_mel: np.ndarray, order: int = ORDER) -> np.ndarray:
    """(T, N) natural-log mel spectra -> (T, order) mel-cepstra c_1..c_order."""
    from scipy.fft import dct

    x = np.asarray(log_mel, np.float64)
    # scipy's unnormalised DCT-II is 2 sum_n x_n cos(pi d (n + 1/2) / N): SPTK's c_d times N
    return dct(x, type=2, norm=None, axis=-1)[..., 1:order + 1] / x.shape[-1]


def frame_mcd(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """MCD in dB of paired cepstral frames (..., order)."""
    return K * np.sqrt(np.sum((np.asarray(c1) - np.asarray(c2)) ** 2, axis=-1))


def dtw_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The minimum-cost monotone path through a (T1, T2) cost matrix (steps (1,0), (0,1), (1,1)),
    from (0, 0) to (T1 - 1, T2 - 1): ``librosa.sequence.dtw``, compiled by numba."""
    import librosa

    _, path = librosa.sequence.dtw(C=np.ascontiguousarray(cost, np.float64), backtrack=True)
    p = path[::-1]  # librosa gives the path from its end
    return p[:, 0], p[:, 1]


def mcd(log_mel_a: np.ndarray, log_mel_b: np.ndarray, align: bool = True) -> float:
    """MCD in dB between two utterances' log-mel frames, DTW-aligned (or frame by frame).

    Raises EmptyUtterance when either has no frames (no path to average over: a mean over
    nothing) and ValueError when they are not (T, bins) arrays with the same bins."""
    a, b = _checked(log_mel_a, "first"), _checked(log_mel_b, "second")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"mcd: {a.shape[1]} against {b.shape[1]} mel bins")
    a, b = cepstra(a), cepstra(b)
    if not align:
        n = min(len(a), len(b))
        return float(np.mean(frame_mcd(a[:n], b[:n])))
    cost = frame_mcd(a[:, None, :], b[None, :, :])  # (T1, T2)
    ia, ib = dtw_path(cost)
    return float(np.mean(cost[ia, ib]))


def _checked(frames: np.ndarray, which: str) -> np.ndarray:
    x = np.asarray(frames)
    if x.ndim != 2:
        raise ValueError(f"mcd: the {which} utterance is not (T, bins) frames: shape {x.shape}")
    if len(x) == 0:
        raise EmptyUtterance(f"mcd: the {which} utterance has no frames")
    return x
