"""How many CPU threads torch uses: chosen from the work of one step, not left at its default.

On a 2-core machine another job shares, a tiny model trained at 153 tokens/s on torch's two
threads and at 25,037 on one (same loss): OpenMP pools that spin waiting for each other cost
more than the work they split. A large model gains from every core. The crossover, measured by
benchmarks/bench_threads.py, is in multiply-adds per training step; sampling and evaluation
follow the same rule (``--threads N`` overrides it everywhere).
"""

from __future__ import annotations

import os

from seqgen.config import ModelConfig

#: below this many multiply-adds per step, one thread: a second gains at most 1.45x there on a
#: quiet machine (bench_threads.py: 1.04x at 6 M, 1.45x at 100 M, 1.25x at 1.4 G, 1.41x at
#: 10 G) and loses a hundredfold when another job holds a core
CROSSOVER_MACS = 1.0e9


def step_macs(cfg: ModelConfig, batch: int, seq_len: int) -> float:
    """Multiply-adds of one training step of an LSTM stack: 4H (in + H) per layer and token,
    three times over (the forward, and the backward's two products)."""
    per_token = 0.0
    for i in range(cfg.layers):
        into = cfg.embed + (cfg.hidden if i and cfg.skip else 0) if i == 0 or cfg.skip \
            else cfg.hidden
        per_token += 4 * cfg.hidden * (into + cfg.hidden)
    return 3.0 * per_token * batch * seq_len


def cores() -> int:
    """The CPUs this process may run on (a container's share, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def busy_cores() -> int:
    """Cores other jobs keep busy now: the one-minute load average, before this run adds to
    it (0 where the platform has none)."""
    try:
        return int(os.getloadavg()[0] + 0.5)
    except (AttributeError, OSError):
        return 0


def choose(macs: float, requested: int | None = None) -> tuple[int, str]:
    """Threads for work of ``macs`` per step, and why: ``requested`` (``--threads``) or
    OMP_NUM_THREADS if given; else one below the crossover, and above it the cores that other
    jobs leave free (at least one)."""
    if requested:
        return max(1, int(requested)), "--threads"
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"])), "OMP_NUM_THREADS"
    if macs < CROSSOVER_MACS:
        return 1, "a small model"
    free = max(1, cores() - busy_cores())
    return free, f"{free} of {cores()} cores free"


def apply(threads: int) -> int:
    """Set torch's intra-op threads (once per process where it can) and return the number."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
