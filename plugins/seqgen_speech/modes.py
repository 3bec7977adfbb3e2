"""The speech domain's duration-informed modes: the frame model (``phonemes``) and the duration
model (``durations``) it trains beside itself, in one run (seqgen_speech/aligned.py says what
each reads). The domain's codec methods call these for those two modes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from seqgen.domain import Corpus
from seqgen.errors import SeqgenError
from seqgen_speech import aligned
from seqgen_speech.reader import Utterance

#: the speech domain (seqgen_speech/domain.py imports this module, so it is not named here)
SpeechDomain = Any

#: the duration model: small, and a share of the run's budget (it learns fast)
DURATION_MODEL = {"hidden": 128, "layers": 2, "embed": 64, "batch_size": 32}
DURATION_SHARE = 0.1  # it overfits the synthetic corpus within minutes: best-val weights kept


def timed_phones(doc: Utterance, where: str) -> tuple[tuple[str, ...], np.ndarray]:
    if not doc.phones or doc.durations is None:
        raise SeqgenError(f"{where}: {doc.name or 'an utterance'} has no phoneme timings: "
                          "-o mode=phonemes needs them (the embedded eSpeak corpus has them; "
                          "recordings get them by alignment, or use -o mode=synthesis)")
    return doc.phones, np.asarray(doc.durations)


def settle(dom: SpeechDomain, corpus: Corpus) -> Corpus:
    """``-o mode=auto`` decided by the corpus (phonemes where every utterance has timings, the
    embedded corpus; saved with the run), and recordings aligned for the timed modes."""
    def timed(docs: Sequence[Utterance]) -> bool:
        return bool(docs) and all(d.phones and d.durations is not None for d in docs)
    if dom.options.mode == "auto":
        dom.options.mode = "phonemes" if timed(corpus.documents) else "synthesis"
    if dom.timed and not timed(corpus.documents):
        from seqgen_speech.alignment import align

        docs = align(corpus.documents, corpus.key, float(dom.options.align_seconds))
        return Corpus(corpus.source, f"{corpus.key}-aligned{dom.options.align_seconds:g}",
                      docs)
    return corpus


def fit(dom: SpeechDomain, documents: Sequence[Any]) -> None:
    """The phoneme inventory, and for the duration model its log-durations' statistics."""
    timed = [timed_phones(d, "the corpus") for d in documents]
    dom.inventory = aligned.Inventory.fit([p for p, _ in timed])
    if dom.options.mode == "durations":
        logs = np.concatenate([aligned.log_durations(d) for _, d in timed]).astype(np.float64)
        dom.dur_stats = (float(logs.mean()), float(max(logs.std(), 1e-3)))


def _inventory(dom: SpeechDomain) -> aligned.Inventory:
    if dom.inventory is None:
        raise SeqgenError("the speech codec has no phoneme inventory (fit first)")
    return dom.inventory


def known_dims(dom: SpeechDomain) -> int:
    inv = _inventory(dom)
    return aligned.phone_dims(inv) if dom.options.mode == "durations" else \
        aligned.frame_dims(inv)


def encode_durations(dom: SpeechDomain, doc: Utterance) -> np.ndarray:
    """One step per phoneme: (log(1 + frames) - mean) / std, a stop flag, voice, known."""
    phones, dur = timed_phones(doc, "the corpus")
    mu, sd = dom.dur_stats
    z = (aligned.log_durations(dur) - mu) / sd  # (P,)
    stop = np.zeros(len(z), np.float32)
    stop[-1] = 1.0
    own = dom.mark(np.stack([z, stop], 1).astype(np.float32), dom.voice_of(doc))  # (P, 2 + S)
    question = bool(doc.text and doc.text.rstrip().endswith("?"))
    known = aligned.phone_track(phones, _inventory(dom), question)
    return np.concatenate([own, known], 1)  # (P, 2 + S + C)


def known_frames(dom: SpeechDomain, doc: Utterance, steps: int) -> np.ndarray:
    """The frame model's known columns of an encoded utterance of ``steps`` steps."""
    if not doc.phones and doc.track is not None and len(doc.track) == steps:
        return doc.track  # a decoded encoding (the conformance kit's round trip)
    phones, dur = timed_phones(doc, "the corpus")
    track = aligned.step_track(aligned.frame_track(phones, dur, _inventory(dom)), dom.r)
    if len(track) != steps:
        raise SeqgenError(f"{doc.name or 'an utterance'}: its phonemes last {int(dur.sum())} "
                          f"frames, its audio {len(doc.frames)}")
    return track


def durations_of(dom: SpeechDomain, steps: np.ndarray, rate: float) -> np.ndarray:
    """The duration model's sampled steps -> whole frames per phoneme."""
    mu, sd = dom.dur_stats
    return aligned.frames_of(np.asarray(steps)[:, 0] * sd + mu, rate)


def say(text: str, voice: str) -> tuple[tuple[str, ...], np.ndarray]:
    """eSpeak NG's phonemes of ``text`` and their frames, as the corpus was built."""
    from seqgen_speech import corpus
    from seqgen_speech.espeak import timed
    from seqgen_speech.features import log_mel

    audio, phones = timed(text, voice, corpus.RATE, corpus.PITCH)
    span = corpus.trim_span(audio)
    frames = len(log_mel(audio[span[0]:span[1]]))
    return corpus.frame_durations(phones, span, frames)


def tracks(dom: SpeechDomain, texts: list[str],
           companion: Callable[[str], Any]) -> list[np.ndarray]:
    """The frame model's known columns for each text: eSpeak's phonemes, at the duration
    model's durations (or eSpeak's own with -o durations=espeak), scaled by -o rate=."""
    from seqgen.engine.sample import SampleSettings

    voice = dom.voices[dom.voice] if dom.voices else "en-us"
    said = [say(t, voice if voice in _espeak_voices() else "en-us") for t in texts]
    missing = sorted({m for p, _ in said for m in _inventory(dom).unknown(p)})
    if missing:
        from seqgen.plugins import warn

        warn(f"--text: eSpeak reads phonemes this model never heard ({' '.join(missing)}): "
             f"they are spoken as its unknown phoneme")
    rate = float(dom.options.rate)
    if rate <= 0:
        raise SeqgenError(f"-o rate={rate:g}: give a positive speed (1 is eSpeak's own)")
    if dom.options.durations == "espeak":
        durs = [aligned.frames_of(aligned.log_durations(d), rate) for _, d in said]
    else:
        model = companion("durations")
        if model.domain.voices:
            model.domain.choose_voice(voice if voice in model.domain.voices else None)
        inv = _inventory(model.domain)
        known = [aligned.phone_track(p, inv, t.rstrip().endswith("?"))
                 for (p, _), t in zip(said, texts, strict=True)]
        # the mean of the likeliest component: a duration is no place for sampling noise
        steps = model.sample_steps(known, SampleSettings(bias=10.0, seed=0))
        durs = [durations_of(model.domain, s, rate) for s in steps]
    out = []
    for (phones, _), d in zip(said, durs, strict=True):
        d = d.copy()
        if d.sum() < 1:
            d[-1] = 1
        out.append(aligned.step_track(aligned.frame_track(phones, d, _inventory(dom)), dom.r))
    return out


def _espeak_voices() -> tuple[str, ...]:
    from seqgen_speech.corpus import VOICES

    return VOICES
