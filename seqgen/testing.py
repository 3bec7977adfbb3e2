"""A conformance kit for domain authors: ``check_domain(MyDomain)`` in your own tests.

Each check raises AssertionError with a message saying what is wrong. The checks use real code
paths on a tiny model: encode/decode round trip, codec state through JSON, a finite loss with
finite gradients, a tiny model that overfits one batch, and every renderer writing a file.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgen.config import ModelConfig
from seqgen.domain import Domain, TokenInput, parse_options
from seqgen.engine.adam import Adam
from seqgen.engine.head_registry import build_head
from seqgen.engine.model import SeqNet
from seqgen.errors import SeqgenError


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=1e-4))
    return bool(a == b)


def check_round_trip(domain: Domain, documents: list[Any]) -> None:
    for doc in documents[:5]:
        arr = domain.encode(doc)
        again = domain.encode(domain.decode(arr))
        assert _same(arr, again), f"{domain.name}: encode(decode(encode(doc))) != encode(doc)"


def check_tokens(domain: Domain, documents: list[Any]) -> None:
    """Token domains: every token encode gives (and the separator) is one the input and the
    head have, and encode gives the same tokens twice (issue 28: an off-by-one over reserved
    tokens surfaced as torch's ``IndexError: Target 218 is out of bounds``)."""
    spec = domain.input_spec()
    if not isinstance(spec, TokenInput):
        return
    classes = int(domain.head_spec().kwargs.get("num_classes", spec.vocab_size))
    limit = min(spec.vocab_size, classes)
    sep = domain.separator()
    assert sep is None or 0 <= sep < limit, \
        f"{domain.name}: the separator {sep} is outside 0..{limit - 1}"
    for i, doc in enumerate(documents[:20]):
        arr = np.asarray(domain.encode(doc))
        bad = arr[(arr < 0) | (arr >= limit)]
        assert not len(bad), (f"{domain.name}: document {i} encodes to token {int(bad[0])}, "
                              f"outside 0..{limit - 1} (input_spec has {spec.vocab_size} "
                              f"tokens, head_spec {classes} classes)")
        assert _same(arr, domain.encode(doc)), f"{domain.name}: encode is not deterministic"


def check_stream(domain: Domain, documents: list[Any]) -> None:
    """A domain that streams text: the streamed pieces of a document's tokens, joined, are the
    text ``decode`` gives (what ``on_text`` prints is what the sample is)."""
    from seqgen.streaming import _arity

    decoder = domain.stream_decoder()
    if decoder is None:
        return
    two = _arity(decoder) >= 2
    for doc in documents[:5]:
        tokens = np.asarray(domain.encode(doc)).tolist()
        streamed = "".join(decoder(t, i) if two else decoder(t) for i, t in enumerate(tokens))
        assert streamed == domain.decode(np.asarray(tokens)), \
            f"{domain.name}: the stream decoder's text differs from decode's"


def check_state(domain: Domain, documents: list[Any]) -> Domain:
    state = json.loads(json.dumps(domain.get_state()))  # must survive JSON
    fresh = type(domain)(domain.options, state=state)
    for doc in documents[:3]:
        assert _same(domain.encode(doc), fresh.encode(doc)), \
            f"{domain.name}: codec state does not restore the same encoding"
    return fresh


def _batch(domain: Domain, documents: list[Any], T: int = 32) -> tuple[torch.Tensor, ...]:
    arr = np.concatenate([np.asarray(domain.encode(d)) for d in documents[:8]])[: T + 1]
    tokens = isinstance(domain.input_spec(), TokenInput)
    t = torch.as_tensor(arr if not tokens else arr.astype(np.int64))
    t = t.float() if not tokens else t
    return t[None, :-1], t[None, 1:]


def check_learns(domain: Domain, documents: list[Any], steps: int = 60) -> None:
    torch.manual_seed(0)
    spec = domain.head_spec()
    net = SeqNet(ModelConfig(1, 64, 16), domain.input_spec(),
                 build_head(spec.name, 64, spec.kwargs))
    x, y = _batch(domain, documents)
    opt = Adam(net.parameters(), lr=1e-2)  # the trainer's CPU optimiser (no torch._dynamo)
    losses = []
    for _ in range(steps):
        params, _ = net(x)
        total, n = net.head.loss(params, y)
        loss = total / n
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        assert math.isfinite(loss.item()), f"{domain.name}: non-finite loss"
        assert all(torch.isfinite(g).all() for g in grads), f"{domain.name}: non-finite gradient"
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.5 * abs(losses[0]) or losses[-1] < losses[0] - 1.0, \
        f"{domain.name}: a tiny net did not overfit one batch " \
        f"({losses[0]:.3f} -> {losses[-1]:.3f})"


def check_renderers(domain: Domain, documents: list[Any]) -> None:
    """Every renderer writes a non-empty file that its reader (when it has one) accepts."""
    from seqgen.render import render

    sample = domain.decode(domain.encode(documents[0]))
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, renderer in domain.renderers().items():
            paths = render(domain, [sample], Path(tmp) / f"out{suffix}")
            assert all(p.exists() and p.stat().st_size > 0 for p in paths), \
                f"{domain.name}: renderer {suffix} wrote nothing"
            if renderer.read is not None:
                for p in paths:
                    renderer.read(p)  # raises if the file is not valid for its format


def check_bad_input(domain: Domain, bad_sources: list[str]) -> None:
    """Each bad source raises SeqgenError (one line for the user), nothing else."""
    for source in bad_sources:
        try:
            domain.load_corpus(source)
        except SeqgenError as exc:
            assert "\n" not in str(exc), f"{domain.name}: a multi-line error for {source}"
            continue
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"{domain.name}: {source} raised {type(exc).__name__}, "
                                 f"not SeqgenError: {exc}") from exc
        raise AssertionError(f"{domain.name}: bad input {source} was accepted")


