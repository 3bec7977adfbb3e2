"""Renderers: .wav (Griffin-Lim, 22050 Hz int16), .png (log-mel spectrogram), .npy (frames).

The spectrogram shows the eSpeak NG reference of the same text below the sample when the
sample carries its text (``Utterance.text``; the ``speech-eval`` command's images do).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgen.domain import Renderer
from seqgen_speech.features import FMAX, FMIN, HOP, N_FFT, SR


def write_wav(utt: Any, path: Path) -> None:
    import soundfile as sf

    from seqgen_speech.invert import to_audio

    audio = to_audio(utt.frames)
    sf.write(str(path), audio, SR, subtype="PCM_16", format="WAV")


def write_npy(utt: Any, path: Path) -> None:
    with open(path, "wb") as f:
        np.save(f, np.asarray(utt.frames, np.float32))


def plot_spectrograms(panels: list[tuple[str, np.ndarray]], path: Path) -> None:
    """Log-mel spectrograms stacked vertically on a shared time axis, as a PNG: seconds across,
    Hz up on the mel scale (``librosa.display.specshow``), one colour scale for every panel.
    A panel of no frames (a sample that stopped at once) says so instead of a picture."""
    from seqgen.engine.plot import pyplot

    plt = pyplot()
    longest = max([1, *(len(f) for _, f in panels)]) * HOP / SR
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 1.9 * len(panels)), squeeze=False,
                             dpi=80)
    for ax, (title, frames) in zip(axes[:, 0], panels, strict=True):
        _panel(ax, np.asarray(frames, np.float32), title, longest)
    axes[-1, 0].set_xlabel("seconds", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def _panel(ax: Any, frames: np.ndarray, title: str, longest: float) -> None:
    import librosa.display

    if len(frames):
        # vmin, vmax: the log floor to a loud frame, so that panels compare by colour
        librosa.display.specshow(frames.T, sr=SR, hop_length=HOP, n_fft=N_FFT, x_axis="time",
                                 y_axis="mel", fmin=FMIN, fmax=FMAX, cmap="magma",
                                 vmin=-11.5, vmax=2.0, ax=ax)
    else:  # specshow cannot draw zero columns
        ax.text(0.5, 0.5, "no frames", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlim(0, longest)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("")
    ax.set_ylabel("Hz", fontsize=8)
    ax.tick_params(labelsize=7)


def write_png(utt: Any, path: Path) -> None:
    panels = [("sample" + (f": {utt.text!r}" if utt.text else ""), utt.frames)]
    if utt.text:
        from seqgen_speech.corpus import speak
        from seqgen_speech.features import log_mel

        panels.append((f"eSpeak NG reference (en-us): {utt.text!r}", log_mel(speak(utt.text))))
    plot_spectrograms(panels, path)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    audio, rate = sf.read(str(path), dtype="float32")
    if rate != SR:
        raise ValueError(f"{path}: {rate} Hz, expected {SR}")
    return audio, rate


def read_png(path: Path) -> np.ndarray:
    import matplotlib.image

    return np.asarray(matplotlib.image.imread(str(path), format="png"))


def read_npy(path: Path) -> np.ndarray:
    a = np.load(path, allow_pickle=False)
    if a.ndim != 2:
        raise ValueError(f"{path}: expected (T, bins) frames, got shape {a.shape}")
    return a


def renderers() -> dict[str, Renderer]:
    return {
        ".wav": Renderer(".wav", write_wav, "audio through Griffin-Lim, 22050 Hz 16-bit",
                         read=read_wav),
        ".png": Renderer(".png", write_png,
                         "log-mel spectrogram in s and Hz (eSpeak reference below)",
                         read=read_png),
        ".npy": Renderer(".npy", write_npy, "log-mel frames (T, 80) float32", read=read_npy),
    }
