"""A line that went wrong is drawn again (seqgen/redraw.py), and a page of several lines keeps
one hand (``TextConditioned.page_style``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from seqgen.domain import Prime
from seqgen.redraw import TOO_LONG, closer, off_by

pytest.importorskip("seqgen_handwriting")


class _Dom:
    expected_steps_per_char = 10.0


def test_off_by_is_the_length_over_the_expected() -> None:
    from seqgen_handwriting.domain import HandwritingDomain

    dom = HandwritingDomain({"lines": 4})
    dom.expected_steps_per_char = 10.0
    assert off_by(dom, np.zeros((70, 3)), "hello") == pytest.approx(1.0)  # 2 characters' slack
    assert off_by(dom, np.zeros((140, 3)), "hello") == pytest.approx(2.0)
    assert off_by(dom, np.zeros((140, 3)), "hello") > TOO_LONG
    assert closer(dom, np.zeros((80, 3)), np.zeros((140, 3)), "hello")
    assert not closer(dom, np.zeros((30, 3)), np.zeros((80, 3)), "hello")  # half is farther
    assert off_by(_Dom(), np.zeros((100, 3)), "hello") == 1.0  # not text-conditioned: no rule


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[int]:
    rows: list[int] = []
    real = module.generate

    def spy(net, context, settings, plan, device):  # type: ignore[no-untyped-def]
        rows.append(plan.rows)
        return real(net, context, settings, plan, device)

    monkeypatch.setattr(module, "generate", spy)
    return rows


def test_lines_that_ran_too_long_are_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import seqgen
    from seqgen import inference, redraw

    model = seqgen.load(model="cursive")
    first, again = _spy(monkeypatch, inference), _spy(monkeypatch, redraw)
    model.sample(text="ab\ncd\nef", seed=1, bias=1.0)
    assert first == [3] and again == []  # lines of the right length: drawn once
    monkeypatch.setattr(model.domain, "expected_steps_per_char", 0.5)  # all "too long" now
    first.clear()
    page = model.sample(text="ab\ncd\nef", seed=1, bias=1.0, redraw=2)[0]
    assert first == [3] and again == [3, 3] and len(page.lines) == 3  # the failed rows, twice
    again.clear()
    model.sample(text="ab\ncd", seed=1, bias=1.0, redraw=0)
    assert again == []


def test_a_page_is_written_in_one_style_given_none(monkeypatch: pytest.MonkeyPatch) -> None:
    import seqgen
    from seqgen import inference

    model = seqgen.load(model="cursive")
    primes: list[str] = []
    real = model._plan

    def spy(s, p: Prime, texts, keep, on_text):  # type: ignore[no-untyped-def]
        primes.append(p.text)
        return real(s, p, texts, keep, on_text)

    monkeypatch.setattr(model, "_plan", spy)
    monkeypatch.setattr(model.domain, "page_style", 2)
    model.sample(text="ab\ncd", seed=1, redraw=0)
    style_text = model.domain.styles[2]["text"]
    assert primes == [style_text]  # both lines primed with style 2, in one batch
    primes.clear()
    model.sample(text="ab", seed=1, redraw=0)  # one line: the model's own choice
    assert primes == [""]
    primes.clear()
    model.sample(text="ab\ncd", seed=1, style=0, redraw=0)  # a style given wins
    assert primes == [model.domain.styles[0]["text"]]
    assert inference is not None
