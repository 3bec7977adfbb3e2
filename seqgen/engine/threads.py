"""How many CPU threads torch uses: chosen from the work of one step and what the CPUs are
doing now, re-checked while a run trains.

On a 2-core machine another job shares, a tiny model trained at 153 tokens/s on torch's two
threads and at 25,037 on one (same loss): OpenMP pools that spin waiting for each other cost
more than the work they split. A large model gains from every core. The crossover, measured by
benchmarks/bench_threads.py, is in multiply-adds per training step; sampling and evaluation
follow the same rule (``--threads N`` and OMP_NUM_THREADS override it everywhere).

What other jobs use is measured, not guessed from the one-minute load average: that average
still counts a job that ended a minute ago (a 2-core test run just before ``seqgen train`` gave
it one thread, 16,990 against 26,472 tokens/s, issue 24). ``Reading`` takes the busy time of
this process's CPUs from /proc/stat and this process's own CPU time; between two readings, the
busy time that is not ours is other jobs' work, in cores. The first reading is taken when this
module is imported (before torch's import), so the choice at the first step sees the seconds
of start-up and costs no wait. ``Governor`` re-reads it every few seconds of training and moves
the thread count when other jobs arrive or leave.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from seqgen.config import ModelConfig

#: below this many multiply-adds per step, one thread: a second gains at most 1.45x there on a
#: quiet machine (bench_threads.py: 1.04x at 6 M, 1.45x at 100 M, 1.25x at 1.4 G, 1.41x at
#: 10 G) and loses a hundredfold when another job holds a core
CROSSOVER_MACS = 1.0e9
#: a reading over less than this is too short to tell a busy core from a scheduling blip
MIN_WINDOW_S = 0.25
#: the other jobs' use, in cores, from which a core counts as taken: a full job shows 0.6 to
#: 1.0 (it shares the CPU with our threads), a browser tab or a shell 0.0 to 0.2
TAKEN = 0.5
#: how often a training run re-reads the CPUs (seconds)
RECHECK_S = 10.0
#: a first reading older than this (a notebook, a server) is stale: the choice reads afresh
MAX_WINDOW_S = 30.0


def step_macs(cfg: ModelConfig, batch: int, seq_len: int) -> float:
    """Multiply-adds of one training step of an LSTM stack: 4H (in + H) per layer and token,
    three times over (the forward, and the backward's two products)."""
    per_token = 0.0
    for i in range(cfg.layers):
        into = cfg.embed + (cfg.hidden if i and cfg.skip else 0) if i == 0 or cfg.skip \
            else cfg.hidden
        per_token += 4 * cfg.hidden * (into + cfg.hidden)
    return 3.0 * per_token * batch * seq_len


def cpu_set() -> list[int]:
    """The CPUs this process may run on (a container's share, not the host's count)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return list(range(os.cpu_count() or 1))


def cores() -> int:
    """The cores this process may use: its CPU set, capped by a cgroup v2 quota (a container
    started with ``--cpus 2`` on a large host sees every CPU but may use two)."""
    return max(1, min(len(cpu_set()), quota_cores() or 1 << 30))


def quota_cores(path: str = "/sys/fs/cgroup/cpu.max") -> int | None:
    """The cgroup v2 CPU quota in whole cores, rounded up ("200000 100000": 2); None: none."""
    try:
        with open(path, encoding="ascii") as f:
            quota, period = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max" or not quota.isdigit() or not period.isdigit() or int(period) <= 0:
        return None
    return max(1, -(-int(quota) // int(period)))


def _proc_stat(path: str = "/proc/stat") -> dict[int, int] | None:
    """Busy jiffies per CPU (user, nice, system, irq, softirq, steal: not idle or iowait)."""
    try:
        with open(path, encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    busy = {}
    for line in lines:
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *fields = line.split()
            v = [int(x) for x in fields[:8]] + [0] * (8 - len(fields[:8]))
            busy[int(name[3:])] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return busy or None


@dataclass(frozen=True)
class Reading:
    """One look at the CPUs: their busy time, this process's CPU time, the wall clock."""

    wall: float
    own: float  # seconds of CPU this process has used (every thread)
    busy: float | None  # seconds the allowed CPUs have been busy (None: no /proc/stat)

    @classmethod
    def now(cls) -> Reading:
        per_cpu = _proc_stat()
        allowed = set(cpu_set())
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        busy = None if per_cpu is None else \
            sum(v for c, v in per_cpu.items() if c in allowed) / hz
        return cls(time.perf_counter(), time.process_time(), busy)

    def others_since(self, before: Reading) -> float | None:
        """Cores other jobs kept busy between ``before`` and this reading (None: unknown)."""
        span = self.wall - before.wall
        if self.busy is None or before.busy is None or span <= 0:
            return None
        return max(0.0, (self.busy - before.busy - (self.own - before.own)) / span)


_START = Reading.now()  # at import: the first choice reads the seconds of start-up


def busy_cores(since: Reading | None = None) -> tuple[float, str]:
    """Cores other jobs keep busy now, and how that was measured: /proc/stat since ``since``
    (the import of this module by default, or now where that is over MAX_WINDOW_S ago; waiting
    for MIN_WINDOW_S when it is too recent), else the one-minute load average where there is
    no /proc/stat (macOS)."""
    since = since or _START
    if time.perf_counter() - since.wall > MAX_WINDOW_S:  # a long-lived process: read now
        since = Reading.now()
    wait = MIN_WINDOW_S - (time.perf_counter() - since.wall)
    if wait > 0:
        time.sleep(wait)
    others = Reading.now().others_since(since)
    if others is not None:
        return others, "measured"
    try:
        return max(0.0, os.getloadavg()[0]), "load average"
    except (AttributeError, OSError):
        return 0.0, "unknown"


def free_of(others: float, taken: float = TAKEN) -> int:
    """The cores other jobs leave this run (at least one); ``taken``: the share of a core
    from which it counts as another job's."""
    return max(1, cores() - int(others + (1.0 - taken)))


def choose(macs: float, requested: int | None = None) -> tuple[int, str]:
    """Threads for work of ``macs`` per step, and why: ``requested`` (``--threads``) or
    OMP_NUM_THREADS if given; else one below the crossover, and above it the cores that other
    jobs leave free (at least one), measured now."""
    if requested:
        return max(1, int(requested)), "--threads"
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"])), "OMP_NUM_THREADS"
    if macs < CROSSOVER_MACS:
        return 1, "a small model"
    if quota_limited():  # the host's CPUs are not ours to read: the quota is what we have
        return cores(), f"a CPU quota of {cores()} cores"
    others, how = busy_cores()
    free = free_of(others)
    return free, f"{free} of {cores()} cores free, others {how} at {others:.1f}"


def automatic(requested: int | None, macs: float) -> bool:
    """Whether the count is ours to move while training (not a user's, not a small model,
    not a container's quota)."""
    return not requested and not os.environ.get("OMP_NUM_THREADS", "").isdigit() \
        and macs >= CROSSOVER_MACS and not quota_limited()


def quota_limited() -> bool:
    """Whether a cgroup quota, not the CPU set, bounds this process's cores."""
    quota = quota_cores()
    return quota is not None and quota < len(cpu_set())


class Governor:
    """Re-reads the CPUs every ``every`` seconds of training; when the cores other jobs leave
    change, moves torch's threads to them and says so (``tick`` returns the new note)."""

    def __init__(self, threads: int, every: float = RECHECK_S) -> None:
        self.threads, self.every = threads, every
        self.last = Reading.now()

    def tick(self) -> str | None:
        now = time.perf_counter()
        if now - self.last.wall < self.every:
            return None
        reading = Reading.now()
        others = reading.others_since(self.last)
        self.last = reading
        if others is None:
            return None
        free = free_of(others)
        if free > self.threads:  # back up only when the others are clearly gone (below 0.3
            free = max(self.threads, free_of(others, 0.3))  # of a core): no flapping
        if free == self.threads:
            return None
        self.threads = apply(free)
        return f"{free} (others now at {others:.1f} of {cores()} cores)"


def apply(threads: int) -> int:
    """Set torch's intra-op threads (once per process where it can) and return the number."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
