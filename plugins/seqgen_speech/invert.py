"""Log-mel frames back to audio: pseudo-inverse mel-to-linear, then fast Griffin-Lim in torch.

Griffin and Lim 1984 with the momentum of Perraudin et al. 2013 ("fast Griffin-Lim", as
``librosa.griffinlim``), on torch.stft/istft with the STFT settings of features.py. 32
iterations take about 0.05 s per second of audio on an idle core (0.16 s measured on the shared
2-core build machine).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from seqgen_speech.features import HOP, N_FFT, SR, WIN, mel_basis


@functools.cache
def _mel_pinv() -> np.ndarray:
    return np.linalg.pinv(mel_basis()).astype(np.float32)  # (513, 80)


def mel_to_linear(log_mel: np.ndarray) -> np.ndarray:
    """(T, 80) log-mel -> (T, 513) non-negative magnitude estimate."""
    mel = np.exp(np.asarray(log_mel, np.float32))
    return np.maximum(mel @ _mel_pinv().T, 1e-10)


def griffin_lim(mag: np.ndarray, n_iter: int = 32, momentum: float = 0.99,
                seed: int = 0) -> np.ndarray:
    """(T, 513) magnitude -> float32 audio of (T - 1) * hop samples."""
    import torch

    S = torch.as_tensor(np.ascontiguousarray(mag.T), dtype=torch.float32)  # (513, T)
    length = (S.shape[1] - 1) * HOP
    g = torch.Generator().manual_seed(seed)
    angles = torch.exp(2j * np.pi * torch.rand(S.shape, generator=g)).to(torch.complex64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small FFTs: a second thread only adds waiting on a busy CPU
    try:
        return _iterate(S, angles, n_iter, momentum, length)
    finally:
        torch.set_num_threads(threads)


def _iterate(S: Any, angles: Any, n_iter: int, momentum: float, length: int) -> np.ndarray:
    import torch

    window = torch.hann_window(WIN)
    prev = torch.zeros_like(angles)

    def istft(spec: torch.Tensor) -> torch.Tensor:
        return torch.istft(spec, N_FFT, HOP, WIN, window, center=True, length=length)

    with torch.inference_mode():
        for _ in range(n_iter):
            y = istft(S * angles)
            rebuilt = torch.stft(y, N_FFT, HOP, WIN, window, center=True, pad_mode="reflect",
                                 return_complex=True)
            angles = rebuilt - (momentum / (1 + momentum)) * prev
            prev = rebuilt
            angles = angles / (angles.abs() + 1e-16)
        y = istft(S * angles)
    return y.numpy().astype(np.float32)


def to_audio(log_mel: np.ndarray, n_iter: int = 32) -> np.ndarray:
    """Log-mel frames (T, 80) to float32 audio at 22050 Hz, peak-limited to [-1, 1]."""
    if len(log_mel) < 2:
        return np.zeros(0, np.float32)
    y = griffin_lim(mel_to_linear(log_mel), n_iter)
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    return y / peak * 0.95 if peak > 0.95 else y


__all__ = ["SR", "griffin_lim", "mel_to_linear", "to_audio"]
