"""Plain progress lines for training: what a log file, CI, nohup, a notebook or the Python API
show (the CLI draws a live bar on a terminal instead, seqgen/cli/progress.py), and the one
line that says how long the run will take at this machine's speed.

``plain_progress`` prints a line at the first report, every ``every`` seconds and the last
one (step, loss, validation, tokens/s, elapsed, ETA); it imports no torch.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from seqgen.config import TIME_BOUND_STEPS
from seqgen.engine.status import clock

if TYPE_CHECKING:  # the engine's trainer imports torch: not needed to print a line
    from seqgen.engine.train import ProgressFn

ESTIMATE_STEPS, ESTIMATE_SECONDS = 20, 5.0  # measured over this many steps or seconds
#: said again once, if the pace after this many seconds is this far (either way) from the
#: first: a run's first steps can be slower or faster than the rest (a first validation, a
#: cache warming, the thread count settling: issue 28 saw "about 116 steps" run 538)
RECHECK_SECONDS, RECHECK_RATIO = 60.0, 1.5


def fmt(x: Any) -> str:
    return f"{x:.4f}" if isinstance(x, float) and math.isfinite(x) else "-"


class Pace:
    """This run's speed from its first steps, and the one line saying what it means."""

    def __init__(self, total: int, seconds: float | None) -> None:
        # a plan of TIME_BOUND_STEPS is no plan: the clock (seconds) or nothing ends the run
        self.total = total if 0 < total < TIME_BOUND_STEPS else 0
        self.seconds = seconds
        self.first: tuple[int, float] | None = None  # (step, time) of the first report
        self.said = False
        self.said_rate: float | None = None  # the pace the first estimate was made at
        self.rechecked = False

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
        if rate is None or self.first is None or not (self.total or self.seconds):
            return None
        if self.said:
            return self._recheck(step, now, elapsed, rate)
        if step - self.first[0] < ESTIMATE_STEPS and now - self.first[1] < ESTIMATE_SECONDS:
            return None
        self.said, self.said_rate = True, rate
        return self._say(step, elapsed, rate)

    def _recheck(self, step: int, now: float, elapsed: float, rate: float) -> str | None:
        """The estimate again, once, where the pace since has moved far from the first."""
        assert self.first is not None and self.said_rate
        if self.rechecked or now - self.first[1] < RECHECK_SECONDS:
            return None
        self.rechecked = True
        if 1 / RECHECK_RATIO < rate / self.said_rate < RECHECK_RATIO:
            return None
        return f"{self._say(step, elapsed, rate)}; its first steps ran at {self.said_rate:.2g}"

    def _say(self, step: int, elapsed: float, rate: float) -> str:
        assert self.first is not None
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
    threads = f"  threads {rec['threads']}" if rec.get("threads") else ""
    return (f"train: {count}  loss {fmt(rec.get('loss'))}  val {fmt(rec.get('val_loss'))}  "
            f"{rec.get('tokens_per_s', 0):,.0f} tok/s  elapsed {clock(elapsed)}  "
            f"ETA {'-' if eta is None else clock(eta)}{threads}")


def plain_progress(total: int, seconds: float | None = None, every: float = 10.0,
                   stream: TextIO | None = None) -> ProgressFn:
    """A progress callback that prints plain lines to ``stream`` (stderr at each print): at
    the first report, then every ``every`` seconds and at a change of threads, and the final
    one (the trainer's last call, after the closing validation). ``total``: the planned
    steps; ``seconds``: the --max-time that alone bounds the run (then the ETA is the
    clock's)."""
    pace = Pace(total, seconds)
    last: list[Any] = [None, None]  # the time of the last line, and what it showed

    def update(step: int, rec: dict[str, Any]) -> None:
        now = time.monotonic()
        out = stream or sys.stderr
        note = pace.estimate(step, now, float(rec.get("elapsed", 0.0)))
        if note is not None:
            print(f"seqgen: {note}", file=out, flush=True)
        shown = (step, rec.get("val_loss"))
        due = last[0] is None or now - last[0] >= every or bool(rec.get("threads")) or (
            rec.get("final") and shown != last[1])  # a thread change is always shown
        if due:
            eta = 0.0 if rec.get("final") else pace.eta(step, float(rec.get("elapsed", 0.0)),
                                                        pace.rate(step, now))
            print(_line(step, 0 if seconds else pace.total, rec, eta), file=out, flush=True)
            last[:] = [now, shown]
    return update
