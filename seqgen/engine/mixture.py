"""Mixture density heads (Bishop 1994; Graves 2013 section 4.1), computed in log space.

``mdn2d``: bivariate Gaussians with correlation plus an end-of-stroke Bernoulli, for pen offsets
(Graves eq. 18-26). ``gmm``: diagonal Gaussians over D-dimensional frames plus a stop Bernoulli,
for acoustic features. Sigma has a floor and rho a clamp so the loss never goes NaN, and the
derivative of the summed loss with respect to the head's outputs is clipped to +-100 as in the
paper (section 4.2).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from itertools import accumulate

import numpy as np
import torch
import torch.nn.functional as F

from seqgen.engine.heads import Head, draw

LOG_SIGMA_MIN = math.log(1e-4)  # sigma floor, as open implementations use
RHO_MAX = 1 - 1e-5
OUTPUT_GRAD_CLIP = 100.0
LOG_2PI = math.log(2 * math.pi)


def _clip_output_grads(params: torch.Tensor, n: torch.Tensor) -> None:
    """Clip d(summed loss)/d(outputs) to +-100; our loss is a mean over n steps, hence /n."""
    if params.requires_grad:
        bound = OUTPUT_GRAD_CLIP / max(float(n), 1.0)
        params.register_hook(lambda g: g.clamp(-bound, bound))


def _masked_sum(nll: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    if mask is None:
        return nll.sum(), nll.new_tensor(float(nll.numel()))
    m = mask.to(nll.dtype)
    return (nll * m).sum(), m.sum()


def _pick(log_pi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One component index per row from log weights (B, M)."""
    return draw(np.exp(log_pi - log_pi.max(1, keepdims=True)), rng)


