"""Whole process: a user times the command, not the loop (issue 15 section 1).

The same 60 training steps (2 x 256 LSTM, embed 64, seq 128, batch 64, Adam 2e-3) run as
``seqgen train`` and as a plain PyTorch script that reads the file, builds the vocabulary and
trains, each in a fresh process, alternating, best of N with a warm cache (seqgen's first run
encodes the corpus and is not counted). Printed: wall seconds of each and plain / seqgen (1.0:
no overhead; the goal is at least 0.97).

    python benchmarks/bench_process.py [--data FILE] [--steps 60] [--rounds 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"

PLAIN = r'''
import sys, numpy as np, torch
from torch import nn
path, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(1)
text = open(path, encoding="utf-8").read()
chars = sorted(set(text))
lut = {c: i for i, c in enumerate(chars)}
data = np.array([lut[c] for c in text], dtype=np.int64)
B, T = 64, 128
streams = torch.from_numpy(data[: (len(data) // B) * B].reshape(B, -1))
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.rnn = nn.Embedding(len(chars), 64), nn.LSTM(64, 256, 2, batch_first=True)
        self.head = nn.Linear(256, len(chars))
    def forward(self, x, state):
        out, state = self.rnn(self.emb(x), state)
        return self.head(out), state
net = Net()
opt = torch.optim.Adam(net.parameters(), lr=2e-3)
state = None
for step in range(steps):
    x = streams[:, step * T:(step + 1) * T]
    y = streams[:, step * T + 1:(step + 1) * T + 1]
    logits, state = net(x, state)
    state = tuple(s.detach() for s in state)
    loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    opt.step()
print(float(loss))
'''


def wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQGEN_RUNS": f"{tmp}/runs", "SEQGEN_CACHE": f"{tmp}/cache"}
        env.pop("OMP_NUM_THREADS", None)

        def ours(i: int) -> list[str]:
            return [sys.executable, "-m", "seqgen.cli.main", "train", "--domain", "text",
                    "--data", args.data, "--layers", "2", "--hidden", "256", "--embed", "64",
                    "--seq-len", "128", "--batch-size", "64", "--lr", "2e-3", "--dropout",
                    "0", "--max-steps", str(args.steps), "--eval-every", "100000",
                    "--save-every", "100000", "--seed", "1", "--quiet", "--threads",
                    str(args.threads), "--run", f"{tmp}/run-{i}"]

        plain = [sys.executable, "-c", PLAIN, args.data, str(args.steps), str(args.threads)]
        wall(ours(0), env)  # warms the encode cache (a first run encodes the corpus)
        got_ours, got_plain = [], []
        for i in range(args.rounds):
            got_plain.append(wall(plain, env))
            got_ours.append(wall(ours(i + 1), env))
    p, o = min(got_plain), min(got_ours)
    print(f"{args.steps} steps, {args.threads} threads, best of {args.rounds} (load "
          f"{os.getloadavg()[0]:.1f}):")
    each_p, each_o = (", ".join(f"{t:.1f}" for t in ts) for ts in (got_plain, got_ours))
    print(f"  plain PyTorch script: {p:7.1f} s   (each: {each_p})")
    print(f"  seqgen train:         {o:7.1f} s   (each: {each_o})")
    print(f"  plain / seqgen:       {p / o:7.2f}")


if __name__ == "__main__":
    main()
