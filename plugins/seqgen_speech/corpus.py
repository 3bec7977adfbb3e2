"""The embedded corpus: short English sentences spoken by eSpeak NG, with their transcripts.

eSpeak NG (GPL-3) comes from the ``espeakng-loader`` wheel (libespeak-ng and its voice data)
and is called through ctypes, synchronously, at about 200x real time. The speech is synthetic:
formant synthesis, one voice by default (``-o voices=`` for more, ``all`` for six).
Sentences are generated from a word list and templates with a seeded generator, so the same
size and seed give the same corpus.
Features are cached under ``cache_dir() / "speech"``, written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_speech.espeak import SAMPLE_RATE, Espeak, Phone, timed
from seqgen_speech.features import HOP
from seqgen_speech.reader import Utterance
from seqgen_speech.sentences import sentence

__all__ = ["SAMPLE_RATE", "VOICES", "DEFAULT_VOICES", "parse_voices", "sentence", "speak",
           "trim", "trim_span", "frame_durations", "script", "build", "utterances",
           "style_example"]
#: the voices the corpus may speak with (``-o voices=``); --prime-style N is VOICES[N]
VOICES = ("en-us", "en", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-scotland")
#: the default corpus: one voice, so that a model learns a voice and not a blend of six
DEFAULT_VOICES = ("en-us",)
RATE, PITCH = 175, 50  # eSpeak NG's own defaults (words per minute; pitch 0-100)


def parse_voices(text: str) -> tuple[str, ...]:
    """``-o voices=`` -> voice names: a comma list of VOICES, or ``all``."""
    if text.strip() == "all":
        return VOICES
    names = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    bad = [v for v in names if v not in VOICES]
    if bad or not names:
        raise SeqgenError(f"option voices={text!r}: choose from {', '.join(VOICES)} "
                          "(a comma list) or all")
    return names


def speak(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50) -> np.ndarray:
    """Say ``text`` with eSpeak NG: float32 audio at 22050 Hz, leading/trailing silence trimmed."""
    return trim(Espeak.get().say(text, voice, rate, pitch)[0])


def trim(audio: np.ndarray, threshold: float = 1e-3, pad: int = 1024) -> np.ndarray:
    a, b = trim_span(audio, threshold, pad)
    return audio[a:b]


def trim_span(audio: np.ndarray, threshold: float = 1e-3, pad: int = 1024) -> tuple[int, int]:
    """The samples [a, b) that ``trim`` keeps: from ``pad`` before the first loud sample to
    ``pad`` after the last."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if len(loud) == 0:
        return 0, 0
    return max(0, int(loud[0]) - pad), min(len(audio), int(loud[-1]) + pad)


def frame_durations(phones: list[Phone], span: tuple[int, int],
                    frames: int) -> tuple[tuple[str, ...], np.ndarray]:
    """Each phone's frames in the trimmed audio's ``frames`` (hops of 256 samples, centred):
    boundaries at the nearest hop, the last at ``frames``, so the durations sum to the
    frames; the silence before the first phone is a pause (""), and pauses that trimming
    removed are dropped."""
    a, b = span
    phones = [Phone("", a, a), *phones]  # the lead-in before the first phoneme
    starts = np.array([min(max(p.start - a, 0), b - a) for p in phones], np.float64)
    bounds = np.clip(np.rint(starts / HOP).astype(np.int64), 0, frames)
    dur = np.diff(np.append(bounds, frames))  # (P,)
    keep = [i for i, p in enumerate(phones) if p.symbol or dur[i] > 0]
    return tuple(phones[i].symbol for i in keep), dur[keep].astype(np.int32)


def script(size: int, seed: int = 0,
           voices: tuple[str, ...] = DEFAULT_VOICES) -> list[tuple[str, str, int, int]]:
    """(text, voice, rate, pitch) of every utterance of a corpus of ``size`` sentences, the
    voices taking turns, each at eSpeak's default rate and pitch."""
    rng = np.random.default_rng([seed, size])
    return [(sentence(rng), voices[i % len(voices)], RATE, PITCH) for i in range(size)]


def build(size: int, seed: int, cache: Path, feature_fn: object,
          voices: tuple[str, ...] = DEFAULT_VOICES) -> Path:
    """Synthesise the corpus and write its log-mel features to ``cache`` (an .npz), atomically,
    with every utterance's phonemes (IPA, "_" a pause, joined by spaces) and their frames."""
    from seqgen.engine.files import save_npz
    from seqgen.engine.status import counted

    rows = script(size, seed, voices)
    frames, lengths, symbols, durations = [], [], [], []
    what = "speaking the eSpeak corpus (first use; cached after)"
    for text, voice, rate, pitch in counted(rows, what, unit="sentences", at_once=size >= 100):
        audio, phones = timed(text, voice, rate, pitch, what=f"corpus sentence {text!r}")
        span = trim_span(audio)
        mel = feature_fn(audio[span[0]:span[1]])  # type: ignore[operator]
        names, dur = frame_durations(phones, span, len(mel))
        frames.append(mel.astype(np.float16))
        lengths.append(len(mel))
        symbols.append(" ".join(n or "_" for n in names))
        durations.append(dur)
    save_npz(cache, {"frames": np.concatenate(frames), "lengths": np.asarray(lengths, np.int64),
                     "texts": np.asarray([r[0] for r in rows]),
                     "voices": np.asarray([r[1] for r in rows]),
                     "phones": np.asarray(symbols), "durations": np.concatenate(durations)})
    return cache


def utterances(z: Any) -> list[Utterance]:
    """The embedded corpus's utterances from its cache: frames, text, voice, phonemes."""
    bounds = np.cumsum([0, *z["lengths"].tolist()])
    frames = z["frames"].astype(np.float32)
    names = [tuple("" if p == "_" else p for p in str(s).split()) for s in z["phones"]]
    cuts = np.cumsum([0, *map(len, names)])
    durations = z["durations"]
    return [Utterance(frames[bounds[i]:bounds[i + 1]], str(t), f"{v}-{i}", str(v), names[i],
                      durations[cuts[i]:cuts[i + 1]])
            for i, (t, v) in enumerate(zip(z["texts"], z["voices"], strict=True))]


def style_example(index: int) -> Utterance:
    """``--prime-style N``: voice N of VOICES saying a short sentence."""
    from seqgen_speech.features import log_mel

    if not 0 <= index < len(VOICES):
        raise SeqgenError(f"--prime-style {index}: choose 0 to {len(VOICES) - 1} "
                          f"({', '.join(VOICES)})")
    text = "hello, peter."
    return Utterance(log_mel(speak(text, VOICES[index])), text, voice=VOICES[index])
