"""The mixture density heads against torch.distributions, bias, NaN safety, gradient clipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import distributions as D

from seqgen.engine.head_registry import build_head
from seqgen.engine.mixture import DiagGMMHead, MDN2DHead


def _mdn_params(M: int, B: int = 2, T: int = 5) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(B, T, 6 * M + 1)


def test_mdn2d_loss_matches_torch_distributions() -> None:
    M = 3
    head = MDN2DHead(4, M)
    params = _mdn_params(M)
    target = torch.cat([torch.randn(2, 5, 2), torch.randint(0, 2, (2, 5, 1)).float()], -1)
    total, n = head.loss(params, target)
    pi_hat, mu1, mu2, s1, s2, rho_hat = params[..., :6 * M].split(M, -1)
    s1, s2, rho = s1.exp(), s2.exp(), torch.tanh(rho_hat)
    cov = torch.stack([torch.stack([s1 * s1, rho * s1 * s2], -1),
                       torch.stack([rho * s1 * s2, s2 * s2], -1)], -2)  # (B, T, M, 2, 2)
    mix = D.MixtureSameFamily(D.Categorical(logits=pi_hat),
                              D.MultivariateNormal(torch.stack([mu1, mu2], -1), cov))
    eos = D.Bernoulli(logits=params[..., 6 * M])
    direct = -(mix.log_prob(target[..., :2]) + eos.log_prob(target[..., 2])).sum()
    assert n.item() == 10
    assert total.item() == pytest.approx(direct.item(), rel=1e-4)


def test_gmm_loss_matches_torch_distributions_with_mask() -> None:
    M, Dim = 2, 4
    head = DiagGMMHead(4, Dim, M)
    torch.manual_seed(1)
    params = torch.randn(2, 3, head.n_params)
    target = torch.cat([torch.randn(2, 3, Dim), torch.zeros(2, 3, 1)], -1)
    target[:, -1, Dim] = 1.0
    mask = torch.tensor([[True, True, True], [True, False, False]])
    total, n = head.loss(params, target, mask)
    pi_hat, mu, log_s, stop = head.split(params)
    comp = D.Independent(D.Normal(mu, log_s.exp()), 1)
    lp = D.MixtureSameFamily(D.Categorical(logits=pi_hat), comp).log_prob(target[..., :Dim])
    lp = lp + D.Bernoulli(logits=stop).log_prob(target[..., Dim])
    assert n.item() == 4
    assert total.item() == pytest.approx(-(lp * mask).sum().item(), rel=1e-4)


def test_no_nan_at_extremes_and_output_gradients_clipped() -> None:
    M = 2
    head = MDN2DHead(4, M)
    params = torch.zeros(1, 4, 6 * M + 1)
    params[..., 3 * M:5 * M] = -50.0  # sigma far below the floor
    params[..., 5 * M:6 * M] = 30.0  # rho -> 1
    params[..., 0] = 80.0
    params.requires_grad_(True)
    target = torch.tensor([[[1e3, -1e3, 1.0]] * 4])
    total, n = head.loss(params, target)
    (total / n).backward()
    assert torch.isfinite(total) and torch.isfinite(params.grad).all()
    assert params.grad.abs().max().item() <= 100.0 / 4 + 1e-6  # +-100 on the summed loss


def test_bias_sharpens_samples() -> None:
    M = 2
    head = MDN2DHead(4, M)
    p = np.zeros((4000, 6 * M + 1), np.float32)
    p[:, 0], p[:, 1] = 0.0, 0.0  # equal weights
    p[:, M:2 * M] = [[-3.0, 3.0]]  # mu1 of the two components
    p[:, 3 * M:5 * M] = np.log(0.5)
    p[:, 0] = 0.5  # component 0 a little likelier
    rng = np.random.default_rng(0)
    free = head.sample(p, rng)
    biased = head.sample(p, rng, bias=3.0)
    assert free.shape == (4000, 3) and set(np.unique(free[:, 2])) <= {0.0, 1.0}
    assert (biased[:, 0] < 0).mean() > (free[:, 0] < 0).mean() + 0.2  # weights sharpen
    assert biased[:, 1].std() < 0.2 * free[:, 1].std()  # sigma = exp(sigma_hat - b)


def test_gmm_sample_shapes_and_temperature() -> None:
    head = build_head("gmm", 8, {"dim": 3, "components": 2})
    p = np.zeros((3000, head.n_params), np.float32)
    rng = np.random.default_rng(1)
    hot, cold = head.sample(p, rng), head.sample(p, rng, temperature=0.01)
    assert hot.shape == (3000, 4)
    assert cold[:, :3].std() < 0.2 * hot[:, :3].std()
