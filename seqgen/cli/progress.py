"""Training progress: a live rich bar on a terminal, plain lines elsewhere (a log file, CI,
nohup, a notebook), and on both one line that says how long the run will take.

``plain_progress`` is the printer for a stream that is not a terminal: a line at the first
step, every ``every`` seconds and at the end (step, loss, validation, tokens/s, elapsed,
ETA), since a live bar there prints nothing until it stops. ``train_progress`` picks one.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from seqgen.progress import Pace, fmt, plain_progress

if TYPE_CHECKING:  # the engine's trainer imports torch: not needed to print a line
    from seqgen.engine.train import ProgressFn


@contextmanager
def train_progress(total: int, enabled: bool = True,
                   seconds: float | None = None) -> Iterator[ProgressFn]:
    """Yield a callback (step, record) that shows training's progress on stderr: the live bar
    on a terminal, plain lines (``plain_progress``) anywhere else; nothing when disabled.

    The bar counts steps up to ``total``, or with ``seconds`` (a run bounded by --max-time
    alone) the seconds of training. It appears with the first step, so an error before
    training prints only its line.
    """
    if not enabled:
        yield lambda step, rec: None
    elif not sys.stderr.isatty():
        yield plain_progress(total, seconds)
    else:
        with _live_bar(total, seconds) as update:
            yield update


@contextmanager
def _live_bar(total: int, seconds: float | None) -> Iterator[ProgressFn]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]train[/]"), BarColumn(), TextColumn("{task.fields[count]}"),
        TextColumn("loss {task.fields[loss]}"), TextColumn("val {task.fields[val]}"),
        TextColumn("{task.fields[tps]} tok/s"), TimeElapsedColumn(), TextColumn("ETA"),
        TimeRemainingColumn(), console=Console(stderr=True))
    task = progress.add_task("train", total=seconds or total, loss="-", val="-", tps="-",
                             count="")
    pace, started = Pace(total, seconds), [False]

    def update(step: int, rec: dict[str, Any]) -> None:
        if not started[0]:
            progress.start()
            started[0] = True
        note = pace.estimate(step, time.monotonic(), float(rec.get("elapsed", 0.0)))
        if note is not None:
            progress.console.print(f"seqgen: {note}", highlight=False, markup=False)
        if rec.get("threads"):
            progress.console.print(f"seqgen: torch threads {rec['threads']}", highlight=False,
                                   markup=False)
        done = min(float(rec.get("elapsed", 0.0)), seconds) if seconds else step
        progress.update(task, completed=done, loss=fmt(rec.get("loss", math.nan)),
                        val=fmt(rec.get("val_loss", math.nan)),
                        tps=f"{rec.get('tokens_per_s', 0):,.0f}",
                        count=f"step {step}" if seconds else f"{step}/{total}")

    try:
        yield update
    finally:
        if started[0]:
            progress.stop()
