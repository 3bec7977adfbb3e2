"""The device, the learning-rate schedule and the optimiser of a run."""

from __future__ import annotations

import math

import torch

from seqgen.config import TrainConfig
from seqgen.engine.adam import Adam, Optimizer
from seqgen.errors import SeqgenError


def resolve_device(name: str) -> str:
    """'auto' picks cuda, then mps, then cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SeqgenError(f"--device {name}: CUDA is not available on this machine")
    if name not in ("cpu", "mps") and not name.startswith("cuda"):
        raise SeqgenError(f"unknown device {name!r}: use auto, cpu, cuda or mps")
    return name


def lr_at(step: int, cfg: TrainConfig, time_fraction: float = 0.0) -> float:
    """Linear warmup, then cosine decay to min_lr_ratio * lr (or constant).

    The decay ends at max_steps, or when max_time is set and ``time_fraction`` of it has passed
    earlier, so that ``--max-time 10m`` ends on an annealed model whatever the machine's speed.
    """
    if cfg.warmup and step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.schedule == "constant":
        return cfg.lr
    span = max(1, cfg.max_steps - cfg.warmup)
    progress = min(1.0, max((step - cfg.warmup) / span, time_fraction))
    ratio = cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return cfg.lr * ratio


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> Optimizer:
    """The run's optimiser; Adam and AdamW on the CPU are engine/adam.py's (no torch._dynamo)."""
    params = list(model.parameters())
    on_cpu = all(p.device.type == "cpu" for p in params)
    if cfg.optimizer in ("adam", "adamw") and on_cpu:
        return Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay,
                    decoupled=cfg.optimizer == "adamw")
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":  # Graves 2013 section 4.2: RMSprop with momentum
        return torch.optim.RMSprop(params, lr=cfg.lr, alpha=0.95, eps=1e-4, momentum=0.9,
                                   weight_decay=cfg.weight_decay)
    raise SeqgenError(f"unknown optimizer {cfg.optimizer!r}: use adam, adamw or rmsprop")
