"""The engine's per-step constraint rule (issues 26 and 28): a domain forbids tokens given the
sequence so far (an illegal move, a note out of range), beside the length rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqgen.config import ModelConfig
from seqgen.engine.heads import CategoricalHead
from seqgen.engine.model import SeqNet
from seqgen.engine.sample import Plan, SampleSettings, generate
from seqgen.engine.specs import TokenInput


def _net(vocab: int = 6) -> SeqNet:
    import torch

    torch.manual_seed(0)
    return SeqNet(ModelConfig(layers=1, hidden=8, embed=4), TokenInput(vocab),
                  CategoricalHead(8, vocab))


def test_the_rule_sees_the_sequence_so_far_and_forbids_tokens() -> None:
    calls: list[np.ndarray] = []

    def no_repeat_no_three(seen: np.ndarray) -> np.ndarray:  # (B, T) -> (B, V)
        calls.append(seen.copy())
        forbid = np.zeros((len(seen), 6), bool)
        forbid[np.arange(len(seen)), seen[:, -1]] = True  # never the token just drawn
        forbid[:, 3] = True
        return forbid

    ctx = np.array([0, 5, 5])
    for use_numpy in (True, False):
        calls.clear()
        got = generate(_net(), ctx, SampleSettings(seed=1, temperature=2.0),
                       Plan(rows=3, steps=40, constraint=no_repeat_no_three),
                       use_numpy=use_numpy)
        for seq in got.sequences:
            full = np.concatenate([ctx, seq])
            assert len(seq) == 40 and 3 not in seq.tolist()
            assert (full[3:] != full[2:-1]).all()  # no token repeats the one before
        assert calls[0].shape == (3, 3) and (calls[0] == ctx).all()  # the context first
        assert calls[-1].shape == (3, 42)  # then everything drawn, step by step
    free = generate(_net(), ctx, SampleSettings(seed=1, temperature=2.0), Plan(rows=3, steps=40))
    assert any(3 in s.tolist() for s in free.sequences)  # the rule is what kept 3 out


def test_a_row_with_nothing_allowed_is_drawn_unconstrained() -> None:
    def everything(seen: np.ndarray) -> np.ndarray:
        return np.ones((len(seen), 6), bool)

    got = generate(_net(), np.array([0]), SampleSettings(seed=2),
                   Plan(rows=2, steps=10, constraint=everything, never=(4,)))
    assert all(len(s) == 10 and 4 not in s.tolist() for s in got.sequences)  # never still holds


def test_a_domain_constraint_reaches_sampling(corpus: Path, monkeypatch) -> None:
    import seqgen
    from seqgen_text.domain import TextDomain

    run = seqgen.train("text", str(corpus), preset="tiny", max_steps=3, progress=False).run_dir
    model = seqgen.load(run)
    vowels = [model.domain.encode(c)[-1] for c in "aeiou"]

    def rule(self: TextDomain, prime: object = None):  # type: ignore[no-untyped-def]
        def no_vowels(seen: np.ndarray) -> np.ndarray:
            forbid = np.zeros((len(seen), model.net.head.proj.out_features), bool)
            forbid[:, vowels] = True
            return forbid
        return no_vowels
    free = "".join(model.sample(num=8, length=100, seed=3, temperature=1.5))
    assert set(free) & set("aeiou")
    monkeypatch.setattr(TextDomain, "constraint_rule", rule)
    ruled = "".join(model.sample(num=8, length=100, seed=3, temperature=1.5))
    assert len(ruled) > 100 and not set(ruled) & set("aeiou")


def test_a_given_part_is_kept_step_for_step_and_decides_the_length() -> None:
    """``Plan.given`` (``--melody``): given steps are drawn as given, free ones are sampled
    (never the end token), the sample is exactly as long as the part, and the constraint rule
    still rules the free steps knowing the given ones."""
    given = np.array([4, -1, -1, 2, -1, 5, -1, -1])
    seen_at_free: list[int] = []

    def not_after_two(seen: np.ndarray) -> np.ndarray:
        forbid = np.zeros((len(seen), 6), bool)
        forbid[seen[:, -1] == 2, 1] = True  # after a 2, never a 1
        seen_at_free.append(seen.shape[1])
        return forbid

    got = generate(_net(), np.array([0]), SampleSettings(seed=3, temperature=3.0),
                   Plan(rows=16, steps=100, stop_token=0, given=given,
                        constraint=not_after_two))
    for seq in got.sequences:
        assert len(seq) == len(given)
        assert (seq[given >= 0] == given[given >= 0]).all()
        assert 0 not in seq.tolist()  # the end token is never drawn inside the part
        assert seq[4] != 1  # the step after the given 2 obeyed the rule
    free = np.stack(got.sequences)[:, given < 0]
    assert len(np.unique(free)) > 2  # the free steps were sampled, not copied
    assert 5 in seen_at_free  # the rule saw the given steps before the free step 4


def test_the_domains_stop_rule_and_the_length_rule_end_a_row_together() -> None:
    """``Domain.stop_rule`` (issue 28 item 6) joins the length rule: a row ends at whichever
    says so first, and a length rule's hold on the end token stays."""
    from seqgen.engine.specs import LengthRule, either

    def at_five(steps: np.ndarray) -> np.ndarray:
        return steps == 5

    held = LengthRule(lambda s: np.zeros(len(s), bool), lambda: np.array([True]))
    both = either(held, at_five)
    assert isinstance(both, LengthRule) and both.hold is held.hold
    assert both(np.array([5, 2])).tolist() == [True, False]
    assert either(None, at_five) is at_five and either(held, None) is held
    got = generate(_net(), np.array([0]), SampleSettings(seed=1, temperature=2.0),
                   Plan(rows=8, steps=60, stop_rule=either(None, at_five)))
    for seq in got.sequences:
        assert 5 not in seq[:-1].tolist()  # ended at its first 5
