"""Acoustic features with the Tacotron 2 front end, and reading audio files.

Log-mel: 22050 Hz, n_fft 1024, hop 256, Hann window 1024, 80 mel bins (Slaney scale and
area normalisation, as ``librosa.filters.mel``), fmin 0, fmax 8000, magnitude (not power) mel,
``log(clamp(mel, 1e-5))``. MFCC: the orthonormal DCT-II of those log-mel frames, first
``N_MFCC`` coefficients (inverted by the inverse DCT with the rest set to zero).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from seqgen.errors import SeqgenError

SR, N_FFT, HOP, WIN, N_MELS, FMIN, FMAX = 22050, 1024, 256, 1024, 80, 0.0, 8000.0
N_MFCC = 40
LOG_FLOOR = 1e-5


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa htk=False)."""
    f = np.asarray(f, np.float64)
    mel = f / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log_part, mel)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)),
                    m * (200.0 / 3))


@functools.cache
def mel_basis(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS, fmin: float = FMIN,
              fmax: float = FMAX) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) triangular filters, Slaney-normalised (librosa's default)."""
    fft_f = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(np.array(fmin)), _hz_to_mel(np.array(fmax)),
                                   n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0, np.minimum(lower, upper))
    w *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return w.astype(np.float32)


@functools.cache
def dct_matrix(n: int = N_MELS) -> np.ndarray:
    """(n, n) orthonormal DCT-II: ``c = M @ x``, ``x = M.T @ c``."""
    k = np.arange(n)[:, None]
    m = np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float64)


def magnitude(audio: np.ndarray) -> np.ndarray:
    """|STFT| (T, 1 + n_fft // 2): centred frames, reflect padding, periodic Hann (as Tacotron 2's
    torch.stft). numpy's FFT: a small torch op costs more than the whole FFT on a busy CPU."""
    x = np.pad(np.asarray(audio, np.float32), N_FFT // 2, mode="reflect")
    n = 1 + (len(x) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(x, (n, N_FFT), (x.strides[0] * HOP, x.strides[0]))
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)).astype(np.float32)
    return np.abs(np.fft.rfft(frames * window, axis=1)).astype(np.float32)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(T, 80) float32 log-mel frames of mono float audio at 22050 Hz."""
    if len(audio) < N_FFT // 2 + 1:
        audio = np.pad(audio, (0, N_FFT // 2 + 1 - len(audio)))
    mel = magnitude(audio) @ mel_basis().T
    return np.log(np.maximum(mel, LOG_FLOOR)).astype(np.float32)


def mfcc_from_log_mel(lm: np.ndarray, n: int = N_MFCC) -> np.ndarray:
    return (lm.astype(np.float64) @ dct_matrix(lm.shape[-1])[:n].T).astype(np.float32)


def log_mel_from_mfcc(c: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    return (c.astype(np.float64) @ dct_matrix(n_mels)[:c.shape[-1]]).astype(np.float32)


def features(audio: np.ndarray, kind: str = "logmel") -> np.ndarray:
    lm = log_mel(audio)
    return mfcc_from_log_mel(lm) if kind == "mfcc" else lm


def to_log_mel(frames: np.ndarray, kind: str = "logmel") -> np.ndarray:
    """Feature frames of either kind back to log-mel (for rendering and MCD)."""
    return log_mel_from_mfcc(frames) if kind == "mfcc" else np.asarray(frames, np.float32)


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
#: sample rates read (Hz): below, no speech survives; above, no recorder goes (and resampling a
#: damaged header's rate would build a filter of billions of taps)
MIN_RATE, MAX_RATE = 4000, 768000


def read_audio(path: Path) -> np.ndarray:
    """Mono float32 audio at 22050 Hz from a WAV/FLAC/OGG file (mixed down, resampled).

    Raises SeqgenError naming the file when it is not audio (or holds NaN or infinite
    samples), has a sample rate outside MIN_RATE..MAX_RATE, or is silent.
    """
    import soundfile as sf

    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SeqgenError(f"{path}: not a readable audio file ({first})") from None
    if not MIN_RATE <= rate <= MAX_RATE:
        raise SeqgenError(f"{path}: sample rate {rate} Hz; seqgen reads {MIN_RATE} to "
                          f"{MAX_RATE} Hz")
    if not np.isfinite(audio).all():
        raise SeqgenError(f"{path}: not a readable audio file (NaN or infinite samples)")
    audio = audio.mean(axis=1)
    if rate != SR:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(rate), SR)
        audio = resample_poly(audio, SR // g, int(rate) // g).astype(np.float32)
    if len(audio) == 0 or float(np.max(np.abs(audio))) < 1e-4:
        raise SeqgenError(f"{path}: the recording is silent (peak below -80 dBFS)")
    return audio
