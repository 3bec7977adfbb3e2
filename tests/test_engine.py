"""Engine parts against direct computations: heads, resets, skip connections, the numpy stepper."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seqgen.config import ModelConfig
from seqgen.domain import TokenInput, VectorInput
from seqgen.engine.head_registry import build_head
from seqgen.engine.heads import CategoricalHead
from seqgen.engine.model import SeqNet
from seqgen.engine.sample import NumpyStepper, Plan, SampleSettings, generate
from seqgen.errors import SeqgenError


def test_categorical_loss_matches_direct_computation() -> None:
    torch.manual_seed(0)
    head = CategoricalHead(8, 5)
    params = torch.randn(2, 3, 5)
    target = torch.tensor([[0, 1, 2], [3, 4, 0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    total, n = head.loss(params, target, mask)
    logp = torch.log_softmax(params, -1)
    direct = -(logp[0, 0, 0] + logp[0, 1, 1] + logp[1, 0, 3])
    assert n.item() == 3
    assert total.item() == pytest.approx(direct.item(), rel=1e-5)
    full, n_full = head.loss(params, target)
    assert n_full.item() == 6 and full.item() > total.item()


def test_categorical_sampling_rules() -> None:
    head = CategoricalHead(4, 6)
    logits = np.log(np.array([[0.5, 0.3, 0.1, 0.05, 0.03, 0.02]] * 4000))
    rng = np.random.default_rng(0)
    greedy = head.sample(logits, rng, temperature=0)
    assert (greedy == 0).all()
    top2 = head.sample(logits, rng, top_k=2)
    assert set(np.unique(top2)) == {0, 1}
    nucleus = head.sample(logits, rng, top_p=0.75)  # 0.5 + 0.3 >= 0.75: only tokens 0 and 1
    assert set(np.unique(nucleus)) == {0, 1}
    free = head.sample(logits, rng)
    assert abs((free == 0).mean() - 0.5) < 0.03 and len(np.unique(free)) == 6
    cold = head.sample(logits, rng, temperature=0.5)
    assert (cold == 0).mean() > (free == 0).mean()


def test_unknown_head_is_an_error() -> None:
    with pytest.raises(SeqgenError, match="unknown output head"):
        build_head("nope", 4, {})


def _model(skip: bool, tokens: bool = True, layers: int = 2) -> SeqNet:
    torch.manual_seed(1)
    spec = TokenInput(11) if tokens else VectorInput(3)
    cfg = ModelConfig(layers=layers, hidden=16, embed=8, skip=skip)
    feats = 16 * (layers if skip else 1)
    return SeqNet(cfg, spec, CategoricalHead(feats, 11)).eval()


@pytest.mark.parametrize("skip", [False, True])
def test_resets_equal_separate_documents(skip: bool) -> None:
    """A reset mid-chunk must give exactly what running the second document alone gives."""
    model = _model(skip)
    x = torch.randint(0, 11, (2, 12))
    resets = torch.zeros(2, 12, dtype=torch.bool)
    resets[0, 5] = True  # stream 0: a document starts at column 5
    out, _ = model(x, None, resets)
    alone, _ = model(x[:1, 5:])
    torch.testing.assert_close(out[0, 5:], alone[0], rtol=1e-5, atol=1e-5)
    whole, _ = model(x[1:])  # stream 1 has no reset: unchanged
    torch.testing.assert_close(out[1], whole[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("skip", [False, True])
def test_state_carried_across_chunks(skip: bool) -> None:
    model = _model(skip)
    x = torch.randint(0, 11, (3, 10))
    full, _ = model(x)
    a, st = model(x[:, :4])
    b, _ = model(x[:, 4:], st)
    torch.testing.assert_close(torch.cat([a, b], 1), full, rtol=1e-5, atol=1e-5)


def test_skip_connections_feed_every_layer_to_head() -> None:
    model = _model(True, layers=3)
    assert model.feature_size == 48
    assert model.rnns[1].input_size == 8 + 16  # input plus the layer below
    out, (h, c) = model(torch.randint(0, 11, (2, 4)))
    assert out.shape == (2, 4, 11) and h.shape == (3, 2, 16)


@pytest.mark.parametrize("skip,tokens", [(False, True), (True, True), (False, False),
                                         (True, False)])
def test_numpy_stepper_matches_torch(skip: bool, tokens: bool) -> None:
    model = _model(skip, tokens, layers=3)
    x = torch.randint(0, 11, (4, 6)) if tokens else torch.randn(4, 6, 3)
    ref, _ = model(x)
    step = NumpyStepper(model)
    h = np.zeros((3, 4, 16), np.float32)
    c = np.zeros_like(h)
    for t in range(6):
        p = step.step(x[:, t].numpy(), h, c)
        np.testing.assert_allclose(p, ref[:, t].detach().numpy(), rtol=1e-4, atol=1e-5)


def test_generate_is_seeded_batched_and_stops() -> None:
    model = _model(False)
    s = SampleSettings(num=5, length=40, seed=3)
    a = generate(model, np.array([0]), s, Plan(stop_token=0)).sequences
    b = generate(model, np.array([0]), s, Plan(stop_token=0)).sequences
    assert len(a) == 5 and all((x == y).all() for x, y in zip(a, b, strict=True))
    assert all(len(x) <= 40 and (x != 0).all() for x in a)  # cut at the stop token
    c = generate(model, np.array([0]), SampleSettings(num=5, length=40, seed=4),
                 Plan(stop_token=0)).sequences
    assert any(len(x) != len(y) or (x != y).any() for x, y in zip(a, c, strict=True))


def test_generate_with_prime_uses_its_state() -> None:
    model = _model(False)
    for ctx in ([0, 3, 4, 5], [0, 7, 7, 7]):
        g = generate(model, np.array(ctx), SampleSettings(length=1, temperature=0)).sequences
        ref, _ = model(torch.tensor([ctx]))
        assert g[0][0] == int(ref[0, -1].argmax())  # first step continues the primed state


def test_torch_stepping_path_agrees_with_numpy() -> None:
    model = _model(True, layers=2)
    ctx = np.array([0, 3, 4, 5])
    s = SampleSettings(num=3, length=25, seed=5)
    a = generate(model, ctx, s, use_numpy=True).sequences
    b = generate(model, ctx, s, use_numpy=False).sequences
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert math.isfinite(float(model(torch.tensor([[1, 2]]))[0].detach().sum()))


def test_stop_rule_ends_samples_where_it_says() -> None:
    model = _model(False)
    count = np.zeros(3, int)

    def after_five(steps: np.ndarray) -> np.ndarray:
        count[:] += 1
        return count >= np.array([5, 7, 100])

    out = generate(model, np.array([0]), SampleSettings(num=3, length=12, seed=0),
                   Plan(stop_rule=after_five)).sequences
    assert [len(x) for x in out] == [5, 7, 12]


def test_length_rule_holds_the_end_token_back() -> None:
    """A model that always draws the end token: held back for the first steps, it cannot end
    there; once the hold lifts, it ends at once."""
    from seqgen.engine.specs import LengthRule

    model = _model(False)
    with torch.no_grad():
        model.head.proj.bias[3] = 100.0  # the end token is all the model wants to draw
    count = np.zeros(1, int)

    def hold() -> np.ndarray:
        return np.array([count[0] < 6])  # (1,): every row alike

    def counting(steps: np.ndarray) -> np.ndarray:
        count[0] += 1
        return np.zeros(len(steps), bool)

    s = SampleSettings(num=2, length=30, seed=0)
    free = generate(model, np.array([0]), s, Plan(stop_token=3)).sequences
    assert [len(x) for x in free] == [0, 0]
    held = generate(model, np.array([0]), s,
                    Plan(stop_token=3, stop_rule=LengthRule(counting, hold))).sequences
    assert [len(x) for x in held] == [6, 6] and 3 not in np.concatenate(held)


def test_feedback_makes_the_next_input_but_not_the_output() -> None:
    model = _model(False)
    with torch.no_grad():  # sharper than at init, so the next token depends on the input
        for p in model.parameters():
            p.mul_(8)
    fed: list[np.ndarray] = []

    def always_three(steps: np.ndarray) -> np.ndarray:
        fed.append(steps.copy())
        return np.full_like(steps, 3)

    s = SampleSettings(num=2, length=6, seed=1, temperature=0)
    out = generate(model, np.array([0]), s, Plan(feedback=always_three)).sequences
    steps = np.stack(out)  # (B, T): the samples themselves, not what was fed back
    assert len(fed) == 6 and all(np.array_equal(f, steps[:, i]) for i, f in enumerate(fed))
    # greedy steps after the first continue from tokens 3, 3, ..., whatever was sampled
    ref, _ = model(torch.tensor([[0, 3, 3, 3, 3, 3]]))
    want = ref[0, 1:].argmax(-1).numpy()  # (5,)
    assert all(np.array_equal(row[1:], want) for row in out)
    plain = generate(model, np.array([0]), s).sequences  # without feedback the samples are fed back
    assert not all(np.array_equal(a, b) for a, b in zip(out, plain, strict=True))


def test_length_rule_default_reads_steps() -> None:
    from seqgen_text.domain import TextDomain

    assert TextDomain().length_rule("40") == (40, None)
    assert TextDomain().length_rule(None)[0] == TextDomain.default_length
    with pytest.raises(SeqgenError, match="whole number"):
        TextDomain().length_rule("30s")
