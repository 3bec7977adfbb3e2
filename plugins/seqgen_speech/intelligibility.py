"""Intelligibility for ``seqgen speech-eval``: the engine's CTC recogniser on log-mel frames.

The recogniser (``seqgen.engine.recognise``) is trained on the run's training utterances (the
corpus its config.json names, the engine's split: ``seqgen.engine.holdout``), reading the
domain's features: the 80 log-mel bins of each frame (what the model generates, also for a run
with ``-o features=mfcc``, whose samples decode to log-mel). Its character error rate on
held-out real frames is the floor; on frames the model generates for the same transcripts, the
measure. Cached under ``cache_dir()/recognisers``, keyed by the corpus key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from seqgen.fileio import dumps

DEFAULT_SECONDS = 180.0  # the recogniser's training time (one thread: about 3 minutes)
STRIDE = 2  # frames per recogniser step: 43 a second, 2.6 a character at the median rate


def split_utterances(model: Any) -> tuple[str, list[Any], list[Any]]:
    """(corpus key, training utterances, held-out utterances) under the engine's rule, over
    the documents its text-conditioned corpus keeps (a transcript and some frames)."""
    from seqgen.engine.holdout import held_out

    corpus = model.domain.load_corpus(model.config["data"]["source"])
    docs = [d for d in corpus.documents if d.text and len(d.frames)]
    val_fraction = float(model.config["train"].get("val_fraction", 0.1))
    flags = [held_out(i, val_fraction) for i in range(len(docs))]
    return (corpus.key, [d for d, h in zip(docs, flags, strict=True) if not h],
            [d for d, h in zip(docs, flags, strict=True) if h])


def alphabet(model: Any) -> str:
    """The recogniser's characters: the model's text alphabet, or for a model that speaks
    from phonemes (no alphabet of its own) those of its corpus's lower-cased transcripts."""
    if model.vocab is not None:
        return str(model.vocab.chars)
    _, train, held = split_utterances(model)
    return "".join(sorted({c for d in train + held for c in d.text.lower()}))


def cache_path(model: Any, corpus_key: str, seconds: float, seed: int) -> Path:
    from seqgen.datasets import cache_dir

    what = {"corpus": corpus_key, "chars": alphabet(model), "stride": STRIDE,
            "val_fraction": model.config["train"].get("val_fraction", 0.1),
            "seconds": seconds, "seed": seed}
    digest = hashlib.sha256(dumps(what).encode()).hexdigest()[:16]
    return cache_dir() / "recognisers" / f"speech-{corpus_key}-{digest}.safetensors"


def recogniser(model: Any, seconds: float = DEFAULT_SECONDS, seed: int = 0) -> tuple[Any, bool]:
    """The run's recogniser (trained, or from the cache) and whether it came from the cache."""
    from seqgen.engine.recognise import RecogniserSettings, cached_recogniser, train_recogniser
    from seqgen.engine.status import say

    key, train, _ = split_utterances(model)
    fix = model.domain.normalise_text
    chars = alphabet(model)

    def fit() -> Any:
        say(f"speech-eval: training the recogniser on {len(train)} utterances for "
            f"{seconds:.0f} s")
        pairs = [(d.frames, fix(d.text, chars)) for d in train]
        return train_recogniser(pairs, chars, RecogniserSettings(stride=STRIDE),
                                seconds=seconds, seed=seed)
    return cached_recogniser(cache_path(model, key, seconds, seed), fit)


def read_back(model: Any, rows: list[dict[str, Any]], real: list[Any], generated: list[Any],
              seconds: float = DEFAULT_SECONDS) -> dict[str, Any]:
    """The recogniser's CER on the held-out real frames (floor) and the generated ones for the
    same texts; each row gains read_real and read_sample."""
    from seqgen.engine.recognise import cer

    rec, cached = recogniser(model, seconds)
    chars = alphabet(model)
    texts = [model.domain.normalise_text(r["text"], chars) for r in rows]
    heard_real, heard_gen = rec.read(real), rec.read(generated)
    for row, a, b in zip(rows, heard_real, heard_gen, strict=True):
        row.update(read_real=a, read_sample=b)
    floor, got = cer(texts, heard_real), cer(texts, heard_gen)
    return {"cer_real": floor, "cer_samples": got,
            "cer_ratio": got / floor if floor > 0 else float("inf"),
            "recogniser_train_seconds": rec.report.seconds,
            "recogniser_steps": rec.report.steps,
            "recogniser_train_utterances": rec.report.pairs, "recogniser_cached": cached}
