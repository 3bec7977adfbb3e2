"""A rich progress bar for training: step, loss, validation loss, tokens/s, ETA."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def _fmt(x: float) -> str:
    return f"{x:.4f}" if isinstance(x, float) and math.isfinite(x) else "-"


@contextmanager
def train_progress(total: int, enabled: bool = True,
                   seconds: float | None = None) -> Iterator[Any]:
    """Yield a callback (step, record) that advances the bar.

    The bar counts steps up to ``total``, or with ``seconds`` (a run bounded by --max-time
    alone) the seconds of training. It appears with the first step, so an error before
    training prints only its line.
    """
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]train[/]"), BarColumn(), TextColumn("{task.fields[count]}"),
        TextColumn("loss {task.fields[loss]}"), TextColumn("val {task.fields[val]}"),
        TextColumn("{task.fields[tps]} tok/s"), TimeElapsedColumn(), TextColumn("ETA"),
        TimeRemainingColumn(), console=console, disable=not enabled)
    task = progress.add_task("train", total=seconds or total, loss="-", val="-", tps="-",
                             count="")
    started = False

    def update(step: int, rec: dict[str, Any]) -> None:
        nonlocal started
        if not started:
            progress.start()
            started = True
        done = min(float(rec.get("elapsed", 0.0)), seconds) if seconds else step
        progress.update(task, completed=done, loss=_fmt(rec.get("loss", math.nan)),
                        val=_fmt(rec.get("val_loss", math.nan)),
                        tps=f"{rec.get('tokens_per_s', 0):,.0f}",
                        count=f"step {step}" if seconds else f"{step}/{total}")

    try:
        yield update
    finally:
        if started:
            progress.stop()
