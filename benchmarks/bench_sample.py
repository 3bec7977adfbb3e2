"""Sampling speed, chars/s: seqgen's stateful sampler against the usual hand-written loops.

Same 2x256 LSTM (embedding 64, 65 symbols): (1) the naive loop that re-feeds a 100-character
window every step, (2) a stateful nn.LSTM step loop, (3) a stateful nn.LSTMCell loop, and
(4) seqgen's sampler (seqgen.engine.sample.generate), at batch 1 and batch 32.

    python benchmarks/bench_sample.py
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from seqgen.config import ModelConfig
from seqgen.domain import TokenInput
from seqgen.engine.heads import CategoricalHead
from seqgen.engine.model import SeqNet
from seqgen.engine.sample import SampleSettings, generate

V, E, H, L = 65, 64, 256, 2


def timed(fn, steps: int, batch: int) -> float:
    fn(20)
    t = time.perf_counter()
    fn(steps)
    return steps * batch / (time.perf_counter() - t)


@torch.inference_mode()
def main() -> None:
    torch.manual_seed(0)
    model = SeqNet(ModelConfig(L, H, E), TokenInput(V), CategoricalHead(H, V)).eval()
    emb, lstm, head = model.inp, model.rnns[0], model.head.proj
    cells = [nn.LSTMCell(E if i == 0 else H, H) for i in range(L)]
    for i, cell in enumerate(cells):  # same weights as the nn.LSTM
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(lstm, f"{name}_l{i}"))
    rows = {}
    for batch in (1, 32, 256):
        def naive(n: int, B: int = batch) -> None:
            x = torch.zeros(B, 1, dtype=torch.long)
            for _ in range(n):
                out, _ = lstm(emb(x[:, -100:]))
                nxt = torch.multinomial(torch.softmax(head(out[:, -1]), -1), 1)
                x = torch.cat([x, nxt], 1)

        def stateful(n: int, B: int = batch) -> None:
            x, st = torch.zeros(B, 1, dtype=torch.long), None
            for _ in range(n):
                out, st = lstm(emb(x), st)
                x = torch.multinomial(torch.softmax(head(out[:, -1]), -1), 1)

        def cell_loop(n: int, B: int = batch) -> None:
            x = torch.zeros(B, dtype=torch.long)
            hs = [(torch.zeros(B, H), torch.zeros(B, H)) for _ in cells]
            for _ in range(n):
                inp = emb(x)
                for i, cell in enumerate(cells):
                    hs[i] = cell(inp, hs[i])
                    inp = hs[i][0]
                x = torch.multinomial(torch.softmax(head(inp), -1), 1).view(-1)

        def ours(n: int, B: int = batch) -> None:
            generate(model, np.array([0]), SampleSettings(num=B, length=n, seed=0))

        steps = {1: 300, 32: 100, 256: 30}[batch]
        rows[batch] = {name: timed(fn, steps, batch) for name, fn in
                       [("naive 100-char window", naive), ("stateful nn.LSTM", stateful),
                        ("stateful nn.LSTMCell", cell_loop), ("seqgen", ours)]}
    print(f"torch threads: {torch.get_num_threads()}")
    for batch, r in rows.items():
        print(f"batch {batch}:")
        for name, v in r.items():
            print(f"  {name:24s} {v:10,.0f} chars/s")
        print(f"  seqgen / naive:          {r['seqgen'] / r['naive 100-char window']:.1f}x")
        print(f"  seqgen / nn.LSTM loop:   {r['seqgen'] / r['stateful nn.LSTM']:.1f}x")
        print(f"  seqgen / nn.LSTMCell:    {r['seqgen'] / r['stateful nn.LSTMCell']:.1f}x")


if __name__ == "__main__":
    main()
