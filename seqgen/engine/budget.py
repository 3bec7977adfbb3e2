"""How a run spends its time: when to validate, on how many batches, and when to stop so that
the closing validation and the final save fit inside ``--max-time``.

Validation runs every ``eval_every`` steps and, unless that was given explicitly, at least
every tenth of the run (of its steps, or of ``--max-time``'s clock), so that a run of two
minutes shows a validation figure too. One validation takes about 1 % of the run at most:
its batch count (at most ``eval_batches``) is fixed at the first validation, from the step
count (a validation batch costs about a third of a training step: forward only) or, on the
clock, from the measured step time. Under ``--max-time`` the loop stops when the next step,
the closing validation and the save would not fit in what is left; each is timed as it
happens, so the estimates follow this machine.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from seqgen.config import TIME_BOUND_STEPS, TrainConfig

EVALS_PER_RUN = 10  # validate at least this often over a run
EVAL_SHARE = 0.01  # the most of a run that one validation takes
FORWARD_SHARE = 1 / 3  # a validation batch's cost in training steps (forward only)
BATCH_PER_STEP = 0.5  # the same, erring long, for the clock until a validation is timed
FIRST_SAVE_S = 3.0  # a save's seconds until one is timed (the first plot imports matplotlib)
RESERVE_SHARE = 0.2  # the most of --max-time kept back for guesses not yet measured


@dataclass
class Budget:
    cfg: TrainConfig
    paced: bool = True  # False: eval_every was given, and is the only rule
    step_s: float = 0.0  # the mean seconds of a training step, as measured
    batch_s: float | None = None  # seconds of one validation batch, once timed
    save_s: float | None = None  # seconds of a save, once timed
    batches: int | None = None  # a validation's batch count, fixed at the first
    last_eval: float = 0.0  # perf_counter of the last validation (or of the start)
    steps_timed: int = 0

    @property
    def timed_run(self) -> bool:
        """Whether --max-time alone bounds the run."""
        return self.cfg.max_time is not None and self.cfg.max_steps >= TIME_BOUND_STEPS

    @property
    def limit(self) -> float | None:
        """The seconds this invocation may take: the plan's --max-time, or a resumed run's
        own --max-time (time_limit), whichever is shorter."""
        given = [t for t in (self.cfg.max_time, self.cfg.time_limit) if t is not None]
        return min(given) if given else None

    def step_took(self, seconds: float) -> None:
        """A training step's time: the running mean (the first step, slower, counts once)."""
        self.steps_timed += 1
        self.step_s += (seconds - self.step_s) / min(self.steps_timed, 20)

    def eval_due(self, step: int, now: float) -> bool:
        cfg = self.cfg
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            return True
        if not self.paced:
            return False
        if not self.timed_run and step % max(1, cfg.max_steps // EVALS_PER_RUN) == 0:
            return True
        return cfg.max_time is not None and now - self.last_eval >= \
            cfg.max_time / EVALS_PER_RUN  # the plan's pace, not a resumed run's limit

    def eval_batches(self, fix: bool = False) -> int:
        """A validation's batch count: about EVAL_SHARE of the run, the same all run long
        once ``fix``ed (by the first validation: on the clock, the steps are timed by then)."""
        if self.batches is not None:
            return self.batches
        cfg = self.cfg
        if self.timed_run:
            per = self.batch_s or BATCH_PER_STEP * self.step_s
            n = EVAL_SHARE * float(cfg.max_time or 0.0) / per if per > 0 else math.inf
        else:
            n = EVAL_SHARE * cfg.max_steps / FORWARD_SHARE
        batches = int(max(1, min(cfg.eval_batches, n + 1e-9)))  # 11.999... is 12
        if fix:
            self.batches = batches
        return batches

    def eval_s(self, batches: int | None = None) -> float:
        per = self.batch_s if self.batch_s is not None else BATCH_PER_STEP * self.step_s
        return per * (self.eval_batches() if batches is None else batches)

    def save_estimate(self) -> float:
        return FIRST_SAVE_S if self.save_s is None else self.save_s

    def reserve(self) -> float:
        """Seconds kept back for the closing validation and the save: what was measured in
        full, what is still a guess at most RESERVE_SHARE of --max-time (or a short run
        would spend itself waiting for a save slower than it will be)."""
        measured = guessed = 0.0
        if self.batch_s is None:
            guessed += self.eval_s()
        else:
            measured += self.eval_s()
        if self.save_s is None:
            guessed += FIRST_SAVE_S
        else:
            measured += self.save_s
        if self.limit is not None:
            guessed = min(guessed, RESERVE_SHARE * self.limit)
        return measured + guessed

    def left(self, spent: float) -> float:
        """Seconds left for steps after this one, the closing validation and the save (inf
        without --max-time)."""
        limit = self.limit
        if limit is None:
            return math.inf
        return limit - spent - self.step_s - self.reserve()

    def closing_batches(self, spent: float) -> int:
        """The closing validation's batch count: the run's own, or what still fits."""
        n, limit = self.eval_batches(), self.limit
        if limit is None or not self.batch_s:
            return n
        room = limit - spent - self.save_estimate()
        return int(max(1, min(n, (room + 1e-9) // self.batch_s)))

    @contextmanager
    def timing_eval(self, batches: int) -> Iterator[None]:
        t = time.perf_counter()
        yield
        self.last_eval = time.perf_counter()
        self.batch_s = (self.last_eval - t) / max(batches, 1)

    @contextmanager
    def timing_save(self) -> Iterator[None]:
        t = time.perf_counter()
        yield
        self.save_s = time.perf_counter() - t


class Stoppable(Protocol):
    """What a graceful stop asks to stop (the Trainer)."""

    stop_requested: bool


@contextmanager
def graceful_stop(target: Stoppable) -> Iterator[None]:
    """Ctrl-C or SIGTERM: finish the current step, save, exit; a second Ctrl-C stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if target.stop_requested:
            raise KeyboardInterrupt
        target.stop_requested = True

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
