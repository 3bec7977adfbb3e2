"""The window model's fast paths against today's plain formulation (kept here as the reference).

Training: engine/window_kernel.py's hand-written backward against autograd through the
``nn.LSTMCell`` loop WindowNet ran before, on the same weights (float64, 1e-5): outputs, the
carried state, every parameter's gradient, with padded texts, a mask, a carried state, clamped
window parameters and dropout. Sampling: the numpy step against the reference torch step, same
seed, same samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqgen.config import ModelConfig
from seqgen.engine.heads import CategoricalHead
from seqgen.engine.mixture import MDN2DHead
from seqgen.engine.sample import Plan, SampleSettings, generate
from seqgen.engine.specs import TokenInput, VectorInput
from seqgen.engine.window import Window, WindowNet
from seqgen.engine.window_kernel import WindowRecurrence


def reference_run(m: WindowNet, x: torch.Tensor, state: Any, cond: torch.Tensor) -> Any:
    """WindowNet._run as it was before the kernel (one-hot bmm, LSTMCell, autograd)."""
    B, T = x.shape[0], x.shape[1]
    h, c, kappa, w = state if state is not None else m.zero_state(B, x.device)
    onehot = F.one_hot(cond, m.V + 1)[..., 1:].to(w.dtype)  # (B, U, V)
    umask = (cond > 0).to(w.dtype)  # (B, U)
    u = torch.arange(1, cond.shape[1] + 1, device=x.device, dtype=w.dtype)  # (U,)
    emb = m.drop(m.inp(x))  # (B, T, E)
    h1, c1 = h[0], c[0]
    h1s, ws = [], []
    for t in range(T):
        h1, c1 = m.cell(torch.cat([emb[:, t], w], -1), (h1, c1))  # (B, H)
        a, b, k = m.window(h1).clamp(max=10).chunk(3, -1)  # (B, K) each
        alpha, beta = torch.exp(a), torch.exp(b)
        kappa = kappa + torch.exp(k)
        phi = (alpha[:, :, None] * torch.exp(-beta[:, :, None]
               * (kappa[:, :, None] - u) ** 2)).sum(1) * umask  # (B, U)
        w = torch.bmm(phi.unsqueeze(1), onehot).squeeze(1)  # (B, V)
        h1s.append(h1)
        ws.append(w)
    end = umask.sum(1, keepdim=True) + 1  # (B, 1)
    phi_end = (alpha * torch.exp(-beta * (kappa - end) ** 2)).sum(1)  # (B,)
    window = Window(phi.detach(), (phi_end > phi.max(1).values).detach())
    below, wins = torch.stack(h1s, 1), torch.stack(ws, 1)  # (B, T, H), (B, T, V)
    outs, hs, cs = [below], [h1], [c1]
    for i, rnn in enumerate(m.rnns):
        below, (hi, ci) = rnn(torch.cat([emb, m.drop(below), wins], -1),
                              (h[i + 1:i + 2].contiguous(), c[i + 1:i + 2].contiguous()))
        outs.append(below)
        hs.append(hi[0])
        cs.append(ci[0])
    feats = torch.cat(outs, -1)  # (B, T, L*H)
    return m.head(m.drop(feats)), (torch.stack(hs), torch.stack(cs), kappa, w), window


def _net(layers: int = 3, tokens: bool = False, dropout: float = 0.0, V: int = 5) -> WindowNet:
    torch.manual_seed(0)
    spec = TokenInput(7) if tokens else VectorInput(3)
    head = CategoricalHead(16 * layers, 7) if tokens else MDN2DHead(16 * layers, 3)
    m = WindowNet(ModelConfig(layers=layers, hidden=16, embed=8, dropout=dropout), spec, head,
                  vocab_size=V)
    with torch.no_grad():
        m.window.bias[2 * m.K:].fill_(-0.7)  # about half a character a step
        m.window.bias[2 * m.K].fill_(10.5)  # a k hat above the clamp: no gradient there
    return m


COND = torch.tensor([[1, 2, 3, 4, 5, 1], [2, 1, 0, 0, 0, 0], [5, 5, 1, 3, 0, 0]])  # padded


def _state(m: WindowNet, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(1)
    h, c, kappa, w = (s.to(dtype) for s in m.zero_state(3))
    return (torch.randn(h.shape, generator=g, dtype=dtype) * 0.3,
            torch.randn(c.shape, generator=g, dtype=dtype) * 0.3,
            torch.rand(kappa.shape, generator=g, dtype=dtype) * 2,
            torch.rand(w.shape, generator=g, dtype=dtype))


def _loss_and_grads(m: WindowNet, run: Any, x: torch.Tensor, state: Any,
                    mask: torch.Tensor) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    m.zero_grad()
    torch.manual_seed(5)  # the same dropout masks for both
    params, new = run(m, x, state, COND)[:2]
    total, _ = m.head.loss(params, x, mask)
    # the carried state enters the loss too, so its gradients are checked
    (total + sum((s * (k + 1)).square().sum() for k, s in enumerate(new))).backward()
    grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
    return [params.detach(), *(s.detach() for s in new)], grads


@pytest.mark.parametrize("layers,tokens,dropout", [(3, False, 0.0), (2, True, 0.0),
                                                   (2, False, 0.3), (1, False, 0.0)])
def test_kernel_matches_the_plain_formulation(layers: int, tokens: bool, dropout: float) -> None:
    m = _net(layers, tokens, dropout).double().train()
    x = torch.randint(0, 7, (3, 11)) if tokens else torch.randn(3, 11, 3, dtype=torch.float64)
    mask = torch.ones(3, 11, dtype=torch.bool)
    mask[1, 7:] = False  # a padded sequence
    run_ref, run_new = reference_run, lambda m, x, s, c: m(x, s, None, c)  # noqa: E731
    state = _state(m, torch.float64)
    ref_out, ref_grads = _loss_and_grads(m, run_ref, x, state, mask)
    out, grads = _loss_and_grads(m, run_new, x, state, mask)
    for a, b in zip(out, ref_out, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-8)
    assert grads.keys() == ref_grads.keys()
    for name, g in grads.items():
        scale = float(ref_grads[name].abs().max()) + 1e-12
        torch.testing.assert_close(g / scale, ref_grads[name] / scale, rtol=0, atol=1e-5,
                                   msg=name)


def test_kernel_matches_in_float32_and_from_a_zero_state() -> None:
    m = _net(2)
    x = torch.randn(3, 40, 3)
    ref, ref_grads = _loss_and_grads(m, reference_run, x, None, torch.ones(3, 40, dtype=bool))
    out, grads = _loss_and_grads(m, lambda m, x, s, c: m(x, s, None, c), x, None,
                                 torch.ones(3, 40, dtype=bool))
    torch.testing.assert_close(out[0], ref[0], rtol=1e-4, atol=1e-5)
    for name, g in grads.items():
        scale = float(ref_grads[name].abs().max()) + 1e-12
        torch.testing.assert_close(g / scale, ref_grads[name] / scale, rtol=0, atol=1e-4)


def test_recurrence_gradcheck() -> None:
    """Every input of the autograd Function, the final c and kappa included, by finite
    differences."""
    g = torch.Generator().manual_seed(2)
    T, B, E, H, V, K = 5, 2, 3, 3, 4, 2

    def r(*shape: int, s: float = 0.5) -> torch.Tensor:
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * s).requires_grad_()
    b_win = r(3 * K)
    with torch.no_grad():
        b_win[2 * K:] = -0.5
        b_win[0] = 10.2  # clamped
    args = (r(T, B, E), r(E, 4 * H), r(4 * H), r(V + H, 4 * H), r(H, 3 * K), b_win, r(B, H),
            r(B, H), r(B, K, s=1.0).abs().detach().requires_grad_(), r(B, V),
            torch.tensor([[0, 1, 2], [3, 0, 0]]), torch.tensor([[1.0, 1, 1], [1, 0, 0]],
                                                                 dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda *a: WindowRecurrence.apply(*a)[:4], args)


def _sample(m: WindowNet, cond: np.ndarray, use_numpy: bool, seed: int = 3) -> Any:
    ctx = np.zeros((4, 3), np.float32)  # the start frame and a three-point prime
    ctx[1:] = [[0.5, -0.2, 0.0], [0.1, 0.3, 1.0], [-0.4, 0.2, 0.0]]
    return generate(m, ctx, SampleSettings(num=len(cond), length=80, seed=seed, bias=0.5),
                    Plan(cond=cond), use_numpy=use_numpy)


@pytest.mark.parametrize("rows,layers", [(1, 2), (3, 2), (2, 3), (1, 1)])
def test_numpy_sampling_gives_the_samples_of_the_reference_torch_step(
        rows: int, layers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    m = _net(layers)
    cond = COND.numpy()[:rows]
    fast = _sample(m.eval(), cond, use_numpy=True)
    torch_now = _sample(m, cond, use_numpy=False)
    monkeypatch.setattr(WindowNet, "_run", lambda self, x, s, c: reference_run(self, x, s, c))
    before = _sample(m, cond, use_numpy=False)  # the torch path as it was
    for got in (fast, torch_now):
        assert [len(s) for s in got.sequences] == [len(s) for s in before.sequences]
        for a, b in zip(got.sequences, before.sequences, strict=True):
            np.testing.assert_array_equal(a[:, 2], b[:, 2])  # the pen lifts
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(got.attention, before.attention, rtol=1e-4, atol=1e-5)


def test_numpy_sampling_with_token_input() -> None:
    m = _net(2, tokens=True).eval()
    ctx = np.array([0, 3, 4])
    s = SampleSettings(num=2, length=30, seed=1, temperature=0.8)
    cond = COND.numpy()[:2]
    a = generate(m, ctx, s, Plan(cond=cond), use_numpy=True)
    b = generate(m, ctx, s, Plan(cond=cond), use_numpy=False)
    assert all(np.array_equal(x, y) for x, y in zip(a.sequences, b.sequences, strict=True))
