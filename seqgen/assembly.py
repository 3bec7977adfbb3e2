"""Run assembly: what training, sampling and evaluation all build from a run's settings.

The network for a domain (its head from the plugin registry), the domain restored from a run's
``config.json``, the text alphabet, the batches and the run-config schema. ``seqgen.api``
(training) and ``seqgen.inference`` (a loaded run) both stand on this module, and on nothing
of each other.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from seqgen import plugins
from seqgen.config import ModelConfig, TrainConfig, to_dict
from seqgen.domain import (
    Batching,
    Domain,
    TextConditioned,
    TokenInput,
    VectorInput,
    conditioned,
    options_to_dict,
    parse_options,
    sample_options,
)
from seqgen.engine import checkpoint as ckpt
from seqgen.engine.batching import Sequences, Streams
from seqgen.engine.data import Encoded
from seqgen.engine.head_registry import build_head
from seqgen.engine.holdout import held_out_every, stream_cut
from seqgen.engine.model import SeqNet
from seqgen.engine.vocab import TextVocab
from seqgen.engine.window import WindowNet
from seqgen.errors import SeqgenError
from seqgen.version import __version__


def build_model(domain: Domain, mcfg: ModelConfig,
                vocab: TextVocab | None = None) -> SeqNet | WindowNet:
    """The network for a domain: a plain LSTM stack, or the text-conditioned window model."""
    spec = domain.head_spec()
    if vocab is not None:
        feats = mcfg.hidden * mcfg.layers
        head = build_head(spec.name, feats, spec.kwargs, plugins.heads())
        return WindowNet(mcfg, domain.input_spec(), head, len(vocab))
    feats = mcfg.hidden * (mcfg.layers if mcfg.skip else 1)
    head = build_head(spec.name, feats, spec.kwargs, plugins.heads())
    return SeqNet(mcfg, domain.input_spec(), head)


def sequences(domain: Domain) -> bool:
    """Whether a domain batches whole documents (Batching.SEQUENCES) rather than streams."""
    return Batching(domain.batching) is Batching.SEQUENCES


def fit_vocab(domain: Domain, documents: Sequence[Any], source: str | None) -> TextVocab | None:
    """The conditioning alphabet of a text-conditioned domain, from its documents' texts."""
    if not conditioned(domain):
        return None
    assert isinstance(domain, TextConditioned)
    if not sequences(domain):
        raise SeqgenError(f"domain {domain.name!r}: text conditioning needs sequence batching")
    return TextVocab.fit(condition_texts(domain, documents, source))


def condition_texts(domain: Domain, documents: Sequence[Any], source: str | None) -> list[str]:
    """The texts a text-conditioned domain's documents are written from (one line if none)."""
    assert isinstance(domain, TextConditioned)
    texts = [t for t in (domain.text_of(d) for d in documents) if t]
    if not texts:
        raise SeqgenError(f"{source or 'the default corpus'}: no document has a text to "
                          f"condition on (transcriptions); train unconditioned instead")
    return texts


def batches(domain: Domain, enc: Encoded, tcfg: TrainConfig, what: str) -> Streams | Sequences:
    if sequences(domain):
        spec = domain.input_spec()
        start = None if isinstance(spec, TokenInput) else np.zeros(spec.dim, np.float32)
        return Sequences(enc, tcfg.batch_size, tcfg.seq_len, tcfg.seed, start,
                         domain.separator(), what,
                         spec.known if isinstance(spec, VectorInput) else 0)
    return Streams(enc, tcfg.batch_size, tcfg.seq_len, what)


