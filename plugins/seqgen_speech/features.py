"""Acoustic features with the Tacotron 2 front end, on librosa and torch.stft; reading audio.

Log-mel: 22050 Hz, n_fft 1024, hop 256, periodic Hann window 1024, centred frames with reflect
padding, 80 mel bins (``librosa.filters.mel``: Slaney scale and area normalisation), fmin 0,
fmax 8000, magnitude (not power) mel, ``log(clamp(mel, 1e-5))``. MFCC: the orthonormal DCT-II of
those log-mel frames (scipy's, as ``librosa.feature.mfcc`` on them), first ``N_MFCC``
coefficients (inverted by scipy's inverse DCT with the rest set to zero).

One STFT for the plugin, torch.stft on one thread, here and in Griffin-Lim (invert.py): on the
2-core build machine it took 0.19 ms for 0.36 s of speech and 1.4 ms for 3.9 s, against
librosa.stft's 0.49 and 2.2 ms (benchmarks/bench_speech.py); with torch's default two threads on
a busy CPU it took 13 and 32 ms, hence ``one_thread``. tests/test_speech_librosa.py checks it
against ``librosa.stft`` and ``librosa.feature.melspectrogram``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError

SR, N_FFT, HOP, WIN, N_MELS, FMIN, FMAX = 22050, 1024, 256, 1024, 80, 0.0, 8000.0
N_MFCC = 40
LOG_FLOOR = 1e-5


@functools.cache
def mel_basis(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS, fmin: float = FMIN,
              fmax: float = FMAX) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) triangular filters, Slaney-normalised (librosa's default)."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                               htk=False, norm="slaney", dtype=np.float32)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread for the block: small FFTs only wait on a second, busy core."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@functools.cache
def _window() -> Any:
    import torch

    return torch.hann_window(WIN)  # periodic, as librosa's get_window("hann")


def stft(y: Any) -> Any:
    """Complex STFT (1 + n_fft // 2, T) of a 1-D float32 tensor: the plugin's one convention."""
    import torch

    return torch.stft(y, N_FFT, HOP, WIN, _window(), center=True, pad_mode="reflect",
                      return_complex=True)


def istft(spec: Any, length: int) -> Any:
    """The inverse of ``stft`` (overlap-add with the same window), ``length`` samples."""
    import torch

    return torch.istft(spec, N_FFT, HOP, WIN, _window(), center=True, length=length)


def magnitude(audio: np.ndarray) -> np.ndarray:
    """|STFT| (T, 1 + n_fft // 2) float32 of mono float audio."""
    import torch

    with one_thread(), torch.inference_mode():
        return stft(torch.as_tensor(np.ascontiguousarray(audio, np.float32))).abs().T.numpy()


@functools.cache
def _mel_basis_t() -> Any:
    import torch

    return torch.as_tensor(mel_basis()).T.contiguous()  # (513, 80)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(T, 80) float32 log-mel frames of mono float audio at 22050 Hz."""
    import torch

    if len(audio) < N_FFT // 2 + 1:  # reflect padding needs more samples than half a frame
        audio = np.pad(audio, (0, N_FFT // 2 + 1 - len(audio)))
    # the filter bank's product in torch too, on the one thread: numpy's BLAS takes both cores
    # and made log_mel 3 times slower on the shared machine (7.0 ms against 2.2 for 1 s)
    with one_thread(), torch.inference_mode():
        spec = stft(torch.as_tensor(np.ascontiguousarray(audio, np.float32)))
        mel = spec.abs().T @ _mel_basis_t()
        return torch.log(torch.clamp(mel, min=LOG_FLOOR)).numpy()


def mfcc_from_log_mel(lm: np.ndarray, n: int = N_MFCC) -> np.ndarray:
    from scipy.fft import dct

    # what librosa.feature.mfcc(S=lm.T, norm="ortho") computes (the tests check it), less
    # the 1.5 s its first call spends loading librosa.feature; float64, so the round trip is
    # exact to 1e-6
    return dct(np.asarray(lm, np.float64), type=2, norm="ortho", axis=-1)[..., :n].astype(
        np.float32)


def log_mel_from_mfcc(c: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    from scipy.fft import idct

    # n pads the dropped coefficients with zeros before the inverse
    return idct(np.asarray(c, np.float64), n=n_mels, type=2, norm="ortho",
                axis=-1).astype(np.float32)


def features(audio: np.ndarray, kind: str = "logmel") -> np.ndarray:
    lm = log_mel(audio)
    return mfcc_from_log_mel(lm) if kind == "mfcc" else lm


def to_log_mel(frames: np.ndarray, kind: str = "logmel") -> np.ndarray:
    """Feature frames of either kind back to log-mel (for rendering and MCD)."""
    return log_mel_from_mfcc(frames) if kind == "mfcc" else np.asarray(frames, np.float32)


def trim_silence(audio: np.ndarray, top_db: float = 60.0) -> np.ndarray:
    """``audio`` without its leading and trailing frames quieter than ``top_db`` below its
    loudest (``librosa.effects.trim``, in the features' frames and hops)."""
    import librosa

    return librosa.effects.trim(np.asarray(audio, np.float32), top_db=top_db,
                                frame_length=N_FFT, hop_length=HOP)[0]


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

    # soundfile, not librosa.load: load falls back to audioread on a file soundfile refuses,
    # which would turn "not a readable audio file" into a deprecation warning and a decoder hunt
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
    if rate != SR and len(audio):
        import librosa

        # polyphase: scipy's resample_poly, exact for the integer ratios of common rates
        audio = librosa.resample(audio, orig_sr=int(rate), target_sr=SR, res_type="polyphase")
    if len(audio) == 0 or float(np.max(np.abs(audio))) < 1e-4:
        raise SeqgenError(f"{path}: the recording is silent (peak below -80 dBFS)")
    return np.asarray(audio, np.float32)
