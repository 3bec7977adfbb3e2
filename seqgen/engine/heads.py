"""Output heads: distribution parameters from hidden features, a masked loss, and sampling.

A head owns its output projection. ``loss`` returns the summed negative log-likelihood in nats
and the number of scored steps, so callers can average exactly over batches of any padding.
``sample`` works on numpy parameters of one time step, because sampling runs step by step on
the CPU where numpy's per-call overhead is a tenth of torch's (see docs/performance.md).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: a temperature below this samples greedily: exp(-gap / T) < 1e-43 for any logit gap over 1e-4
GREEDY_BELOW = 1e-6


class Head(nn.Module):
    """Base class: subclasses set ``n_params`` in __init__ before calling ``super().__init__``."""

    #: "long" for integer targets, "float" for vector targets
    target_dtype: ClassVar[str] = "long"
    n_params: int

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_features, self.n_params)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.proj(features)  # (B, T, F) -> (B, T, P)

    def loss(self, params: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed NLL in nats over unmasked steps, and the count of those steps."""
        raise NotImplementedError

    def sample(self, params: np.ndarray, rng: np.random.Generator, *, temperature: float = 1.0,
               top_k: int = 0, top_p: float = 1.0, bias: float = 0.0) -> np.ndarray:
        """Draw one step for each row of params (B, P): tokens (B,) or vectors (B, D)."""
        raise NotImplementedError


class CategoricalHead(Head):
    """Softmax over ``num_classes`` tokens, with temperature, top-k and top-p sampling."""

    target_dtype = "long"

    def __init__(self, in_features: int, num_classes: int) -> None:
        self.n_params = num_classes
        super().__init__(in_features)

    def loss(self, params: torch.Tensor, target: torch.Tensor,
             mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        logits = params.reshape(-1, params.shape[-1]).float()  # (B*T, V)
        flat = target.reshape(-1)  # (B*T,)
        if mask is None:
            return F.cross_entropy(logits, flat, reduction="sum"), flat.new_tensor(flat.numel())
        m = mask.reshape(-1).to(logits.dtype)
        nll = F.cross_entropy(logits, flat, reduction="none")  # (B*T,)
        return (nll * m).sum(), m.sum()

    def sample(self, params: np.ndarray, rng: np.random.Generator, *, temperature: float = 1.0,
               top_k: int = 0, top_p: float = 1.0, bias: float = 0.0) -> np.ndarray:
        logits = params.astype(np.float64, copy=True)  # (B, V)
        # greedy decoding: at 0, and below GREEDY_BELOW, where dividing could overflow (1e-320
        # is subnormal: 1 / T is inf) and the softmax is the argmax anyway
        if temperature < GREEDY_BELOW:
            return logits.argmax(axis=1)
        logits /= temperature
        if 0 < top_k < logits.shape[1]:
            kth = np.partition(logits, -top_k, axis=1)[:, -top_k][:, None]  # (B, 1)
            logits[logits < kth] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)  # (B, V)
        if top_p < 1.0:
            # nucleus sampling (Holtzman et al. 2019): keep the smallest set whose mass >= top_p
            order = np.argsort(-probs, axis=1)
            sorted_p = np.take_along_axis(probs, order, axis=1)
            keep_sorted = np.cumsum(sorted_p, axis=1) - sorted_p < top_p
            keep = np.zeros_like(keep_sorted)
            np.put_along_axis(keep, order, keep_sorted, axis=1)
            probs = np.where(keep, probs, 0.0)
        return draw(probs, rng)


def draw(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of non-negative weights (B, K), with probability proportional to its
    weight (the rows need not sum to 1): inverse-CDF sampling, one uniform number per row."""
    cdf = np.cumsum(weights, axis=1)  # (B, K)
    u = rng.random((weights.shape[0], 1)) * cdf[:, -1:]
    # min: a u equal to the total (float rounding) would fall one past the last index
    return np.minimum((cdf < u).sum(axis=1), weights.shape[1] - 1)
