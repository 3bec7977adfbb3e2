"""``seqgen ink-eval``: legibility of a handwriting run, read by its own CTC recogniser.

The engine's recogniser (``seqgen.engine.recognise``) is trained on the run's training lines
(the corpus its config.json names, the engine's split: ``seqgen.engine.holdout``), reading the
domain's own features: the (dx, dy, end_of_stroke) rows as ``HandwritingDomain.encode`` writes
them (offsets normalised with the run's statistics). It then reads the held-out real lines
(the floor: what a perfect writer of this corpus would score) and the lines the model writes
for the same texts; the ratio of the two rates says how far the samples are from real ink. The
recogniser is cached under ``cache_dir()/recognisers``, keyed by the corpus key and whatever
changes its input, so a second call does not train again.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen.fileio import dumps

DEFAULT_SECONDS = 180.0  # the recogniser's training time (one thread: about 3 minutes)


def split_lines(model: Any) -> tuple[Any, list[Any], list[Any]]:
    """(corpus, training lines, held-out lines) of the run's corpus under the engine's rule,
    over the documents its text-conditioned corpus keeps (a text and some points)."""
    from seqgen.engine.holdout import held_out

    corpus = model.domain.load_corpus(model.config["data"]["source"])
    docs = [d for d in corpus.documents if d.text and len(model.domain.encode(d))]
    val_fraction = float(model.config["train"].get("val_fraction", 0.1))
    flags = [held_out(i, val_fraction) for i in range(len(docs))]
    return (corpus, [d for d, h in zip(docs, flags, strict=True) if not h],
            [d for d, h in zip(docs, flags, strict=True) if h])


def settings(model: Any) -> Any:
    """The recogniser's settings: a stride of about 2.5 recogniser steps per character of the
    corpus (4 for the default corpus's 10 points a character), which also keeps it fast."""
    from seqgen.engine.recognise import RecogniserSettings

    per_char = float(model.domain.points_per_char) or 10.0
    return RecogniserSettings(stride=max(1, min(8, int(per_char / 2.5))))


def cache_path(model: Any, corpus_key: str, seconds: float, seed: int) -> Path:
    """Where the recogniser of this corpus and these features is cached."""
    from seqgen.datasets import cache_dir

    o = model.domain.options
    what = {"corpus": corpus_key, "codec": model.domain.get_state() | {"styles": None},
            "stride": o.stride, "clip": o.clip, "chars": model.vocab.chars,
            "val_fraction": model.config["train"].get("val_fraction", 0.1),
            "settings": asdict(settings(model)), "seconds": seconds, "seed": seed}
    digest = hashlib.sha256(dumps(what).encode()).hexdigest()[:16]
    return cache_dir() / "recognisers" / f"handwriting-{corpus_key}-{digest}.safetensors"


def recogniser(model: Any, seconds: float = DEFAULT_SECONDS, seed: int = 0
               ) -> tuple[Any, list[Any], bool]:
    """(the run's recogniser, the held-out lines, whether the recogniser came from the cache)."""
    from seqgen.engine.recognise import cached_recogniser, train_recogniser
    from seqgen.engine.status import say

    corpus, train, held = split_lines(model)
    if not held:
        raise SeqgenError("the run's corpus has no held-out lines with a text")

    def fit() -> Any:
        say(f"ink-eval: training the recogniser on {len(train)} lines for {seconds:.0f} s")
        pairs = [(model.domain.encode(d), d.text) for d in train]
        return train_recogniser(pairs, model.vocab.chars, settings(model), seconds=seconds,
                                seed=seed)
    rec, cached = cached_recogniser(cache_path(model, corpus.key, seconds, seed), fit)
    return rec, held, cached


def write_and_read(model: Any, rec: Any, texts: list[str], bias: float, seed: int
                   ) -> tuple[list[Any], list[str]]:
    """The lines the model writes for ``texts`` (one batch, each text one line in a style of
    its own: no page style, no wrapping) and what the recogniser reads."""
    dom = model.domain
    saved = dom.page_style, dom.line_chars
    dom.page_style, dom.line_chars = None, 0  # line_width() None: a text is one line
    try:
        page = model.sample(text="\n".join(texts), bias=bias, seed=seed)[0]
    finally:
        dom.page_style, dom.line_chars = saved
    samples = page.lines if hasattr(page, "lines") else [page]
    return samples, rec.read([model.domain.encode(s) for s in samples])


def evaluate_ink(model: Any, num: int = 20, bias: float = 1.0, seed: int = 1,
                 seconds: float = DEFAULT_SECONDS, texts: list[str] | None = None
                 ) -> dict[str, Any]:
    """The recogniser's CER on ``num`` held-out real lines (the floor) and on the lines the
    model writes for their texts, with each line's read-back; with ``texts``, also on the
    lines it writes for those (``cer_texts``: sentences of your choosing, no real ink)."""
    from seqgen.engine.recognise import cer

    if model.vocab is None:
        raise SeqgenError("ink-eval needs a text-conditioned model (-o mode=synthesis)")
    rec, held, cached = recogniser(model, seconds)
    held = held[:num]
    refs = [d.text for d in held]
    samples, written = write_and_read(model, rec, refs, bias, seed)
    enc = model.domain.encode
    real = rec.read([enc(d) for d in held])
    floor, got = cer(refs, real), cer(refs, written)
    r = rec.report
    out = {
        "lines": len(held), "bias": bias, "seed": seed,
        "cer_real": floor, "cer_samples": got,
        "cer_ratio": got / floor if floor > 0 else float("inf"),
        "recogniser_train_seconds": r.seconds, "recogniser_steps": r.steps,
        "recogniser_train_lines": r.pairs, "recogniser_cached": cached,
        "points_per_char_real": float(np.mean([len(enc(d)) / len(d.text) for d in held])),
        "points_per_char_samples": float(np.mean([len(enc(s)) / len(t)
                                                  for s, t in zip(samples, refs, strict=True)])),
        "rows": [{"text": t, "read_real": a, "read_sample": b}
                 for t, a, b in zip(refs, real, written, strict=True)]}
    if texts:
        mine = [model.domain.normalise_text(t, model.vocab.chars) for t in texts]
        read = write_and_read(model, rec, mine, bias, seed)[1]
        out["cer_texts"] = cer(mine, read)
        out["text_rows"] = [{"text": t, "read_sample": b} for t, b in zip(mine, read,
                                                                          strict=True)]
    return out
