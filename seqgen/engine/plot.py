"""Loss curves as PNG, and ``pyplot()``: matplotlib with the Agg backend, for every plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.fileio import atomic_path


def preload() -> None:
    """Import matplotlib now (a thread does it while training's closing validation runs; the
    import lock makes the plot's own import wait for it rather than do it twice)."""
    pyplot()


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only: no display is needed or opened),
    imported on first use because matplotlib takes a second to import."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _number(value: object) -> bool:
    return isinstance(value, int | float) and bool(np.isfinite(value))


def plot_metrics(metrics: Path, out: Path, title: str = "") -> bool:
    """Plot train and validation loss against step; False when there is nothing to plot."""
    if not metrics.exists():
        return False
    rows = [json.loads(ln) for ln in metrics.read_text().splitlines() if ln.strip()]
    # null (strict JSON for a non-finite or absent value) and an older run's NaN are left out
    train = [(r["step"], r["loss"]) for r in rows if _number(r.get("loss"))]
    val = [(r["step"], r["val_loss"]) for r in rows if _number(r.get("val_loss"))]
    if not train:
        return False
    plt = pyplot()
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


def plot_attention(phi: np.ndarray, text: str, out: Path) -> Path:
    """Heat map of the soft window: which character (rows) the model reads at each step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(min(14, 3 + phi.shape[0] / 60), 1.5 + 0.18 * len(text)),
                           dpi=100)
    ax.imshow(phi.T, aspect="auto", origin="upper", cmap="magma", interpolation="nearest")
    ax.set_yticks(range(len(text)))
    ax.set_yticklabels([c if c != " " else "␣" for c in text], fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel("character")
    ax.set_title("attention window phi(t, u)")
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return out
