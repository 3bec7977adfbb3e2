"""Training throughput: `seqgen` (the real Trainer) against a plain PyTorch loop, same model.

Model 2x256 LSTM, embedding 64, seq_len 128, batch 64 (or a preset's: --preset large), Adam,
clip 5, on Tiny Shakespeare
(or any text file given with --data). Both run in this process, alternating, and the ratio of
median tokens/s (per 10-step window, first window dropped as warm-up) is printed.

    python benchmarks/bench_train.py --data ../shared/data/tinyshakespeare.txt --steps 60
    python benchmarks/bench_train.py --preset large --steps 6 --window 2 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


def plain_loop(text: str, steps: int, B: int = 64, T: int = 128, layers: int = 2,
               hidden: int = 256, embed: int = 64, window: int = 10) -> list[float]:
    """The reference: what a user writes by hand (pytorch/examples word_language_model)."""
    chars = sorted(set(text))
    ids = np.searchsorted(np.array([ord(c) for c in chars]),
                          np.frombuffer(text.encode("utf-32-le"), "<u4"))
    data = torch.from_numpy(ids.astype(np.int64))
    L = (len(data) - 1) // B
    streams = data[: B * L].view(B, L)
    targets = data[1: B * L + 1].view(B, L)
    torch.manual_seed(0)
    emb, lstm = nn.Embedding(len(chars), embed), nn.LSTM(embed, hidden, layers, batch_first=True)
    head = nn.Linear(hidden, len(chars))
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=2e-3)
    state, rates, t = None, [], time.perf_counter()
    for step in range(steps):
        k = step % ((L - 1) // T)
        x, y = streams[:, k * T:(k + 1) * T], targets[:, k * T:(k + 1) * T]
        out, state = lstm(emb(x), state)
        loss = nn.functional.cross_entropy(head(out).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        state = (state[0].detach(), state[1].detach())
        float(loss.detach())
        if (step + 1) % window == 0:
            now = time.perf_counter()
            rates.append(window * B * T / (now - t))
            t = now
    return rates[1:]


def seqgen_loop(data: str, steps: int, B: int = 64, T: int = 128, layers: int = 2,
                hidden: int = 256, embed: int = 64, window: int = 10) -> list[float]:
    import seqgen

    with tempfile.TemporaryDirectory() as tmp:
        seqgen.train("text", data, run=Path(tmp) / "run", preset="small", max_steps=steps,
                     layers=layers, hidden=hidden, embed=embed, seq_len=T, batch_size=B,
                     lr=2e-3, dropout=0.0, eval_every=10**9, save_every=10**9, log_every=window,
                     warmup=0)
        lines = (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()
        rows = [json.loads(x) for x in lines]
    return [r["tokens_per_s"] for r in rows if "tokens_per_s" in r][1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="../shared/data/tinyshakespeare.txt")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--window", type=int, default=10, help="steps per timed window (the "
                    "first window of each run is dropped as warm-up)")
    ap.add_argument("--preset", default=None, help="take the model size and batch of a preset "
                    "(small, large, ...) instead of 2x256 / batch 64 / seq 128")
    args = ap.parse_args()
    size = {"B": 64, "T": 128, "layers": 2, "hidden": 256, "embed": 64}
    if args.preset:
        from seqgen.config import preset

        p = preset(args.preset)
        size = {"B": p.train.batch_size, "T": p.train.seq_len, "layers": p.model.layers,
                "hidden": p.model.hidden, "embed": p.model.embed}
    print(f"model: {size}")
    text = Path(args.data).read_text(encoding="utf-8")
    ref, ours = [], []
    for _ in range(args.rounds):
        ref += plain_loop(text, args.steps, window=args.window, **size)
        ours += seqgen_loop(args.data, args.steps, window=args.window, **size)
    r, o = statistics.median(ref), statistics.median(ours)
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"plain PyTorch loop: {r:,.0f} tokens/s (median of {len(ref)} windows)")
    print(f"seqgen train:       {o:,.0f} tokens/s (median of {len(ours)} windows)")
    print(f"ratio seqgen / plain: {o / r:.3f}")


if __name__ == "__main__":
    main()
