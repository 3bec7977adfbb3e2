"""Threads: where a second core starts to pay for itself in a training step.

For models from tiny to the default and beyond, one training step (forward, backward, Adam) of
the engine's own SeqNet is timed on 1 thread and on all of this machine's, in the same run.
Small models lose to the threads' synchronisation (and, on a machine another job shares, to
spinning OpenMP pools fighting over cores); large ones gain. The crossover, in multiply-adds
per step, is what ``seqgen.engine.threads`` uses (issue 15 section 3).

    python benchmarks/bench_threads.py [--steps 6]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from seqgen.config import ModelConfig
from seqgen.engine.head_registry import build_head
from seqgen.engine.model import SeqNet
from seqgen.engine.specs import TokenInput
from seqgen.engine.threads import CROSSOVER_MACS, step_macs

SIZES = [(1, 32, 8, 32), (1, 64, 16, 64), (2, 128, 32, 64), (2, 256, 32, 128),
         (2, 256, 64, 128), (2, 512, 64, 128)]  # (layers, hidden, batch, seq_len)


def step_time(cfg: ModelConfig, batch: int, seq: int, threads: int, steps: int) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = SeqNet(cfg, TokenInput(80), build_head("categorical", cfg.hidden, {"num_classes": 80}))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randint(0, 80, (batch, seq))
    best = float("inf")
    for i in range(steps + 1):
        t0 = time.perf_counter()
        params, _ = net(x)
        total, n = net.head.loss(params, x)
        opt.zero_grad()
        (total / n).backward()
        opt.step()
        if i:  # the first step warms the allocator
            best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"cores: {cores}; crossover in use: {CROSSOVER_MACS:,.0f} multiply-adds per step")
    for layers, hidden, batch, seq in SIZES:
        cfg = ModelConfig(layers=layers, hidden=hidden, embed=min(64, hidden))
        one = step_time(cfg, batch, seq, 1, args.steps)
        many = step_time(cfg, batch, seq, cores, args.steps)
        macs = step_macs(cfg, batch, seq)
        pick = "all" if macs >= CROSSOVER_MACS else "1"
        print(f"  {layers} x {hidden:4d}, batch {batch:3d} x {seq:3d}  {macs / 1e6:8.1f} M MACs"
              f"  1 thread {one * 1e3:8.1f} ms  {cores} threads {many * 1e3:8.1f} ms"
              f"  ratio {one / many:5.2f}  rule picks {pick}")


if __name__ == "__main__":
    main()
