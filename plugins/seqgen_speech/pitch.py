"""Pitch statistics of a waveform with ``librosa.pyin``: the f0 median and range of speech.

For speech-eval to set a sample's intonation beside its reference's: a model that blends the
corpus's voices tends to a flat, middle pitch. pyin (Mauch and Dixon 2014) is probabilistic
YIN with an HMM over voicing; it takes about 0.3 s per second of audio, and numba compiles it on
the first call of a process (2.5 to 12 s measured on the shared 2-core machine; numba's cache
makes later processes quicker).
"""

from __future__ import annotations

import math

import numpy as np

from seqgen_speech.features import HOP, N_FFT, SR, trim_silence

#: f0 search range (Hz): C2 (FastPitch's floor, a low male voice) to a high child's voice;
#: eSpeak NG's voices speak at 80 to 120 Hz at its default pitch
FMIN, FMAX = 65.0, 500.0
#: the percentiles that bound the range: the extreme frames are mostly octave errors
LOW, HIGH = 5.0, 95.0
UNVOICED: dict[str, float | None] = {"f0_median_hz": None, "f0_low_hz": None,
                                     "f0_high_hz": None, "f0_range_semitones": None,
                                     "voiced_fraction": 0.0}


def pitch_stats(audio: np.ndarray) -> dict[str, float | None]:
    """f0 of the voiced frames of ``audio`` at 22050 Hz (its ends' silence trimmed first).

    ``f0_median_hz``; ``f0_low_hz`` and ``f0_high_hz``, the 5th and 95th percentiles;
    ``f0_range_semitones`` between them; ``voiced_fraction`` of the frames. The f0 figures are
    None when no frame is voiced (silence, noise, whispering), so that JSON stays strict.
    """
    import librosa

    y = trim_silence(audio)
    if len(y) < N_FFT:  # shorter than one pyin frame: nothing to measure
        return dict(UNVOICED)
    # the features' frames (46 ms, as FastPitch's pyin): pyin's default 93 ms frames and
    # 23 ms hops heard 16 % of an eSpeak sentence as voiced where these hear 58 %, since
    # eSpeak's pitch moves within a longer frame
    f0, voiced, _ = librosa.pyin(y, fmin=FMIN, fmax=FMAX, sr=SR, frame_length=N_FFT,
                                 hop_length=HOP)
    hz = f0[voiced & np.isfinite(f0)]
    if len(hz) == 0:
        return dict(UNVOICED)
    low, high = (float(v) for v in np.percentile(hz, [LOW, HIGH]))
    return {"f0_median_hz": float(np.median(hz)), "f0_low_hz": low, "f0_high_hz": high,
            "f0_range_semitones": 12.0 * math.log2(high / low),
            "voiced_fraction": float(np.mean(voiced))}
