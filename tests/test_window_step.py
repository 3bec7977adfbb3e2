"""The numpy sampling step of the window model (engine/window_step.py) and the mixture head's
batch-1 draw (engine/mixture.py): held step by step to WindowNet.step in torch, and the draw to
the batched numpy draw it replaces at one row (same samples, same random stream)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from test_window_fast import COND, _net

from seqgen.engine.mixture import LOG_SIGMA_MIN, MDN2DHead
from seqgen.engine.window_step import NumpyWindowStepper

M = 20  # the handwriting head's components


def _rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """n parameter rows (n, 6M + 1) of every scale, with the clamps and overflows hit: sigma
    below its floor, rho past its clamp, exp past float64's range, a pen logit of +-800."""
    p = rng.standard_normal((n, 6 * M + 1)) * rng.choice([0.1, 1.0, 4.0, 30.0], (n, 1))
    p[::7, 3 * M:5 * M] = -12.0  # log sigma under LOG_SIGMA_MIN: the floor
    p[1::7, 5 * M:6 * M] = 40.0  # rho hat: tanh is 1, clamped to RHO_MAX
    p[2::7, 3 * M:4 * M] = 800.0  # sigma overflows: inf offsets, as the batched draw gives
    p[3::7, 6 * M] = -800.0  # the pen logit: exp(800) overflows, probability 0
    p[4::7, 6 * M] = 800.0
    p[5::7, :M] = 0.0  # equal mixture weights: the cdf's steps all alike
    assert (p[::7, 3 * M] < LOG_SIGMA_MIN).all()
    return p.astype(np.float32)


@pytest.mark.parametrize(("bias", "temperature"), [(0.0, 1.0), (0.5, 1.0), (2.0, 0.5),
                                                   (0.5, 0.0)])
def test_the_batch_1_draw_is_the_batched_draw(bias: float, temperature: float) -> None:
    """Row by row, the scalar draw gives the batched numpy draw's samples bit for bit and takes
    the same numbers from the generator (its state after each draw is the same)."""
    head = MDN2DHead(8, M)
    rows = _rows(np.random.default_rng(7), 700)
    fast, slow = np.random.default_rng(3), np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow rows, in both
        for p in rows:
            a = head.sample(p[None], fast, bias=bias, temperature=temperature)  # (1, 3)
            b = head.sample_rows(p[None], slow, temperature ** 0.5, bias)
            assert a.dtype == np.float32 and a.shape == (1, 3)
            np.testing.assert_array_equal(a, b)  # nan where both are (inf * 0 at T = 0)
            assert fast.bit_generator.state == slow.bit_generator.state


def test_the_batch_1_draw_covers_every_component_and_both_pen_states() -> None:
    """The scalar component pick is a real draw: over many seeds every component and both pen
    states come up, in proportion to their weights (softmax of pi_hat (1 + bias))."""
    head = MDN2DHead(8, 4)
    p = np.zeros((1, 6 * 4 + 1), np.float32)
    p[0, :4] = np.log([0.1, 0.2, 0.3, 0.4])  # mixture weights, bias 0
    p[0, 4:8] = 5 * np.arange(4)  # mu1 tells the component
    p[0, 12:20] = -4.0  # log sigmas: offsets within 0.1 of mu
    rng = np.random.default_rng(0)
    draws = np.concatenate([head.sample(p, rng) for _ in range(4000)])  # (4000, 3)
    share = np.bincount(np.rint(draws[:, 0] / 5).astype(int), minlength=4) / len(draws)
    np.testing.assert_allclose(share, [0.1, 0.2, 0.3, 0.4], atol=0.03)
    assert 0.45 < draws[:, 2].mean() < 0.55  # pen logit 0: lifts half the time


def _torch_inputs(net: torch.nn.Module, B: int, steps: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(4)
    if net.tokens:  # type: ignore[union-attr]
        return torch.randint(0, 7, (steps, B, 1), generator=g)
    return torch.randn(steps, B, 1, 3, generator=g)  # (steps, B, 1, D)


@pytest.mark.parametrize(("rows", "layers", "tokens"), [
    (1, 2, False), (3, 2, False), (1, 1, False), (3, 3, False), (1, 3, True), (3, 2, True)])
def test_the_numpy_step_is_the_torch_step(rows: int, layers: int, tokens: bool) -> None:
    """Step by step from a carried state, padded texts of three lengths at 3 rows: the head's
    parameters, the window (phi) and the stop test as WindowNet.step gives them."""
    net = _net(layers, tokens).eval()
    cond = COND[:rows]
    g = torch.Generator().manual_seed(1)
    state = tuple(s + 0.3 * torch.rand(s.shape, generator=g) for s in net.zero_state(rows))
    ws = NumpyWindowStepper(net, cond.numpy(), state)
    kept = []
    for x in _torch_inputs(net, rows, 12):
        with torch.inference_mode():
            want, state, (phi, done) = net.step(x, state, cond)  # (B, P), (B, U), (B,)
        got = ws.step(x[:, 0].numpy())  # (B,) tokens or (B, D)
        np.testing.assert_allclose(got[0], want.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(got[1], phi.numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_array_equal(got[2], done.numpy())
        kept.append((got[1].copy(), got[1]))
    np.testing.assert_allclose(ws.kappa, state[2].numpy(), rtol=1e-5)
    # each step's phi is its own array: the sampler keeps them all as the attention
    assert all(np.array_equal(a, b) for a, b in kept)


def test_the_stop_test_fires_past_the_text() -> None:
    """Kappa pushed past the text's end: phi at position U + 1 beats every phi in the text."""
    net = _net(2).eval()
    cond = COND[:1]
    h, c, kappa, w = net.zero_state(1)
    ws = NumpyWindowStepper(net, cond.numpy(), (h, c, kappa + 7.0, w))  # text of 6
    _, _, done = ws.step(np.zeros((1, 3), np.float32))
    with torch.inference_mode():
        _, _, (_, want) = net.step(torch.zeros(1, 1, 3), (h, c, kappa + 7.0, w), cond)
    assert done.tolist() == want.tolist() == [True]
