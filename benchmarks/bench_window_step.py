"""One training step of the window model against the same command without the window.

The batches, model and head of issue 15's command (`seqgen train --domain handwriting --layers 2
--hidden 256 --batch-size 32 --seq-len 128`, against the same with `-o mode=prediction
--skip`), built by seqgen's own assembly; each step (forward, loss, backward, clipping, Adam)
timed alone, the three networks interleaved batch by batch, the best of --reps per batch
(the machine's noise only ever adds time). Prints points/s and the ratios: the window model
now, and as it was before the kernel (the plain nn.LSTMCell formulation of
tests/test_window_fast.py, patched in).

    python benchmarks/bench_window_step.py --threads 1 --batches 8 --reps 4
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from seqgen import plugins
from seqgen.assembly import batches, build_model, fit_vocab, sequences
from seqgen.config import apply_overrides, preset
from seqgen.datasets import cache_dir
from seqgen.engine.data import encode_corpus, split
from seqgen.engine.evaluate import to_tensors
from seqgen.engine.window import WindowNet

COMMAND = {"layers": 2, "hidden": 256, "batch_size": 32, "seq_len": 128}


def assemble(mode: str, skip: bool) -> tuple[Any, Any]:
    """The training batches and the network of the command with -o mode=MODE [--skip]."""
    cls = plugins.get_domain("handwriting")
    dom = cls(cls.Options(mode=mode))
    corpus = dom.load_corpus(None)
    dom.fit(corpus.documents)
    vocab = fit_vocab(dom, corpus.documents, None)
    enc = encode_corpus(dom, corpus, cache_dir(), vocab)
    p, given = preset("small"), {**COMMAND, "skip": skip}
    mcfg, tcfg = apply_overrides(p.model, given), apply_overrides(p.train, given)
    train, _ = split(enc, tcfg.val_fraction, sequences(dom))
    torch.manual_seed(tcfg.seed)
    return batches(dom, train, tcfg, "corpus"), build_model(dom, mcfg, vocab)


def stepper(tb: Any, net: Any, run: Callable[..., Any] | None = None) -> Callable[[int], tuple]:
    """A function timing one training step on batch s: (seconds, scored points)."""
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    cache: dict[int, list[torch.Tensor]] = {}
    saved = WindowNet._run

    def one(s: int) -> tuple[float, int]:
        if s not in cache:
            cache[s] = to_tensors(tb.batch(s), "cpu", net.tokens)
        x, y, m, *cond = cache[s]
        WindowNet._run = run or saved  # type: ignore[method-assign]
        t0 = time.perf_counter()
        params, _ = net(x, None, None, cond[0] if cond else None)
        total, n = net.head.loss(params, y, m)
        opt.zero_grad(set_to_none=True)
        (total / n).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        took = time.perf_counter() - t0
        WindowNet._run = saved  # type: ignore[method-assign]
        return took, int(n)
    return one


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--no-before", action="store_true", help="leave the old formulation out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_window_fast import reference_run

    tb_w, net_w = assemble("synthesis", False)
    tb_p, net_p = assemble("prediction", True)
    steps = {"no window": stepper(tb_p, net_p), "window": stepper(tb_w, net_w)}
    if not args.no_before:
        steps["window, before"] = stepper(tb_w, net_w, lambda self, x, s, c: reference_run(
            self, x, s, c))
    print(f"load average {os.getloadavg()[0]:.2f}, torch threads {torch.get_num_threads()}, "
          f"{COMMAND}")
    best: dict[tuple[str, int], tuple[float, int]] = {}
    for s in range(args.batches):  # warm-up
        for f in steps.values():
            f(s)
    for _ in range(args.reps):
        for s in range(args.batches):
            for k, f in steps.items():
                best[k, s] = min(best.get((k, s), (1e9, 0)), f(s))
    rate = {k: sum(best[k, s][1] for s in range(args.batches))
            / sum(best[k, s][0] for s in range(args.batches)) for k in steps}
    for k, v in rate.items():
        print(f"  {k:16s} {v:8,.0f} points/s   ratio no window / this: "
              f"{rate['no window'] / v:.3f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