class MDN2DHead(Head):
    """Outputs (dx, dy, end_of_stroke): M bivariate Gaussians + a Bernoulli; P = 6M + 1."""

    target_dtype = "float"

    def __init__(self, in_features: int, components: int = 20) -> None:
        self.M = components
        self.n_params = 6 * components + 1
        super().__init__(in_features)

    def split(self, params: torch.Tensor) -> tuple[torch.Tensor, ...]:
        M = self.M
        pi_hat, mu1, mu2, s1, s2, rho_hat = params[..., :6 * M].split(M, -1)  # each (..., M)
        e_hat = params[..., 6 * M]  # (...)
        log_s1, log_s2 = s1.clamp(min=LOG_SIGMA_MIN), s2.clamp(min=LOG_SIGMA_MIN)
        rho = torch.tanh(rho_hat).clamp(-RHO_MAX, RHO_MAX)
        return pi_hat, mu1, mu2, log_s1, log_s2, rho, e_hat

    def loss(self, params: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        params = params.float()
        pi_hat, mu1, mu2, log_s1, log_s2, rho, e_hat = self.split(params)
        x1, x2, eos = target[..., 0:1], target[..., 1:2], target[..., 2]  # (B, T, 1) x2, (B, T)
        z1 = (x1 - mu1) * torch.exp(-log_s1)  # (B, T, M)
        z2 = (x2 - mu2) * torch.exp(-log_s2)
        one_m_r2 = 1 - rho * rho
        z = z1 * z1 + z2 * z2 - 2 * rho * z1 * z2
        log_n = -LOG_2PI - log_s1 - log_s2 - 0.5 * torch.log(one_m_r2) - z / (2 * one_m_r2)
        log_p = torch.logsumexp(F.log_softmax(pi_hat, -1) + log_n, -1)  # (B, T)
        bern = F.binary_cross_entropy_with_logits(e_hat, eos, reduction="none")  # (B, T)
        total, n = _masked_sum(bern - log_p, mask)
        _clip_output_grads(params, n)
        return total, n

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """Expected offset under the mixture (..., 2), for the sum-squared-error metric."""
        pi_hat, mu1, mu2, *_ = self.split(params.float())
        w = torch.softmax(pi_hat, -1)
        return torch.stack([(w * mu1).sum(-1), (w * mu2).sum(-1)], -1)

    def sample(self, params: np.ndarray, rng: np.random.Generator, *, temperature: float = 1.0,
               top_k: int = 0, top_p: float = 1.0, bias: float = 0.0) -> np.ndarray:
        scale = math.sqrt(max(temperature, 0.0))
        if params.shape[0] == 1:  # sampling's usual case: in Python floats, not ~30 numpy calls
            return _mdn2d_one(params, self.M, rng, scale, bias)
        return self.sample_rows(params, rng, scale, bias)

    def sample_rows(self, params: np.ndarray, rng: np.random.Generator, scale: float,
                    bias: float) -> np.ndarray:
        """The draw for any number of rows (B, P) in numpy; scale is sqrt(temperature)."""
        M, B = self.M, params.shape[0]
        p = params.astype(np.float64)
        pi_hat, mu1, mu2, s1, s2, rho_hat = (p[:, i * M:(i + 1) * M] for i in range(6))
        # Graves eq. 61-62: bias sharpens the mixture weights and shrinks the variances
        k = _pick(pi_hat * (1 + bias), rng)
        rows = np.arange(B)
        sd1 = np.exp(np.maximum(s1[rows, k], LOG_SIGMA_MIN) - bias) * scale
        sd2 = np.exp(np.maximum(s2[rows, k], LOG_SIGMA_MIN) - bias) * scale
        r = np.clip(np.tanh(rho_hat[rows, k]), -RHO_MAX, RHO_MAX)
        n1, n2 = rng.standard_normal((2, B))
        x1 = mu1[rows, k] + sd1 * n1
        x2 = mu2[rows, k] + sd2 * (r * n1 + np.sqrt(1 - r * r) * n2)
        eos = rng.random(B) < 1 / (1 + np.exp(-p[:, 6 * M]))
        return np.stack([x1, x2, eos.astype(np.float64)], 1).astype(np.float32)  # (B, 3)


def _exp(x: float) -> float:
    """math.exp, inf past float64's range as np.exp gives."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _mdn2d_one(params: np.ndarray, M: int, rng: np.random.Generator, scale: float,
               bias: float) -> np.ndarray:
    """MDN2DHead.sample for one row params (1, 6M + 1): the same float64 arithmetic, in the same
    order, and the same draws from rng (one uniform for the component, two normals, one uniform
    for the pen), so the same samples for the same seed (tests/test_window_step.py)."""
    c = 1 + bias  # Graves eq. 61-62, as in the batched path
    log_pi = [v * c for v in params[0, :M].tolist()]  # Python floats: float64, as there
    top = max(log_pi)
    cdf = list(accumulate([math.exp(v - top) for v in log_pi]))  # np.cumsum's order
    # draw(): the index of the first cdf entry >= u, i.e. the count of entries below u
    k = min(bisect_left(cdf, rng.random() * cdf[-1]), M - 1)
    mu1, mu2, s1, s2, rho_hat = (params.item(j * M + k) for j in range(1, 6))  # the component's
    sd1 = _exp(max(s1, LOG_SIGMA_MIN) - bias) * scale
    sd2 = _exp(max(s2, LOG_SIGMA_MIN) - bias) * scale
    # np.tanh, not math.tanh: they differ in the last bit on a third of inputs
    r = min(max(float(np.tanh(rho_hat)), -RHO_MAX), RHO_MAX)
    n1, n2 = rng.standard_normal(), rng.standard_normal()  # standard_normal((2, 1))'s stream
    x1 = mu1 + sd1 * n1
    x2 = mu2 + sd2 * (r * n1 + math.sqrt(1 - r * r) * n2)
    eos = rng.random() < 1 / (1 + _exp(-params.item(6 * M)))
    return np.array([[x1, x2, float(eos)]], np.float32)  # (1, 3)


class DiagGMMHead(Head):
    """Outputs D-dim frames plus a stop flag: M diagonal Gaussians + a Bernoulli.

    Targets are (..., D + 1): the frame, then 1.0 on the last frame of a sequence.
    """

    target_dtype = "float"

    def __init__(self, in_features: int, dim: int, components: int = 4) -> None:
        self.M, self.D = components, dim
        self.n_params = components * (2 * dim + 1) + 1
        super().__init__(in_features)

    def split(self, params: torch.Tensor) -> tuple[torch.Tensor, ...]:
        M, D = self.M, self.D
        pi_hat = params[..., :M]  # (..., M)
        mu = params[..., M:M + M * D].unflatten(-1, (M, D))  # (..., M, D)
        log_s = params[..., M + M * D:M + 2 * M * D].unflatten(-1, (M, D)).clamp(min=LOG_SIGMA_MIN)
        return pi_hat, mu, log_s, params[..., -1]

    def loss(self, params: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        params = params.float()
        pi_hat, mu, log_s, stop_hat = self.split(params)
        x = target[..., :self.D].unsqueeze(-2)  # (B, T, 1, D)
        z = (x - mu) * torch.exp(-log_s)  # (B, T, M, D)
        log_n = -0.5 * (LOG_2PI + 2 * log_s + z * z).sum(-1)  # (B, T, M)
        log_p = torch.logsumexp(F.log_softmax(pi_hat, -1) + log_n, -1)  # (B, T)
        bern = F.binary_cross_entropy_with_logits(stop_hat, target[..., self.D], reduction="none")
        total, n = _masked_sum(bern - log_p, mask)
        _clip_output_grads(params, n)
        return total, n

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        pi_hat, mu, _, _ = self.split(params.float())
        return (torch.softmax(pi_hat, -1).unsqueeze(-1) * mu).sum(-2)  # (..., D)

    def sample(self, params: np.ndarray, rng: np.random.Generator, *, temperature: float = 1.0,
               top_k: int = 0, top_p: float = 1.0, bias: float = 0.0) -> np.ndarray:
        M, D, B = self.M, self.D, params.shape[0]
        p = params.astype(np.float64)
        k = _pick(p[:, :M] * (1 + bias), rng)
        rows = np.arange(B)
        mu = p[:, M:M + M * D].reshape(B, M, D)[rows, k]  # (B, D)
        log_s = p[:, M + M * D:M + 2 * M * D].reshape(B, M, D)[rows, k]
        sd = np.exp(np.maximum(log_s, LOG_SIGMA_MIN) - bias) * math.sqrt(max(temperature, 0.0))
        frame = mu + sd * rng.standard_normal((B, D))
        stop = rng.random(B) < 1 / (1 + np.exp(-p[:, -1]))
        return np.concatenate([frame, stop[:, None]], 1).astype(np.float32)  # (B, D + 1)
