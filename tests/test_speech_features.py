"""Speech features, Griffin-Lim inversion and the mel-cepstral distortion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqgen_speech.features import (
    HOP,
    SR,
    log_mel,
    log_mel_from_mfcc,
    magnitude,
    mel_basis,
    mfcc_from_log_mel,
)
from seqgen_speech.invert import mel_to_linear, to_audio
from seqgen_speech.mcd import cepstra, dtw_path, mcd


def chirp(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    f = 200 + 1500 * t  # 200 Hz rising to ~2.4 kHz
    return (0.5 * np.sin(2 * np.pi * np.cumsum(f) / SR)).astype(np.float32)


def test_mel_basis_is_tacotron2_slaney() -> None:
    fb = mel_basis()
    assert fb.shape == (80, 513) and (fb >= 0).all()
    freqs = np.linspace(0, SR / 2, 513)
    assert fb[:, freqs > 8000].max() == 0  # fmax 8000
    peaks = freqs[fb.argmax(1)]
    assert np.all(np.diff(peaks) >= 0) and peaks[0] < 60
    # Slaney area normalisation: each triangle's area over frequency (Hz) is 1
    area = fb.sum(1) * (SR / 1024)
    np.testing.assert_allclose(area[30:], 1.0, rtol=0.05)


def test_log_mel_shape_and_content() -> None:
    x = chirp()
    lm = log_mel(x)
    assert lm.shape == (1 + len(x) // HOP, 80) and lm.dtype == np.float32
    assert lm.min() >= math.log(1e-5) - 1e-6
    # the loudest bin rises with the chirp's frequency
    top = lm.argmax(1)
    assert top[-10:].mean() > top[:10].mean() + 10
    silent = log_mel(np.zeros(SR // 2, np.float32))
    assert np.allclose(silent, math.log(1e-5))


def test_mfcc_round_trip_is_a_projection() -> None:
    lm = log_mel(chirp(0.5))
    c = mfcc_from_log_mel(lm)
    assert c.shape == (len(lm), 40)
    np.testing.assert_allclose(mfcc_from_log_mel(log_mel_from_mfcc(c)), c, atol=1e-3)
    full = mfcc_from_log_mel(lm, 80)
    np.testing.assert_allclose(log_mel_from_mfcc(full), lm, atol=1e-3)  # orthonormal DCT


def test_griffin_lim_inversion() -> None:
    x = chirp()
    lm = log_mel(x)
    y = to_audio(lm)
    assert abs(len(y) - len(x)) <= HOP and np.abs(y).max() <= 1.0
    back = log_mel(y)
    n = min(len(back), len(lm))
    # spectral convergence of the mel magnitudes
    a, b = np.exp(lm[:n]), np.exp(back[:n])
    sc = np.linalg.norm(a - b) / np.linalg.norm(a)
    assert sc < 0.35, sc
    assert mcd(lm, back) < 8.0
    # the pseudo-inverse keeps the chirp's energy where it was
    lin = mel_to_linear(lm)
    assert lin.shape == (len(lm), 513) and (lin > 0).all()
    assert abs(int(lin[5].argmax()) - int(magnitude(x)[5].argmax())) <= 3


def test_mcd_hand_checked() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(-4, 2, (30, 80)).astype(np.float32)
    assert mcd(a, a) == 0.0 and mcd(a, a, align=False) == 0.0
    assert mcd(a, a + 3.0) == pytest.approx(0.0, abs=1e-5)  # only c0 moves: excluded
    n = np.arange(80)
    delta, d = 0.5, 3
    b = a + delta * np.cos(np.pi * d * (n + 0.5) / 80)  # c_3 moves by exactly delta
    assert np.allclose(cepstra(b) - cepstra(a), np.eye(24)[d - 1] * delta, atol=1e-9)
    expected = 10 / math.log(10) * math.sqrt(2 * delta ** 2)  # 3.0705 dB
    assert mcd(a, b, align=False) == pytest.approx(expected, rel=1e-6)
    assert mcd(a, b) == pytest.approx(expected, rel=1e-6)


def test_dtw_aligns_a_stretched_copy() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(-4, 2, (25, 80))
    slow = np.repeat(a, 2, axis=0)  # the same utterance spoken at half speed
    assert mcd(a, slow) == pytest.approx(0.0, abs=1e-9)
    assert mcd(a, slow, align=False) > 1.0
    ia, ib = dtw_path(np.array([[0, 5, 5, 5], [5, 0, 0, 5], [5, 5, 5, 0.0]]))
    assert ia.tolist() == [0, 1, 1, 2] and ib.tolist() == [0, 1, 2, 3]
