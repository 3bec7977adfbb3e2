"""Speech front end and back end: librosa against numpy and torch, on eSpeak NG sentences.

Times (best of N, one thread each: the FFTs are small) and quality for the choices that
``seqgen_speech`` makes (issue 16): the STFT (numpy stride trick, ``librosa.stft``,
``torch.stft``), the log-mel, Griffin-Lim (torch.stft/istft against ``librosa.griffinlim``),
mel to linear magnitude (pseudo-inverse against ``librosa.feature.inverse.mel_to_stft``'s NNLS)
and the DTW of the MCD (the old Python double loop against ``librosa.sequence.dtw``).

    OMP_NUM_THREADS=1 python benchmarks/bench_speech.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# the old Python DTW of mcd.py, which tests/test_speech_librosa.py keeps as the reference
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_speech_librosa import python_dtw as old_dtw  # noqa: E402


def best(fn: Callable[[], Any], rounds: int) -> float:
    fn()  # warm: numba compiles, torch picks kernels
    out = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    rounds = ap.parse_args().rounds
    import librosa
    import torch

    from seqgen_speech import features as F
    from seqgen_speech import mcd
    from seqgen_speech.corpus import speak

    torch.set_num_threads(1)
    y = speak("the quick brown fox jumps over the lazy dog, and the cat sleeps.")
    secs = len(y) / F.SR
    print(f"audio: {secs:.2f} s eSpeak NG; times per second of audio, best of {rounds}")
    win = torch.hann_window(F.WIN)
    ty = torch.as_tensor(y)

    def np_stft() -> np.ndarray:
        x = np.pad(y, F.N_FFT // 2, mode="reflect")
        n = 1 + (len(x) - F.N_FFT) // F.HOP
        fr = np.lib.stride_tricks.as_strided(x, (n, F.N_FFT), (x.strides[0] * F.HOP,
                                                                x.strides[0]))
        return np.abs(np.fft.rfft(fr * win.numpy(), axis=1))

    def lr_stft() -> np.ndarray:
        return np.abs(librosa.stft(y, n_fft=F.N_FFT, hop_length=F.HOP, win_length=F.WIN,
                                   center=True, pad_mode="reflect"))

    def th_stft() -> np.ndarray:
        return torch.stft(ty, F.N_FFT, F.HOP, F.WIN, win, center=True, pad_mode="reflect",
                          return_complex=True).abs().numpy()

    for name, fn in (("numpy stride trick", np_stft), ("librosa.stft", lr_stft),
                     ("torch.stft", th_stft)):
        print(f"|STFT| {name:22s} {best(fn, rounds) / secs * 1e3:7.2f} ms")
    print(f"log_mel (seqgen)             {best(lambda: F.log_mel(y), rounds) / secs * 1e3:7.2f} ms")
    lm = F.log_mel(y)
    _griffin_lim(lm, y, rounds, secs)
    a, b = mcd.cepstra(lm), mcd.cepstra(F.log_mel(speak("the quick brown fox jumps over the "
                                                         "lazy dog, and the cat sleeps.",
                                                         rate=140)))
    cost = mcd.frame_mcd(a[:, None], b[None])
    t_old = best(lambda: old_dtw(cost), max(2, rounds // 5))
    t_new = best(lambda: mcd.dtw_path(cost), rounds)
    same = [np.array_equal(u, v) for u, v in zip(old_dtw(cost), mcd.dtw_path(cost), strict=True)]
    print(f"DTW {cost.shape}: Python loop {t_old * 1e3:.1f} ms, librosa.sequence.dtw "
          f"{t_new * 1e3:.1f} ms; same path: {all(same)}")


def _griffin_lim(lm: np.ndarray, y: np.ndarray, rounds: int, secs: float) -> None:
    import librosa

    from seqgen_speech import features as F
    from seqgen_speech import invert, mcd

    target = F.magnitude(y)
    gl_rounds = max(3, rounds // 3)
    for name, mag_fn in (("pinv", lambda: invert.mel_to_linear(lm)),
                         ("NNLS", lambda: librosa.feature.inverse.mel_to_stft(
                             np.exp(lm.T).astype(np.float32), sr=F.SR, n_fft=F.N_FFT,
                             power=1.0, fmax=F.FMAX).T)):
        t_mag = best(mag_fn, gl_rounds)
        mag = mag_fn()
        for gname, gl in (("torch", lambda: invert.griffin_lim(mag)),  # noqa: B023
                          ("librosa", lambda: librosa.griffinlim(  # noqa: B023
                              np.ascontiguousarray(mag.T), n_iter=32, hop_length=F.HOP,  # noqa: B023
                              win_length=F.WIN, n_fft=F.N_FFT, pad_mode="reflect",
                              momentum=0.99, random_state=0))):
            t = best(gl, gl_rounds)
            out = gl()
            got = F.magnitude(out)[:len(target)]
            sc = np.linalg.norm(got - target[:len(got)]) / np.linalg.norm(target[:len(got)])
            print(f"GL {name} + {gname:7s}  mel->linear {t_mag / secs * 1e3:6.1f} ms, "
                  f"32 iterations {t / secs * 1e3:6.1f} ms; spectral convergence {sc:.3f}, "
                  f"MCD of the round trip {mcd.mcd(F.log_mel(out), lm):.2f} dB")


if __name__ == "__main__":
    main()
