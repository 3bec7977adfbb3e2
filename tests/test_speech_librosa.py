"""The speech plugin against librosa's own output, on audio the tests make (eSpeak NG, chirps).

Also the references kept from before librosa: the orthonormal DCT matrix of the MFCC and the
Python DTW of the MCD, so that the move to librosa is checked to change no figure.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly
from test_speech_features import chirp

from seqgen_speech import corpus
from seqgen_speech.features import (
    FMAX,
    HOP,
    N_FFT,
    SR,
    WIN,
    log_mel,
    log_mel_from_mfcc,
    magnitude,
    mfcc_from_log_mel,
    read_audio,
    trim_silence,
)
from seqgen_speech.invert import griffin_lim, mel_to_linear
from seqgen_speech.mcd import cepstra, dtw_path, frame_mcd, mcd

STFT = {"n_fft": N_FFT, "hop_length": HOP, "win_length": WIN, "center": True,
        "pad_mode": "reflect"}


@functools.cache
def hello() -> np.ndarray:
    return corpus.speak("hello world, the cat sleeps.")


@pytest.mark.parametrize("source", ["espeak", "chirp"])
def test_log_mel_is_librosa_melspectrogram(source: str) -> None:
    y = hello() if source == "espeak" else chirp(0.7)
    ref = librosa.feature.melspectrogram(y=y, sr=SR, n_mels=80, fmin=0, fmax=8000, power=1.0,
                                         **STFT)
    lm = log_mel(y)
    # float32 STFTs: equal to 1e-6 of the loudest bin; in logs to 1e-3, and to 1e-2 in bins
    # over e^10 (22,000) times quieter than the loudest, next to the 1e-5 floor
    np.testing.assert_allclose(np.exp(lm), np.maximum(ref, 1e-5).T, atol=1e-6 * ref.max())
    ref_log = np.log(np.maximum(ref, 1e-5)).T
    np.testing.assert_allclose(lm, ref_log, atol=1e-2)
    loud = ref_log > math.log(ref.max()) - 10
    np.testing.assert_allclose(lm[loud], ref_log[loud], atol=1e-3)
    # the plugin's one STFT (torch.stft) against librosa's, so either could stand for it
    lib = np.abs(librosa.stft(y, **STFT)).T
    np.testing.assert_allclose(magnitude(y), lib, atol=1e-5 * lib.max())


def _dct_matrix(n: int) -> np.ndarray:
    """The MFCC's definition before librosa: (n, n) orthonormal DCT-II, c = M @ x."""
    k = np.arange(n)[:, None]
    m = np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def test_mfcc_keeps_its_definition_and_inverse() -> None:
    lm = log_mel(hello())
    m = _dct_matrix(80)
    c = mfcc_from_log_mel(lm)
    np.testing.assert_allclose(c, lm.astype(np.float64) @ m[:40].T, atol=1e-4)
    np.testing.assert_allclose(log_mel_from_mfcc(c), c.astype(np.float64) @ m[:40], atol=1e-4)
    lib = librosa.feature.mfcc(S=lm.T, sr=SR, n_mfcc=40, dct_type=2, norm="ortho").T
    np.testing.assert_allclose(c, lib, atol=1e-4)
    # SPTK-scaled cepstra of the MCD: the same DCT, one-sided and divided by N
    np.testing.assert_allclose(cepstra(lm)[:, :10], (lm @ m[1:11].T) * math.sqrt(2 / 80),
                               atol=1e-5)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_read_audio_resamples_as_resample_poly(tmp_path: Path, rate: int) -> None:
    y = resample_poly(hello(), rate // 50, SR // 50).astype(np.float32)
    path = tmp_path / f"at{rate}.flac"
    sf.write(str(path), y, rate, subtype="PCM_24")
    raw, _ = sf.read(str(path), dtype="float32")
    g = math.gcd(rate, SR)
    np.testing.assert_allclose(read_audio(path), resample_poly(raw, SR // g, rate // g),
                               atol=1e-6)


def python_dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mcd.py's DTW before librosa.sequence.dtw, the reference it must agree with."""
    T1, T2 = cost.shape
    acc = np.full((T1 + 1, T2 + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, T1 + 1):
        row, prev, c = acc[i], acc[i - 1], cost[i - 1]
        base = c + np.minimum(prev[:-1], prev[1:])
        for j in range(1, T2 + 1):
            left = row[j - 1] + c[j - 1]
            row[j] = base[j - 1] if base[j - 1] < left else left
    i, j, path = T1, T2, [(T1 - 1, T2 - 1)]
    while i > 1 or j > 1:
        _, i, j = min(((acc[i - 1, j - 1], i - 1, j - 1), (acc[i - 1, j], i - 1, j),
                       (acc[i, j - 1], i, j - 1)), key=lambda m: m[0])
        path.append((i - 1, j - 1))
    p = np.asarray(path[::-1])
    return p[:, 0], p[:, 1]


def _old_mcd(a: np.ndarray, b: np.ndarray) -> float:
    cost = frame_mcd(cepstra(a)[:, None, :], cepstra(b)[None, :, :])
    ia, ib = python_dtw(cost)
    return float(np.mean(cost[ia, ib]))


def test_dtw_is_unchanged_by_librosa() -> None:
    text = "one two three, the dog runs."
    fast = log_mel(corpus.speak(text, rate=220))
    slow = log_mel(corpus.speak(text, "en-gb-x-rp", rate=140, pitch=30))
    noisy = slow + np.random.default_rng(2).normal(0, 0.5, slow.shape).astype(np.float32)
    for a, b in ((fast, slow), (slow, fast), (fast, noisy), (fast[:7], slow)):
        cost = frame_mcd(cepstra(a)[:, None, :], cepstra(b)[None, :, :])
        for got, ref in zip(dtw_path(cost), python_dtw(cost), strict=True):
            np.testing.assert_array_equal(got, ref)
        assert mcd(a, b) == pytest.approx(_old_mcd(a, b), rel=1e-12)


def test_dtw_hand_checked() -> None:
    # by hand: the diagonal costs 0 + 9 + 2 = 11, down the left 0 + 1 + 9 + 2 = 12; right
    # then diagonally down through the 0 at (1, 2) costs 0 + 4 + 0 + 2 = 6, the least
    cost = np.array([[0.0, 4, 9], [1, 9, 0], [9, 9, 2]])
    ia, ib = dtw_path(cost)
    assert ia.tolist() == [0, 0, 1, 2] and ib.tolist() == [0, 1, 2, 2]
    assert float(np.mean(cost[ia, ib])) == 1.5  # what mcd averages: 6 over 4 pairs


def _spectral_convergence(audio: np.ndarray, target: np.ndarray) -> float:
    got = magnitude(audio)[:len(target)]
    return float(np.linalg.norm(got - target[:len(got)]) / np.linalg.norm(target[:len(got)]))


def test_torch_griffin_lim_agrees_with_librosa() -> None:
    lm = log_mel(hello())
    mag = mel_to_linear(lm)
    ours = griffin_lim(mag)
    theirs = librosa.griffinlim(np.ascontiguousarray(mag.T), n_iter=32, momentum=0.99,
                                random_state=0, length=len(ours), **STFT)
    assert len(ours) == len(theirs) == (len(lm) - 1) * HOP
    sc_ours, sc_theirs = _spectral_convergence(ours, mag), _spectral_convergence(theirs, mag)
    assert sc_ours < 0.4 and abs(sc_ours - sc_theirs) < 0.05, (sc_ours, sc_theirs)
    mcd_ours, mcd_theirs = mcd(log_mel(ours), lm), mcd(log_mel(theirs), lm)
    assert mcd_ours < 3.0 and abs(mcd_ours - mcd_theirs) < 0.3, (mcd_ours, mcd_theirs)


def test_spectrogram_axes_are_seconds_and_hz(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from seqgen.engine import plot
    from seqgen_speech.render import plot_spectrograms

    figures: list[Any] = []
    plt = plot.pyplot()

    class Keep:  # pyplot whose close keeps the figure for the test to read
        def __getattr__(self, name: str) -> Any:
            return getattr(plt, name)

        def close(self, fig: Any) -> None:
            figures.append(fig)

    monkeypatch.setattr(plot, "pyplot", Keep)
    short, long = log_mel(chirp(0.5)), log_mel(chirp(1.0))
    plot_spectrograms([("a", short), ("b", long)], tmp_path / "s.png")
    top, bottom = figures[0].axes[:2]
    assert top.get_ylabel() == "Hz" and bottom.get_xlabel() == "seconds"
    assert top.get_xlim() == pytest.approx((0, len(long) * HOP / SR))  # one time axis
    # mel-spaced Hz: the top bin is centred at fmax, its cell's edge half a bin above
    assert top.get_yscale() == "symlog" and 8000 <= top.get_ylim()[1] <= 1.03 * FMAX
    plt.close(figures[0])
    assert plt.imread(str(tmp_path / "s.png")).shape[0] == 2 * round(1.9 * 80)


def test_trim_silence_and_pitch_statistics() -> None:
    from seqgen_speech.pitch import pitch_stats

    # a voiced glide 110 -> 165 Hz (five harmonics) between half seconds of near silence
    t = np.arange(int(0.6 * SR)) / SR
    f0 = 110 + 55 * t / t[-1]
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(0.3 / k * np.sin(k * phase) for k in range(1, 6)).astype(np.float32)
    hush = np.full(SR // 2, 1e-5, np.float32)
    y = np.concatenate([hush, voice, hush])
    kept = trim_silence(y)
    assert len(voice) <= len(kept) <= len(voice) + 2 * N_FFT
    got = pitch_stats(y)  # pyin once in the suite: numba compiles it for seconds
    assert got["f0_median_hz"] == pytest.approx(137.5, rel=0.03)
    assert got["f0_low_hz"] == pytest.approx(112.75, rel=0.04)
    assert got["f0_high_hz"] == pytest.approx(162.25, rel=0.04)
    assert got["f0_range_semitones"] == pytest.approx(12 * math.log2(162.25 / 112.75), abs=1)
    assert got["voiced_fraction"] > 0.8  # type: ignore[operator]
    none = pitch_stats(np.zeros(1000, np.float32))
    assert none["f0_median_hz"] is None and none["voiced_fraction"] == 0.0
