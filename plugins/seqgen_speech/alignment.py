"""Phoneme timings for recordings of your own: forced alignment with a CTC recogniser.

A folder of recordings with transcripts (the LJSpeech layout) has no phoneme timings, which
the duration-informed model (``-o mode=phonemes``) trains on. As the Montreal Forced Aligner
trains its acoustic model on the corpus it aligns, this trains the engine's CTC recogniser
(engine/recognise.py) on the recordings themselves, reading each one's phonemes as eSpeak NG
reads its transcript (stress marks apart), and takes the Viterbi path that reads exactly those
phonemes (engine/align.py) as their boundaries. The recogniser is cached under
``cache_dir()/recognisers`` by the corpus's key; the alignment itself takes a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from seqgen.engine.status import say
from seqgen.errors import SeqgenError
from seqgen_speech.aligned import PAUSE, split
from seqgen_speech.reader import Utterance

ALIGN_SECONDS = 120.0  # the recogniser's training time when -o align_seconds= is not given
BASE = 0xE000  # phoneme classes as characters of Unicode's private use area


def _phonemes(utts: Sequence[Utterance], voice: str) -> list[list[str]]:
    from seqgen_speech.espeak import phonemes

    return [[p for w in phonemes(str(u.text), voice, what=f"{u.name}: the transcript")
             for p in w] for u in utts]


def align(utts: Sequence[Utterance], key: str, seconds: float = ALIGN_SECONDS,
          voice: str = "en-us") -> list[Utterance]:
    """The utterances with transcripts, each given ``phones`` (a lead-in pause, then its
    phonemes) and ``durations`` (frames, summing to its own); those too short to hold their
    phonemes are left out, said in one line."""
    from seqgen.datasets import cache_dir
    from seqgen.engine.align import ctc_align, durations
    from seqgen.engine.recognise import RecogniserSettings, cached_recogniser, train_recogniser

    texted = [u for u in utts if u.text and len(u.frames)]
    if not texted:
        raise SeqgenError("-o mode=phonemes: no recording has a transcript to align "
                          "(metadata.csv, or a .txt beside each recording)")
    spoken = _phonemes(texted, voice)
    symbols = sorted({split(p)[0] for ps in spoken for p in ps} - {PAUSE})
    chars = "".join(chr(BASE + i) for i in range(len(symbols)))
    index = {s: chr(BASE + i) for i, s in enumerate(symbols)}
    texts = ["".join(index[split(p)[0]] for p in ps) for ps in spoken]
    settings = RecogniserSettings(stride=2)
    digest = hashlib.sha256(f"{key}|{'|'.join(symbols)}|{seconds}".encode()).hexdigest()[:16]
    path = cache_dir() / "recognisers" / f"align-{digest}.safetensors"

    def fit() -> object:
        say(f"aligning phonemes: training a recogniser on {len(texted)} recordings for "
            f"{seconds:.0f} s (once; cached)")
        return train_recogniser([(u.frames, t) for u, t in zip(texted, texts, strict=True)],
                                chars, settings, seconds=seconds)
    rec, _ = cached_recogniser(path, fit)  # type: ignore[arg-type]
    out, short = [], []
    for u, ps, t in zip(texted, spoken, texts, strict=True):
        ids = [chars.index(c) + 1 for c in t]
        try:
            starts = ctc_align(rec.log_probs(u.frames), ids)
        except SeqgenError:
            short.append(u.name)
            continue
        lead, lengths = durations(starts, len(u.frames), settings.stride)
        u.phones = (PAUSE, *ps)
        u.durations = np.array([lead, *lengths], np.int32)
        out.append(u)
    if short:
        say(f"aligning phonemes: {len(short)} recording(s) too short for their phonemes left "
            f"out ({', '.join(short[:3])}{', ...' if len(short) > 3 else ''})")
    return out