def val_batches(domain: Domain, enc: Encoded, tcfg: TrainConfig) -> Streams | Sequences | None:
    """Validation batches, shrinking the batch so that a small held-out split still fits."""
    if len(enc) == 0:
        return None
    if sequences(domain):
        return batches(domain, enc, tcfg, "validation split")
    b = max(1, min(tcfg.batch_size, (len(enc) - 2) // (tcfg.seq_len + 1)))
    try:
        return Streams(enc, b, tcfg.seq_len, "validation split")
    except SeqgenError:
        return None


def run_config(domain: Domain, mcfg: ModelConfig, tcfg: TrainConfig, source: str | None,
                key: str, vocab: TextVocab | None) -> dict[str, Any]:
    spec, head = domain.input_spec(), domain.head_spec()
    return {
        "format": "seqgen-run", "format_version": ckpt.FORMAT_VERSION,
        "seqgen_version": __version__,
        "domain": {"name": domain.name, "version": domain.version,
                   "package": plugins.package_of(type(domain)),
                   "options": options_to_dict(domain.options), "state": domain.get_state()},
        "input": {"kind": "tokens" if isinstance(spec, TokenInput) else "vectors",
                  "size": spec.vocab_size if isinstance(spec, TokenInput) else spec.dim},
        "head": {"name": head.name, "kwargs": head.kwargs},
        "model": to_dict(mcfg), "train": to_dict(tcfg),
        "data": {"source": source, "key": key, "batching": Batching(domain.batching).value},
        "condition": {"chars": vocab.chars} if vocab is not None else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "step": 0,
    }


def domain_from_config(cfg: dict[str, Any], expect: str | None = None,
                       render_options: Sequence[str] | None = None) -> Domain:
    """The run's domain with its saved options and codec state (plus sample-time ``-o``)."""
    name = cfg["domain"]["name"]
    if expect is not None and expect != name:
        raise SeqgenError(f"that run is a {name!r} run, not {expect!r}")
    cls = plugins.get_domain(name)
    saved = cfg["domain"].get("options", {})
    options = (sample_options(cls.Options, saved, render_options) if render_options
               else parse_options(cls.Options, saved))
    return cls(options, state=cfg["domain"].get("state", {}))


def example_texts(enc: Encoded, vocab: TextVocab, count: int = 8) -> list[str]:
    """Up to ``count`` distinct texts of a split (held-out lines, not trained on), preferring
    lines of an everyday length: a text-conditioned model writes these when given no text."""
    texts = ("".join(vocab.chars[i - 1] for i in ids.tolist() if i > 0).strip()
             for ids in enc.conditions() or [])
    return _everyday(texts, count)


def _everyday(texts: Iterable[str], count: int) -> list[str]:
    """Up to ``count`` distinct non-empty texts, those of 12 to 60 characters first, else in
    their order (the sort is stable)."""
    found = [t for t in dict.fromkeys(texts) if t]
    found.sort(key=lambda t: not 12 <= len(t) <= 60)
    return found[:count]


def held_out_texts(domain: Domain, documents: Sequence[Any], val_fraction: float,
                   count: int = 8) -> list[str]:
    """Up to ``count`` texts of held-out documents (the engine's rule), of an everyday
    length first: what an aligned model says when given no text."""
    from seqgen.engine.holdout import held_out

    if not isinstance(domain, TextConditioned):
        return []
    return _everyday((domain.text_of(d) or "" for i, d in enumerate(documents)
                      if held_out(i, val_fraction)), count)


def no_validation(config: dict[str, Any], enc: Encoded, tcfg: TrainConfig,
                   sequences: bool) -> str:
    """Why a run has no validation split: said once, so that no 'val nan' is ever shown."""
    what = f"{config['data']['source'] or 'the default corpus'}"
    if tcfg.val_fraction <= 0:
        return f"{what}: no validation split (val_fraction 0): no validation loss is reported"
    if sequences:
        k = held_out_every(tcfg.val_fraction)
        n = len(enc.offsets)
        return (f"{what}: no validation split: {n} document{'s' * (n != 1)}, and 1 in {k} is "
                f"held out (at least {k} are needed); no validation loss is reported")
    held = len(enc) - stream_cut(len(enc), tcfg.val_fraction)
    return (f"{what}: no validation split: its held-out tail ({tcfg.val_fraction:.0%}, {held} "
            f"steps) is shorter than one batch of {tcfg.seq_len + 1} steps; no validation "
            f"loss is reported (give more data or a smaller --seq-len)")