def check_domain(domain_cls: type[Domain], source: str | None = None,
                 options: dict[str, Any] | None = None, bad_sources: Sequence[str] = ()) -> None:
    """Run every conformance check on a domain class, with its default corpus or ``source``.

    ``bad_sources`` are inputs that must be refused with the documented SeqgenError.
    """
    assert domain_cls.name, "a domain needs a name"
    domain = domain_cls(parse_options(domain_cls.Options, options or {}))
    corpus = domain.load_corpus(source)
    docs = list(corpus.documents)
    assert docs, f"{domain.name}: the corpus has no documents"
    domain.fit(docs)
    check_tokens(domain, docs)
    check_stream(domain, docs)
    check_round_trip(domain, docs)
    domain = check_state(domain, docs)
    check_learns(domain, docs)
    check_renderers(domain, docs)
    check_bad_input(domain, list(bad_sources))


class DomainConformance:
    """Subclass in your tests (pytest collects ``test_*`` methods): set ``domain`` and options.

        class TestMyDomain(DomainConformance):
            domain = MyDomain
            bad_sources = ["tests/fixtures/broken.xyz"]

    ``bad_sources`` may also be a method that writes broken files into pytest's ``tmp_path``:

            def bad_sources(self, tmp_path):
                (tmp_path / "bad.xyz").write_text("not this format")
                return [str(tmp_path / "bad.xyz"), str(tmp_path / "missing.xyz")]

    ``check_domain`` runs the same checks from one test function (docs/plugins.md).
    """

    domain: type[Domain]
    source: str | None = None
    options: dict[str, Any] | None = None
    bad_sources: Sequence[str] | Callable[[Path], Sequence[str]] = ()

    def _fitted(self) -> tuple[Domain, list[Any]]:
        dom = self.domain(parse_options(self.domain.Options, self.options or {}))
        docs = list(dom.load_corpus(self.source).documents)
        dom.fit(docs)
        return dom, docs

    def test_tokens(self) -> None:
        check_tokens(*self._fitted())

    def test_stream(self) -> None:
        check_stream(*self._fitted())

    def test_round_trip(self) -> None:
        check_round_trip(*self._fitted())

    def test_state(self) -> None:
        check_state(*self._fitted())

    def test_learns(self) -> None:
        check_learns(*self._fitted())

    def test_renderers(self) -> None:
        check_renderers(*self._fitted())

    def test_bad_input(self, tmp_path: Path) -> None:
        bad = self.bad_sources
        check_bad_input(self._fitted()[0], list(bad(tmp_path) if callable(bad) else bad))
