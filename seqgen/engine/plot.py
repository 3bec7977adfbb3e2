"""Loss curves as PNG (matplotlib, imported lazily with the Agg backend)."""

from __future__ import annotations

import json
from pathlib import Path

from seqgen.fileio import atomic_path


def plot_metrics(metrics: Path, out: Path, title: str = "") -> bool:
    """Plot train and validation loss against step; False when there is nothing to plot."""
    if not metrics.exists():
        return False
    rows = [json.loads(ln) for ln in metrics.read_text().splitlines() if ln.strip()]
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") == r.get("val_loss")
           and "val_loss" in r]
    if not train:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(*zip(*train, strict=True), label="train", lw=1)
    if val:
        ax.plot(*zip(*val, strict=True), "o-", label="validation", lw=1.5, ms=3)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per step)")
    ax.set_title(title or metrics.parent.name)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return True
