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

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_speech.espeak import SAMPLE_RATE, Espeak, Phone, timed
from seqgen_speech.features import HOP

__all__ = ["SAMPLE_RATE", "VOICES", "DEFAULT_VOICES", "parse_voices", "sentence", "speak",
           "trim", "trim_span", "frame_durations", "script", "build"]
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


_ADJ = ("red", "green", "blue", "small", "big", "old", "new", "quiet", "loud", "quick", "slow",
        "happy", "sad", "bright", "dark", "warm", "cold", "soft", "hard", "little", "tall",
        "short", "young", "clever", "lazy", "brave", "calm", "kind", "wild", "gentle")
_NOUN = ("cat", "dog", "bird", "fish", "house", "tree", "river", "garden", "window", "table",
         "book", "letter", "doctor", "teacher", "child", "friend", "city", "road", "ship",
         "train", "apple", "orange", "music", "voice", "morning", "evening", "winter", "summer",
         "mountain", "forest", "farmer", "sailor", "horse", "clock", "paper", "story", "song",
         "king", "queen", "world", "light", "water", "stone", "cloud", "island", "market")
_VERB = ("sees", "finds", "likes", "takes", "makes", "hears", "calls", "helps", "paints",
         "follows", "watches", "carries", "opens", "closes", "reads", "writes", "loves",
         "wants", "needs", "keeps", "brings", "visits", "remembers", "answers")
_IVERB = ("sleeps", "sings", "waits", "runs", "smiles", "falls", "works", "speaks", "laughs",
          "listens", "dances", "walks", "rests", "shines", "moves")
_ADV = ("today", "again", "slowly", "quickly", "at night", "in the morning", "every day",
        "here", "there", "once more", "at noon", "by the sea")
_NAME = ("anna", "peter", "maria", "john", "lucy", "david", "emma", "oliver", "sarah", "tom")
_WORDS = ("hello", "world", "yes", "no", "please", "thank you", "good morning", "good night",
          "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def sentence(rng: np.random.Generator) -> str:
    """One short sentence (lower case letters, spaces, commas, apostrophes and a full stop)."""
    def c(words: tuple[str, ...]) -> str:
        return str(words[int(rng.integers(len(words)))])
    kind = int(rng.integers(7))
    if kind == 0:
        s = f"the {c(_ADJ)} {c(_NOUN)} {c(_VERB)} the {c(_NOUN)}"
    elif kind == 1:
        s = f"{c(_NAME)} {c(_IVERB)} {c(_ADV)}"
    elif kind == 2:
        s = f"a {c(_NOUN)} {c(_IVERB)}"
    elif kind == 3:
        s = f"{c(_NAME)} {c(_VERB)} the {c(_ADJ)} {c(_NOUN)}"
    elif kind == 4:
        s = f"{c(_WORDS)}, {c(_NAME)}"
    elif kind == 5:
        s = f"the {c(_NOUN)} is {c(_ADJ)}"
    else:
        s = f"{c(_WORDS)} {c(_WORDS)}"
    return s + "."


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
