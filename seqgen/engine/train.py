"""The training loop: truncated BPTT with carried state, schedules, evaluation, checkpoints."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from seqgen.config import TrainConfig
from seqgen.engine import checkpoint as ckpt
from seqgen.engine.batching import Sequences
from seqgen.engine.budget import Budget, graceful_stop
from seqgen.engine.distributed import World, gather_rows, shard, take_rows, weight_spread
from seqgen.engine.evaluate import Batches, Net, State, evaluate, to_tensors
from seqgen.engine.optim import build_optimizer, lr_at
from seqgen.engine.phases import mark
from seqgen.engine.threads import Governor
from seqgen.errors import SeqgenError
from seqgen.fileio import dumps, write_error

#: the engine's warnings (the plugin layer prints them as one 'seqgen: warning:' line each)
log = logging.getLogger("seqgen.engine")
MAX_FAULTS = 3  # non-finite losses in a row before rolling back to the last checkpoint


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    train_loss: float
    val_loss: float | None  # None: the corpus was too small to hold out a validation split
    elapsed: float
    interrupted: bool = False
    metrics: list[dict[str, Any]] = field(default_factory=list)


ProgressFn = Callable[[int, dict[str, Any]], None]


@dataclass
class _Window:
    """The training loss and tokens accumulated since the last metrics line."""

    since: float  # perf_counter at the window's start
    loss: float = 0.0
    n: int = 0
    tokens: int = 0
    last: float = float("nan")  # the mean loss of the last window reported
    tps: float = 0.0  # the tokens/s of the last window reported


class Trainer:
    """Owns the network, optimizer and data for one run directory."""

    def __init__(self, run_dir: Path, net: Net, train: Batches, val: Batches | None,
                 cfg: TrainConfig, config: dict[str, Any], device: str,
                 world: World | None = None, paced: bool = True) -> None:
        self.run_dir, self.net, self.train_b, self.val_b = run_dir, net, train, val
        self.world = world or World()
        # forward through DDP when several processes train together (engine/distributed.py)
        self.wrapped: torch.nn.Module = net if self.world.size == 1 else \
            torch.nn.parallel.DistributedDataParallel(net)
        self.cfg, self.config, self.device = cfg, config, device
        self.opt = build_optimizer(net, cfg)
        self.step, self.elapsed = 0, 0.0
        self.state: State | None = None
        self.last_val: float | None = None  # stays None with no validation split
        self.val_step: int | None = None  # the step of last_val
        self.best = ckpt.BestWeights()  # what model.safetensors, the sampling view, holds
        # when to validate and stop (paced=False: eval_every was given, the only rule)
        self.budget = Budget(cfg, paced)
        self.amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") \
            else nullcontext()
        self.faults, self.lr_scale = 0, 1.0  # consecutive non-finite losses; LR after rollbacks
        self.stop_requested = False
        #: "N (why)": the torch threads chosen (engine/threads.py), for the first progress line
        self.threads_note: str | None = None
        #: moves the threads when other jobs arrive or leave (None: a count the user chose)
        self.governor: Governor | None = None

    def resume(self) -> None:
        """Continue from the newest checkpoint: same step, same data position, same RNG."""
        found = ckpt.latest_checkpoint(self.run_dir)
        if found is None:
            raise SeqgenError(f"{self.run_dir} has no checkpoint to resume from")
        info, carried = ckpt.load_checkpoint(found, self.net, self.opt, self.device)
        if carried is not None and carried[0].shape[1] != self.cfg.batch_size:
            log.warning(f"{found.name}: its carried hidden state has {carried[0].shape[1]} rows, "
                        f"not {self.cfg.batch_size} (an older seqgen's multi-process run); "
                        f"starting the streams from a zero state")
            carried = None
        self.state = take_rows(carried, self.world)  # the whole batch's state, this rank's rows
        self.step, self.elapsed = info["step"], info.get("elapsed", 0.0)
        self.last_val = info.get("val_loss")
        self.best = ckpt.BestWeights(info)
        self.lr_scale = info.get("lr_scale", 1.0)
        if self.world.main:
            self._truncate_metrics(self.step)

    def _roll_back(self) -> None:
        """After MAX_FAULTS non-finite losses in a row: last good checkpoint, half the LR."""
        found = ckpt.latest_checkpoint(self.run_dir)
        if found is None:
            raise SeqgenError(f"the loss was not finite for {MAX_FAULTS} steps in a row before "
                              f"any checkpoint: lower --lr (now {self.cfg.lr})")
        bad_step, scale = self.step, self.lr_scale * 0.5
        self.resume()
        self.lr_scale, self.faults = scale, 0
        log.warning(f"step {bad_step}: non-finite loss {MAX_FAULTS} times in a row; rolled back "
                    f"to step {self.step} with the learning rate x{scale:g}")
        self._log({"step": self.step, "event": "rollback", "from_step": bad_step,
                   "lr_scale": scale})

    def _truncate_metrics(self, step: int) -> None:
        path = self.run_dir / "metrics.jsonl"
        if path.exists():
            keep = [ln for ln in path.read_text().splitlines()
                    if ln.strip() and json.loads(ln).get("step", 0) <= step]
            path.write_text("".join(ln + "\n" for ln in keep))

    def _log(self, record: dict[str, Any]) -> None:
        if not self.world.main:
            return
        with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(dumps(record) + "\n")

    def save(self, plot: bool = False) -> None:
        """A checkpoint and the sampling view; with ``plot``, loss.png too (once, at the end:
        a save in the loop should not redraw it)."""
        carried = gather_rows(self.state, self.world, self.cfg.batch_size)  # every rank joins
        if not self.world.main:  # only rank 0 writes
            return
        info = {"elapsed": self.elapsed, "val_loss": self.last_val, "lr_scale": self.lr_scale,
                **self.best.record()}
        try:
            ckpt.save_checkpoint(self.run_dir, self.step, self.net, self.opt, carried, info)
            self.config.update(step=self.step, val_loss=self.last_val)
            self.best.write(self.run_dir, self.net, self.config)
        except OSError as exc:
            raise SeqgenError(write_error(self.run_dir, exc)) from None
        if not plot:
            return
        mark("checkpoint")
        from seqgen.engine.plot import plot_metrics

        plot_metrics(self.run_dir / "metrics.jsonl", self.run_dir / "loss.png",
                     f"{self.config['domain']['name']}: {self.run_dir.name}")
        mark("plot")

    def run(self, on_progress: ProgressFn | None = None) -> TrainResult:
        with graceful_stop(self):
            return self._run(on_progress)

    def _run(self, on_progress: ProgressFn | None = None) -> TrainResult:
        cfg, budget = self.cfg, self.budget
        self.net.train()
        t0 = time.perf_counter()
        start_elapsed, interrupted, acc = self.elapsed, False, _Window(t0)
        budget.last_eval, first = t0, self.step + 1  # the first step is reported: a slow
        # step or a long log_every must not leave the run silent for its first minute
        try:
            while self.step < cfg.max_steps:
                frac, left, save_ok, stop = self._clock(t0)
                if left <= 0:  # the next step would leave no room to validate and save
                    break
                if stop:
                    raise KeyboardInterrupt
                began = time.perf_counter()
                loss_value, ntok = self._train_step(frac)
                budget.step_took(time.perf_counter() - began)
                self.step += 1
                self._retune()
                if self.step in (first, cfg.max_steps):  # for bench_process.py
                    mark("first_step" if self.step == first else "last_step")
                acc.tokens += ntok * self.world.size  # tokens of every rank
                self.elapsed = start_elapsed + time.perf_counter() - t0
                if math.isfinite(loss_value):
                    acc.loss, acc.n, self.faults = acc.loss + loss_value, acc.n + 1, 0
                else:
                    self.faults += 1
                    if self.faults >= MAX_FAULTS:
                        self._roll_back()
                        continue
                validate = budget.eval_due(self.step, time.perf_counter()) and \
                    left > budget.eval_s()  # near the end, the closing one will do
                if validate or self.step % cfg.log_every == 0 or self.step in (first,
                                                                              cfg.max_steps):
                    self._report(acc, on_progress, validate)
                if self.step % cfg.save_every == 0 and save_ok:
                    self._save_timed()
        except KeyboardInterrupt:
            interrupted = True
        mark("loop_end")
        self._finish(t0, start_elapsed)
        result = TrainResult(self.run_dir, self.step, acc.last, self.last_val, self.elapsed,
                             interrupted)
        if on_progress is not None and self.world.main and not interrupted:
            # the final figures (after the closing validation), for the printer's last line
            on_progress(self.step, {"step": self.step, "loss": acc.last, "final": True,
                                    "val_loss": self.last_val, "elapsed": self.elapsed,
                                    "tokens_per_s": acc.tps})
        return result

    def _retune(self) -> None:
        """Threads moved when other jobs came or went (engine/threads.py): logged, and said on
        the next progress line."""
        moved = self.governor.tick() if self.governor is not None else None
        if moved:
            self.threads_note = moved
            self._log({"step": self.step, "event": "threads", "threads": moved})

    def _validate(self, batches: int | None = None) -> None:
        """The validation loss on ``batches`` (None: the run's count, fixed by the first)."""
        budget = self.budget
        if batches is None:
            probe = budget.batch_s is None and budget.limit is not None
            if probe:  # on the clock, a slow validation must not overrun --max-time
                self._evaluate(1)  # before one batch of it has been timed
            batches = budget.eval_batches(fix=True)
            if probe and batches == 1:
                return  # that batch was the validation
        self._evaluate(batches)

    def _evaluate(self, batches: int) -> None:
        assert self.val_b is not None
        with self.budget.timing_eval(min(batches, self.val_b.n_chunks)):
            self.last_val = evaluate(self.net, self.val_b, self.device, batches)[0]
        self.val_step = self.step
        self.best.offer(self.step, self.last_val, self.net)

    def _save_timed(self) -> None:
        with self.budget.timing_save():
            self.save()

    def _report(self, acc: _Window, on_progress: ProgressFn | None, validate: bool) -> None:
        """One metrics line (and a validation, when one is due) from the steps since the last."""
        now = time.perf_counter()
        acc.last = acc.loss / max(acc.n, 1)
        acc.tps = acc.tokens / max(now - acc.since, 1e-9)
        rec: dict[str, Any] = {"step": self.step, "loss": acc.last,
                               "lr": self.opt.param_groups[0]["lr"], "tokens_per_s": acc.tps,
                               "elapsed": round(self.elapsed, 3)}
        acc.loss, acc.n, acc.tokens, acc.since = 0.0, 0, 0, now
        if self.threads_note:  # the first line says how many threads, and why
            rec["threads"], self.threads_note = self.threads_note, None
        if self.world.main and self.val_b is not None and validate:
            self._validate()
            rec["val_loss"] = self.last_val
        self._log(rec)
        if on_progress is not None and self.world.main:
            on_progress(self.step, {**rec, "val_loss": self.last_val})

    def _finish(self, t0: float, start_elapsed: float) -> None:
        """The closing validation (unless this step had one), in what --max-time leaves of
        the run, and the final save."""
        if self.world.size > 1:
            self._log({"step": self.step, "event": "ddp", "world_size": self.world.size,
                       "weight_spread": weight_spread(self.net, self.world)})
        if self.world.main and self.val_b is not None and (
                self.val_step != self.step or self.last_val is None
                or not math.isfinite(self.last_val)):
            self._validate(self.budget.closing_batches(time.perf_counter() - t0))
            self.elapsed = start_elapsed + time.perf_counter() - t0
            self._log({"step": self.step, "val_loss": self.last_val,
                       "elapsed": round(self.elapsed, 3)})
            mark("closing_eval")
        self.save(plot=True)

    def _clock(self, t0: float) -> tuple[float, float, bool, bool]:
        """Fraction of --max-time used; the seconds left after this step, the closing
        validation and the save (not above 0: stop now); whether a checkpoint fits in them
        too; stop requested. The same on every rank (a save is a collective step)."""
        spent = time.perf_counter() - t0
        max_time, budget = self.cfg.max_time, self.budget
        left = min(budget.left(spent), 1e18)
        # the schedule anneals over the time the loop has: the reserve is kept aside
        span = None if max_time is None else max(max_time - budget.reserve(), 1e-9)
        flags = [0.0 if span is None else spent / span, -left,
                 budget.save_estimate() - left, float(self.stop_requested)]
        if self.world.size > 1:  # the largest of each: the rank with the least time left
            t = torch.tensor(flags, device=self.device)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            flags = t.tolist()
        return flags[0], -flags[1], flags[2] < 0, flags[3] > 0

    def _train_step(self, time_fraction: float = 0.0) -> tuple[float, int]:
        cfg, model = self.cfg, self.net
        for group in self.opt.param_groups:
            group["lr"] = lr_at(self.step, cfg, time_fraction) * self.lr_scale
        batch = shard(self.train_b.batch(self.step), self.world)
        x, y, m, *cond = to_tensors(batch, self.device, model.tokens)
        sequences = isinstance(self.train_b, Sequences)
        if sequences or self.train_b.new_epoch(self.step):
            self.state = None
        with self.amp:
            params, state = self.wrapped(x, self.state, None if sequences else m,
                                     cond[0] if cond else None)
        total, n = model.head.loss(params, y, m if sequences else None)
        loss = total / n
        value = float(loss.detach())
        if self.world.size > 1:  # every rank sees the same loss, so all take the same decisions
            t = torch.tensor([value], device=self.device)
            torch.distributed.all_reduce(t)
            value = float(t) / self.world.size
        self.opt.zero_grad(set_to_none=True)
        if math.isfinite(value):  # a non-finite loss skips the update (issue 8 extends this)
            loss.backward()
            if cfg.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            self.opt.step()
        self.state = None if sequences else tuple(s.detach() for s in state)
        return value, int(n)
