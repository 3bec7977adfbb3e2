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
from typing import TYPE_CHECKING, Any, TextIO

from seqgen.config import TIME_BOUND_STEPS
from seqgen.engine.status import clock

if TYPE_CHECKING:  # the engine's trainer imports torch: not needed to print a line
    from seqgen.engine.train import ProgressFn

ESTIMATE_STEPS, ESTIMATE_SECONDS = 20, 5.0  # measured over this many steps or seconds


def _fmt(x: Any) -> str:
    return f"{x:.4f}" if isinstance(x, float) and math.isfinite(x) else "-"


class Pace:
    """This run's speed from its first steps, and the one line saying what it means."""

    def __init__(self, total: int, seconds: float | None) -> None:
        # a plan of TIME_BOUND_STEPS is no plan: the clock (seconds) or nothing ends the run
        self.total = total if 0 < total < TIME_BOUND_STEPS else 0
        self.seconds = seconds
        self.first: tuple[int, float] | None = None  # (step, time) of the first report
        self.said = False

    def rate(self, step: int, now: float) -> float | None:
        """Steps per second since the first report (None before two reports)."""
        if self.first is None:
            self.first = (step, now)
            return None
        steps, dt = step - self.first[0], now - self.first[1]
        return steps / dt if steps > 0 and dt > 0 else None

    def eta(self, step: int, elapsed: float, rate: float | None) -> float | None:
        if self.seconds:  # --max-time alone: the clock ends the run
            return max(self.seconds - elapsed, 0.0)
        return (self.total - step) / rate if rate and self.total else None

    def estimate(self, step: int, now: float, elapsed: float) -> str | None:
        """The run's length at this machine's speed, once, after its first steps."""
        rate = self.rate(step, now)
        if self.said or rate is None or self.first is None or not (self.total or self.seconds):
            return None
        if step - self.first[0] < ESTIMATE_STEPS and now - self.first[1] < ESTIMATE_SECONDS:
            return None
        self.said = True
        if self.seconds:
            steps = int(step + rate * max(self.seconds - elapsed, 0.0))
            return (f"--max-time {clock(self.seconds)}: about {steps:,} steps at this "
                    f"machine's speed ({rate:.2g} steps/s)")
        left = max(self.total - step, 0)
        to_go = f" ({left:,} to go)" if self.first[0] > self.total // 10 else ""
        return (f"{self.total:,} steps{to_go}, about {clock(left / rate)} at this machine's "
                f"speed ({rate:.2g} steps/s); --max-time bounds it")


def _line(step: int, total: int, rec: dict[str, Any], eta: float | None) -> str:
    count = f"step {step:,}/{total:,}" if total else f"step {step:,}"
    elapsed = float(rec.get("elapsed", 0.0))
    return (f"train: {count}  loss {_fmt(rec.get('loss'))}  val {_fmt(rec.get('val_loss'))}  "
            f"{rec.get('tokens_per_s', 0):,.0f} tok/s  elapsed {clock(elapsed)}  "
            f"ETA {'-' if eta is None else clock(eta)}")


def plain_progress(total: int, seconds: float | None = None, every: float = 10.0,
                   stream: TextIO | None = None) -> ProgressFn:
    """A progress callback that prints plain lines to ``stream`` (stderr at each print): at
    the first report, then every ``every`` seconds, and the final one (the trainer's last
    call, after the closing validation). ``total``: the planned steps; ``seconds``: the
    --max-time that alone bounds the run (then the ETA is the clock's)."""
    pace = Pace(total, seconds)
    last: list[Any] = [None, None]  # the time of the last line, and what it showed

    def update(step: int, rec: dict[str, Any]) -> None:
        now = time.monotonic()
        out = stream or sys.stderr
        note = pace.estimate(step, now, float(rec.get("elapsed", 0.0)))
        if note is not None:
            print(f"seqgen: {note}", file=out, flush=True)
        shown = (step, rec.get("val_loss"))
        due = last[0] is None or now - last[0] >= every or (rec.get("final") and
                                                             shown != last[1])
        if due:
            eta = 0.0 if rec.get("final") else pace.eta(step, float(rec.get("elapsed", 0.0)),
                                                        pace.rate(step, now))
            print(_line(step, 0 if seconds else pace.total, rec, eta), file=out, flush=True)
            last[:] = [now, shown]
    return update


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
        done = min(float(rec.get("elapsed", 0.0)), seconds) if seconds else step
        progress.update(task, completed=done, loss=_fmt(rec.get("loss", math.nan)),
                        val=_fmt(rec.get("val_loss", math.nan)),
                        tps=f"{rec.get('tokens_per_s', 0):,.0f}",
                        count=f"step {step}" if seconds else f"{step}/{total}")

    try:
        yield update
    finally:
        if started[0]:
            progress.stop()
