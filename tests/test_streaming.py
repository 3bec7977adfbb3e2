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
