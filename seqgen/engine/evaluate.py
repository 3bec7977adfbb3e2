"""Batches to tensors, and the held-out loss (nats per step, state carried)."""

from __future__ import annotations

import numpy as np
import torch

from seqgen.engine.batching import Sequences, Streams
from seqgen.engine.model import SeqNet
from seqgen.engine.status import counted
from seqgen.engine.window import WindowNet

Batches = Streams | Sequences
Net = SeqNet | WindowNet
State = tuple[torch.Tensor, ...]


def to_tensors(batch: tuple[np.ndarray, ...], device: str, tokens: bool) -> list[torch.Tensor]:
    """(x, y, mask[, cond]) as tensors on the device (pinned, non-blocking copies on CUDA)."""
    x, y, m = batch[:3]
    conv = (lambda a: torch.from_numpy(a.astype(np.int64))) if tokens else \
        (lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))
    pin = device.startswith("cuda")
    out = [conv(x), conv(y), torch.from_numpy(np.ascontiguousarray(m))]
    if len(batch) > 3:
        out.append(torch.from_numpy(batch[3].astype(np.int64)))
    return [t.pin_memory().to(device, non_blocking=True) if pin else t for t in out]


@torch.no_grad()
def evaluate(model: Net, batches: Batches | None, device: str, max_batches: int,
             what: str | None = None) -> tuple[float, dict[str, float]]:
    """Mean NLL (nats per step) over up to max_batches of held-out data, state carried;
    ``what``: a status line names the evaluation while it runs (``what: 12/40 batches``).

    Heads with a ``mean`` (the mixture density heads) also get ``sse``: the mean sum-squared
    error of the predicted mean against the target.
    """
    if batches is None:
        return float("nan"), {}
    was_training = model.training
    model.eval()
    total, count, sse = 0.0, 0.0, 0.0
    state: State | None = None
    sequences = isinstance(batches, Sequences)
    chunks = range(min(max_batches, batches.n_chunks))
    for k in chunks if what is None else counted(chunks, what, unit="batches"):
        x, y, m, *cond = to_tensors(batches.batch(k), device, model.tokens)
        params, state = model(x, None if sequences else state, None if sequences else m,
                              cond[0] if cond else None)
        s, n = model.head.loss(params, y, m if sequences else None)
        total += float(s)
        count += float(n)
        mean = getattr(model.head, "mean", None)
        if mean is not None:
            pred = mean(params)  # (B, T, k)
            err = ((pred - y[..., :pred.shape[-1]]) ** 2).sum(-1)  # (B, T)
            sse += float((err * m).sum()) if sequences else float(err.sum())
    model.train(was_training)
    extra = {"sse": sse / max(count, 1.0)} if getattr(model.head, "mean", None) else {}
    return total / max(count, 1.0), extra
