"""What ``on_text`` streams is the sample the API returns, to its last token (issue 28 item 4:
a sample ended by a stop rule lost its last token in the stream)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import seqgen


@pytest.fixture
def model(corpus: Path) -> Any:
    seqgen.train("text", str(corpus), run="r", preset="tiny", max_steps=10, progress=False)
    return seqgen.load("r")


def test_a_sample_ended_by_a_stop_rule_streams_its_last_token(model: Any) -> None:
    seen = {"n": 0}

    def length_rule(length: str | None, prime: Any = None) -> tuple[int, Any]:
        def rule(nxt: np.ndarray) -> np.ndarray:  # ends every sample on its 7th step
            seen["n"] += 1
            return np.array([seen["n"] >= 7] * len(nxt))
        return 50, rule

    model.domain.length_rule = length_rule
    chunks: list[str] = []
    got = model.sample(seed=3, prime="All", keep_prime=False, on_text=chunks.append)[0]
    assert len(got) == 7 and "".join(chunks) == got


def test_a_sample_ended_by_its_separator_streams_the_sample(model: Any) -> None:
    chunks: list[str] = []
    got = model.sample(seed=1, length=400, keep_prime=True, prime="All",
                       on_text=chunks.append)[0]
    assert "".join(chunks) == got


def test_a_stream_decoder_may_take_each_tokens_position(model: Any) -> None:
    """A decoder of two arguments gets each token's position in the sample, the prime's
    tokens first (a chess plugin numbers its moves from them); the kept prime streams through
    it, not as the raw string (issue 28: it came out glued to the first move)."""
    dom = model.domain
    plain = dom.stream_decoder()
    seen: list[int] = []

    def numbered(token: int, position: int) -> str:
        seen.append(position)
        return plain(token)

    dom.stream_decoder = lambda: numbered
    chunks: list[str] = []
    got = model.sample(seed=2, length=30, prime="All", keep_prime=True, on_text=chunks.append)[0]
    assert "".join(chunks) == got and got.startswith("All")
    assert seen == list(range(len(seen))) and len(seen) == len(got)


def test_a_continuation_is_decoded_in_the_context_of_its_prime(model: Any) -> None:
    dom = model.domain
    calls: list[tuple[int, int]] = []

    def in_context(prime: np.ndarray, steps: np.ndarray) -> str:
        calls.append((len(prime), len(steps)))
        return f"[after {len(prime)}]" + dom.decode(steps)

    dom.decode_continuation = in_context
    cut = model.sample(seed=2, length=12, prime="All", keep_prime=False)[0]
    kept = model.sample(seed=2, length=12, prime="All", keep_prime=True)[0]
    assert cut.startswith("[after 3]") and calls == [(3, len(cut) - len("[after 3]"))]
    assert kept.startswith("All") and len(calls) == 1  # a kept prime decodes with the sample


def test_the_kit_checks_the_stream_is_the_sample(model: Any) -> None:
    from seqgen.testing import check_stream

    dom = model.domain
    docs = ["All the world", "a stage"]
    check_stream(dom, docs)  # the text domain's decoder: one character a token
    plain = dom.stream_decoder()
    dom.stream_decoder = lambda: (lambda t: plain(t).upper())
    with pytest.raises(AssertionError, match="differs from decode"):
        check_stream(dom, docs)
