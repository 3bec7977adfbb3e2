"""The text-conditioned window model (Graves 2013 section 5): training and batch-1 sampling.

train: the command of issue 15 through seqgen.train in this process, alternating rounds,
    `--domain handwriting --layers 2 --hidden 256 --batch-size 32 --seq-len 128` (the window
    model) against the same with `-o mode=prediction --skip` (same corpus and head, no window);
    the ratio of median points/s (per --window-step windows, the first of each run dropped).
    --before adds the window model as it was before the kernel (the plain nn.LSTMCell loop of
    tests/test_window_fast.py, patched in).
sample: points/s at batch 1 of seqgen's sampler (numpy step) against a plain nn.LSTMCell loop
    of the same network (torch ops per step and a torch draw from the mixture, as a user would
    write it), and seqgen's torch step; same model (2 x 256, 60 characters, mdn2d with 20
    components), same text; the best of --rounds runs each, alternating. seqgen's figures
    include its setup (weights prepared, the state primed), the plain loop's do not. Points per
    second of wall time, and per second of the process's CPU time (time.process_time), which a
    busy machine inflates less: a process waiting for a core spends no CPU time.
benchmarks/bench_window_step.py times the training step alone (less noisy than the CLI).

    python benchmarks/bench_window.py --steps 40 --rounds 2 --before
    python benchmarks/bench_window.py --only sample --threads 1 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

COMMAND = {"layers": 2, "hidden": 256, "batch_size": 32, "seq_len": 128}


def train_rates(options: list[str], steps: int, window: int, threads: int | None,
                seed: int = 1) -> list[float]:
    """Points/s of each logged window of one `seqgen train` run (the first dropped)."""
    import seqgen

    skip = {"skip": True} if "--skip" in options else {}
    with tempfile.TemporaryDirectory() as tmp:
        seqgen.train("handwriting", run=Path(tmp) / "run",
                     options=[o for o in options if o != "--skip"], max_steps=steps,
                     log_every=window, eval_every=10**9, save_every=10**9, seed=seed,
                     threads=threads, **skip, **COMMAND)
        rows = [json.loads(x) for x in (Path(tmp) / "run" / "metrics.jsonl").read_text()
                .splitlines()]
    rates = [r["tokens_per_s"] for r in rows if "tokens_per_s" in r and "val_loss" not in r]
    return rates[1:]


def bench_train(args: argparse.Namespace) -> None:
    runs: dict[str, list[float]] = {"window": [], "no window": []}
    if args.before:
        runs["window, before the kernel"] = []
    for _ in range(args.rounds):
        runs["no window"] += train_rates(["mode=prediction", "--skip"], args.steps,
                                         args.window_steps, args.threads)
        runs["window"] += train_rates([], args.steps, args.window_steps, args.threads)
        if args.before:
            with _reference_window():
                runs["window, before the kernel"] += train_rates([], args.steps,
                                                                 args.window_steps, args.threads)
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"train: {COMMAND}, torch threads {torch.get_num_threads()}")
    for k, v in med.items():
        print(f"  {k:28s} {v:9,.0f} points/s (median of {len(runs[k])} windows)")
    print(f"  ratio no window / window:   {med['no window'] / med['window']:.3f} (goal <= 1.25)")
    if args.before:
        print(f"  ratio before:               "
              f"{med['no window'] / med['window, before the kernel']:.3f}")


class _reference_window:
    """WindowNet._run replaced by the plain formulation kept in tests/test_window_fast.py."""

    def __enter__(self) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from test_window_fast import reference_run

        from seqgen.engine.window import WindowNet

        self.saved = WindowNet._run
        WindowNet._run = lambda self, x, s, c: reference_run(self, x, s, c)  # type: ignore

    def __exit__(self, *exc: Any) -> None:
        from seqgen.engine.window import WindowNet

        WindowNet._run = self.saved  # type: ignore[method-assign]


def _model(V: int = 60) -> Any:
    from seqgen.config import ModelConfig
    from seqgen.engine.mixture import MDN2DHead
    from seqgen.engine.specs import VectorInput
    from seqgen.engine.window import WindowNet

    torch.manual_seed(0)
    cfg = ModelConfig(layers=COMMAND["layers"], hidden=COMMAND["hidden"], embed=64)
    return WindowNet(cfg, VectorInput(3), MDN2DHead(cfg.hidden * cfg.layers, 20), V).eval()


Rates = tuple[float, float]  # points per second of wall time, and of CPU time


def _rates(steps: int, t0: float, c0: float) -> Rates:
    return steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)


@torch.inference_mode()
def plain_cell_loop(net: Any, cond: torch.Tensor, steps: int, seed: int) -> Rates:
    """The reference: the window model's step as a user writes it, nn.LSTMCell per layer."""
    L, H, V = net.cfg.layers, net.cfg.hidden, net.V
    cells = [net.cell]
    for rnn in net.rnns:
        cell = nn.LSTMCell(rnn.input_size, H)
        cell.load_state_dict({k[:-3]: v for k, v in rnn.state_dict().items()})
        cells.append(cell)
    onehot = F.one_hot(cond, V + 1)[..., 1:].float()  # (1, U, V)
    u = torch.arange(1, cond.shape[1] + 1, dtype=torch.float32)  # (U,)
    h, c = [torch.zeros(1, H) for _ in range(L)], [torch.zeros(1, H) for _ in range(L)]
    kappa, w, x = torch.zeros(1, net.K), torch.zeros(1, V), torch.zeros(1, 3)
    torch.manual_seed(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        e = net.inp(x)  # (1, E)
        h[0], c[0] = cells[0](torch.cat([e, w], -1), (h[0], c[0]))
        a, b, k = torch.exp(net.window(h[0]).clamp(max=10)).chunk(3, -1)  # (1, K) each
        kappa = kappa + k
        phi = (a[..., None] * torch.exp(-b[..., None] * (kappa[..., None] - u) ** 2)).sum(1)
        w = torch.bmm(phi[:, None], onehot)[:, 0]  # (1, V)
        for i in range(1, L):
            h[i], c[i] = cells[i](torch.cat([e, h[i - 1], w], -1), (h[i], c[i]))
        x = draw_mdn(net.head(torch.cat(h, -1)), net.head.M, 0.5)  # (1, 3)
    return _rates(steps, t0, c0)


def draw_mdn(params: torch.Tensor, M: int, bias: float) -> torch.Tensor:
    """One pen point from the mixture (Graves eq. 61-62 bias), in torch as the loop's author
    would write it."""
    pi_hat, mu1, mu2, s1, s2, rho_hat = params[:, :6 * M].split(M, -1)  # (1, M) each
    k = torch.multinomial(torch.softmax(pi_hat * (1 + bias), -1), 1)  # (1, 1)
    sd1, sd2 = torch.exp(s1.gather(1, k) - bias), torch.exp(s2.gather(1, k) - bias)
    r = torch.tanh(rho_hat.gather(1, k))  # (1, 1)
    n1, n2 = torch.randn(2, 1, 1)
    x1 = mu1.gather(1, k) + sd1 * n1
    x2 = mu2.gather(1, k) + sd2 * (r * n1 + torch.sqrt(1 - r * r) * n2)
    eos = torch.bernoulli(torch.sigmoid(params[:, 6 * M:]))  # (1, 1)
    return torch.cat([x1, x2, eos], -1)


def seqgen_sample(net: Any, cond: torch.Tensor, steps: int, seed: int, use_numpy: bool) -> Rates:
    from seqgen.engine.sample import Plan, SampleSettings, generate

    t0, c0 = time.perf_counter(), time.process_time()
    out = generate(net, np.zeros((1, 3), np.float32), SampleSettings(length=steps, seed=seed,
                   bias=0.5), Plan(cond=cond.numpy(), steps=steps), use_numpy=use_numpy)
    assert len(out.sequences[0]) == steps, "the window passed the text: give a longer one"
    return _rates(steps, t0, c0)


def bench_sample(args: argparse.Namespace) -> None:
    net = _model()
    text = "the quick brown fox jumps over the lazy dog and writes a long line of text"
    cond = torch.tensor([[1 + (ord(ch) - 32) % 59 for ch in text]])  # (1, U)
    runs: dict[str, list[Rates]] = {"plain nn.LSTMCell loop": [], "seqgen torch step": [],
                                    "seqgen (numpy step)": []}
    for r in range(args.rounds + 1):  # round 0 warms up
        rates = [plain_cell_loop(net, cond, args.sample_steps, r),
                 seqgen_sample(net, cond, args.sample_steps, r, use_numpy=False),
                 seqgen_sample(net, cond, args.sample_steps, r, use_numpy=True)]
        if r:
            for k, v in zip(runs, rates, strict=True):
                runs[k].append(v)
    print(f"sample: batch 1, {args.sample_steps} steps, {COMMAND['layers']} x "
          f"{COMMAND['hidden']}, 60 characters, torch threads {torch.get_num_threads()}")
    for clock, i in (("wall", 0), ("CPU", 1)):
        # the best run: the machine's noise only ever slows one (but a short run, seqgen's, is
        # likelier to fall in a quiet moment of a busy machine: the median is printed too)
        best = {k: max(r[i] for r in v) for k, v in runs.items()}
        for k, v in best.items():
            median = statistics.median(r[i] for r in runs[k])
            print(f"  {k:28s} {v:9,.0f} points/s of {clock} time (best of {len(runs[k])} "
                  f"runs; median {median:,.0f})")
        ref = best["plain nn.LSTMCell loop"]
        print(f"  ratio seqgen / plain loop:  {best['seqgen (numpy step)'] / ref:.2f} "
              f"(goal >= 3), {clock} time")
        print(f"  ratio torch step / plain:   {best['seqgen torch step'] / ref:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("train", "sample"))
    ap.add_argument("--steps", type=int, default=40, help="training steps per run")
    ap.add_argument("--window-steps", type=int, default=5, help="steps per timed window")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before", action="store_true", help="also the window model before the "
                    "kernel (slow)")
    ap.add_argument("--sample-steps", type=int, default=400)
    ap.add_argument("--threads", type=int, default=None, help="torch threads for every run "
                    "(default: seqgen's rule, which follows the load and may differ from run "
                    "to run)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import os

    print(f"load average {os.getloadavg()[0]:.2f}")
    if args.only in (None, "train"):
        bench_train(args)
    if args.only in (None, "sample"):
        bench_sample(args)


if __name__ == "__main__":
    main()
