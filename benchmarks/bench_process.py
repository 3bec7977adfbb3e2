"""Whole process: a user times the command, not the loop (issue 15 section 1).

Two workloads, each ``seqgen train`` against a plain PyTorch script of the same model and
steps, every run a fresh process, alternating (plain first), best of N, warm caches (one
seqgen run of each workload first encodes its corpus and is not counted):

- text: the issue's 60 steps on Tiny Shakespeare (2 x 256 LSTM, embed 64, seq 128, batch 64,
  Adam 2e-3); the plain script reads the file, builds the vocabulary and trains.
- handwriting: 20 steps of the window model (LSTMCell layer 1 reading a Graves soft window
  over a one-hot text, an nn.LSTM above it, a 20-component MDN head; 2 x 256, embed 64,
  seq 128, batch 32, Adam 1e-3) on the embedded synthetic cursive corpus, exported once to
  strokes.npy + sentences.txt that both sides read (seqgen with ``-o stride=1``: the export
  is already thinned). The plain loop is written as a user would write it, an autograd loop
  over ``nn.LSTMCell``; seqgen's first layer is its hand-written kernel, so this ratio also
  holds the difference of the loops, and the start-up and tail figures are the overhead.

Both sides write wall-clock marks (seqgen through ``$SEQGEN_PHASES``, engine/phases.py), so
each run splits into: start to the end of step 1 (the process's start-up, torch's import
and the first step), the loop from there to the end of the last step, and the tail after it
(seqgen: the closing validation, the checkpoint, loss.png, the exit). Printed: wall seconds
of each side, plain / seqgen (1.0: no overhead; the goal is at least 0.97), and the split.

``--threads 0`` lets each side choose (seqgen: engine/threads.py's measurement; the plain
script: torch's default, every core). ``--after-busy S`` runs a job that keeps every core busy
for S seconds right before each timed process (the situation of issue 24: a test run or an
earlier training that has just ended, which a one-minute load average still counts).

    python benchmarks/bench_process.py [--data FILE] [--rounds 3] [--threads 1]
                                       [--workloads text,handwriting] [--after-busy 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"
STEPS = {"text": 60, "handwriting": 20}

# the plain scripts' first lines: arguments, the marks (as seqgen's $SEQGEN_PHASES), threads
HEAD = r'''
import json, math, sys, time
import numpy as np, torch
import torch.nn.functional as F
from torch import nn
source, steps, threads, marks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def mark(name):
    with open(marks, "a") as f:
        f.write(json.dumps({"phase": name, "t": time.time()}) + "\n")
if threads:  # 0: torch's own default, all the cores
    torch.set_num_threads(threads)
torch.manual_seed(1)
'''

# their last lines: one update, marked at the first and the last step
UPDATE = r'''
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    opt.step()
    if step in (0, steps - 1):
        mark("first_step" if step == 0 else "last_step")
print(loss.item())
'''

PLAIN_TEXT = HEAD + r'''
text = open(source, encoding="utf-8").read()
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
    loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
''' + UPDATE

PLAIN_WINDOW = HEAD + r'''
rng = np.random.default_rng(1)
lines = np.load(f"{source}/strokes.npy", allow_pickle=True)  # rows (end_of_stroke, dx, dy)
texts = open(f"{source}/sentences.txt", encoding="utf-8").read().split("\n")[:len(lines)]
chars = sorted(set("".join(texts)))
lut = {c: i for i, c in enumerate(chars)}
V, B, T, H, E, K, M = len(chars), 32, 128, 256, 64, 10, 20
rows = np.concatenate(lines)
mean, std = rows[:, 1:].mean(0), rows[:, 1:].std(0)
data = [np.concatenate([(s[:, 1:] - mean) / std, s[:, :1]], 1).astype(np.float32) for s in lines]

def batch():
    pick = rng.choice(len(data), B, replace=False)
    x, y, mask = np.zeros((B, T, 3), np.float32), np.zeros((B, T, 3), np.float32), np.zeros((B, T))
    onehot = np.zeros((B, max(len(texts[i]) for i in pick), V), np.float32)
    for b, i in enumerate(pick):
        d = data[i]
        a = rng.integers(0, max(len(d) - T, 0) + 1)
        d = d[a:a + T]
        x[b, 1:len(d)], y[b, :len(d)], mask[b, :len(d)] = d[:-1], d, 1
        onehot[b, np.arange(len(texts[i])), [lut[c] for c in texts[i]]] = 1
    return (torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask).float(),
            torch.from_numpy(onehot))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.cell = nn.Linear(3, E), nn.LSTMCell(E + V, H)
        self.window, self.rnn = nn.Linear(H, 3 * K), nn.LSTM(E + H + V, H, batch_first=True)
        self.head = nn.Linear(2 * H, 6 * M + 1)
    def forward(self, x, onehot):
        e = self.inp(x)
        h, c = x.new_zeros(len(x), H), x.new_zeros(len(x), H)
        kappa, w = x.new_zeros(len(x), K), x.new_zeros(len(x), V)
        u = torch.arange(1, onehot.shape[1] + 1, dtype=x.dtype)
        hs, ws = [], []
        for t in range(x.shape[1]):
            h, c = self.cell(torch.cat([e[:, t], w], 1), (h, c))
            alpha, beta, k = torch.exp(self.window(h)).chunk(3, 1)
            kappa = kappa + k
            gauss = torch.exp(-beta[..., None] * (kappa[..., None] - u) ** 2)  # (B, K, U)
            phi = (alpha[..., None] * gauss).sum(1)  # (B, U)
            w = torch.bmm(phi[:, None], onehot)[:, 0]
            hs.append(h)
            ws.append(w)
        h1, w1 = torch.stack(hs, 1), torch.stack(ws, 1)
        h2, _ = self.rnn(torch.cat([e, h1, w1], 2))
        return self.head(torch.cat([h1, h2], 2))

def mdn_loss(p, y, mask):
    pi, mu1, mu2, s1, s2, rho = p[..., :6 * M].split(M, -1)
    s1, s2, rho = s1.exp(), s2.exp(), torch.tanh(rho)
    d1, d2 = (y[..., 1:2] - mu1) / s1, (y[..., 2:3] - mu2) / s2
    z, r2 = d1 * d1 + d2 * d2 - 2 * rho * d1 * d2, 1 - rho * rho
    log_n = -math.log(2 * math.pi) - torch.log(s1 * s2) - 0.5 * torch.log(r2) - z / (2 * r2)
    log_p = torch.logsumexp(F.log_softmax(pi, -1) + log_n, -1)
    eos = F.binary_cross_entropy_with_logits(p[..., 6 * M], y[..., 0], reduction="none")
    return ((eos - log_p) * mask).sum() / mask.sum()

net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for step in range(steps):
    x, y, mask, onehot = batch()
    loss = mdn_loss(net(x, onehot), y, mask)
''' + UPDATE


@dataclass
class Timed:
    wall: float  # process start to exit
    first: float  # process start to the end of step 1
    loop: float  # the end of step 1 to the end of the last step
    tail: float  # the end of the last step to exit
    phases: dict[str, float]  # seqgen's marks after the last step, seconds after it


BUSY = "import sys, time\nt = time.time()\nwhile time.time() - t < float(sys.argv[1]):\n    pass"


def busy(seconds: float) -> None:
    """Every core busy for ``seconds`` (one spinning process per core), then nothing."""
    if seconds <= 0:
        return
    jobs = [subprocess.Popen([sys.executable, "-c", BUSY, str(seconds)])
            for _ in range(os.cpu_count() or 1)]
    for job in jobs:
        job.wait()


def timed(cmd: list[str], env: dict[str, str], marks: Path, after_busy: float = 0.0) -> Timed:
    """One fresh process, its wall time split at the marks it wrote."""
    marks.unlink(missing_ok=True)
    busy(after_busy)
    start = time.time()
    subprocess.run(cmd, env={**env, "SEQGEN_PHASES": str(marks)}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time()
    got = {}
    for line in marks.read_text().splitlines():
        rec = json.loads(line)
        got.setdefault(rec["phase"], rec["t"])  # the first of each (a rollback repeats some)
    last = got["last_step"]
    after = {k: t - last for k, t in got.items() if t > last}
    return Timed(end - start, got["first_step"] - start, last - got["first_step"],
                 end - last, after)


def commands(workload: str, args: argparse.Namespace, data: str,
             tmp: str) -> tuple[list[str], Callable[[int], list[str]]]:
    """The plain script's command line, and a function of i giving seqgen's."""
    steps, threads = str(STEPS[workload]), str(args.threads)
    marks = f"{tmp}/plain-marks.jsonl"
    plain = PLAIN_TEXT if workload == "text" else PLAIN_WINDOW
    if workload == "text":
        size = ["--domain", "text", "--data", data, "--batch-size", "64", "--lr", "2e-3"]
    else:
        size = ["--domain", "handwriting", "--data", data, "-o", "stride=1",
                "--batch-size", "32", "--lr", "1e-3"]

    chosen = ["--threads", threads] if args.threads else []  # 0: seqgen's own choice

    def ours(i: int) -> list[str]:
        return [sys.executable, "-m", "seqgen.cli.main", "train", *size, "--layers", "2",
                "--hidden", "256", "--embed", "64", "--seq-len", "128", "--dropout", "0",
                "--max-steps", steps, "--eval-every", "100000", "--save-every", "100000",
                "--seed", "1", *chosen, "--run", f"{tmp}/{workload}-{i}"]

    return [sys.executable, "-c", plain, data, steps, threads, marks], ours


def export_handwriting(folder: Path) -> None:
    """The embedded synthetic corpus (thinned, as seqgen trains on it) as the coding
    challenge's strokes.npy (rows end_of_stroke, dx, dy) and sentences.txt."""
    import numpy as np

    from seqgen import plugins

    cls = plugins.get_domain("handwriting")
    docs = cls(cls.Options()).load_corpus(None).documents
    lines = np.empty(len(docs), object)
    for i, d in enumerate(docs):
        s = np.asarray(d.strokes, np.float32)
        lines[i] = np.stack([s[:, 2], s[:, 0], s[:, 1]], 1)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "strokes.npy", lines, allow_pickle=True)
    (folder / "sentences.txt").write_text("".join(f"{d.text}\n" for d in docs),
                                          encoding="utf-8")


def measure(workload: str, args: argparse.Namespace, env: dict[str, str],
            tmp: str) -> tuple[list[Timed], list[Timed], list[float]]:
    data = args.data
    if workload == "handwriting":
        data = f"{tmp}/hw"
        export_handwriting(Path(data))
    plain, ours = commands(workload, args, data, tmp)
    timed(ours(0), env, Path(tmp) / "marks.jsonl")  # encodes the corpus: a warm cache after
    got_plain, got_ours, loads = [], [], [os.getloadavg()[0]]
    for i in range(args.rounds):
        got_plain.append(timed(plain, env, Path(tmp) / "plain-marks.jsonl", args.after_busy))
        got_ours.append(timed(ours(i + 1), env, Path(tmp) / "marks.jsonl", args.after_busy))
        loads.append(os.getloadavg()[0])
    return got_plain, got_ours, loads


def report(workload: str, args: argparse.Namespace, plain: list[Timed], ours: list[Timed],
           loads: list[float]) -> None:
    def best(runs: list[Timed], what: str) -> float:
        return min(getattr(r, what) for r in runs)

    def each(runs: list[Timed]) -> str:
        return ", ".join(f"{r.wall:.1f}" for r in runs)

    p, o = best(plain, "wall"), best(ours, "wall")
    threads = f"{args.threads} thread(s)" if args.threads else "threads each side's own"
    after = f", each right after {args.after_busy:g} s of every core busy" \
        if args.after_busy else ""
    print(f"{workload}: {STEPS[workload]} steps, {threads}, best of {args.rounds}{after}, "
          f"load {min(loads):.1f}-{max(loads):.1f}")
    print(f"  plain PyTorch script: {p:7.2f} s   (each: {each(plain)})")
    print(f"  seqgen train:         {o:7.2f} s   (each: {each(ours)})")
    print(f"  plain / seqgen:       {p / o:7.3f}")
    for what, name in (("first", "start to end of step 1"), ("loop", "loop after step 1"),
                       ("tail", "after the last step")):
        bp, bo = best(plain, what), best(ours, what)
        print(f"  {name:23s} plain {bp:6.2f} s  seqgen {bo:6.2f} s  seqgen - plain "
              f"{bo - bp:+6.2f} s")
    fastest = min(ours, key=lambda r: r.wall)
    marks = ", ".join(f"{k} +{v:.2f}" for k, v in fastest.phases.items())
    print(f"  seqgen's tail, s after the last step (fastest run): {marks}, exit "
          f"+{fastest.tail:.2f}")


def references(rounds: int, env: dict[str, str]) -> None:
    """What of a start-up is torch's: its import alone, and with the first optimizer. A
    torch.optim optimizer's construction imports torch._dynamo (the plain scripts pay it);
    seqgen's CPU Adam (engine/adam.py) does not."""
    cases = {"python -c 'import torch'": "import torch",
             "  ... and torch.optim.Adam(...)": "import torch; torch.optim.Adam("
                                                 "torch.nn.Linear(2, 2).parameters())",
             "  ... and seqgen's engine Adam(...)": "import torch; from seqgen.engine.adam "
                                                    "import Adam; Adam(torch.nn.Linear(2, 2)"
                                                    ".parameters(), lr=1e-3)"}
    for name, code in cases.items():
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            best = min(best, time.perf_counter() - t0)
        print(f"{name:34s} {best:6.2f} s (best of {rounds}, load {os.getloadavg()[0]:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workloads", default="text,handwriting")
    ap.add_argument("--after-busy", type=float, default=0.0,
                    help="seconds of every core busy right before each timed process")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQGEN_RUNS": f"{tmp}/runs", "SEQGEN_CACHE": f"{tmp}/cache"}
        env.pop("OMP_NUM_THREADS", None)
        for workload in args.workloads.split(","):
            report(workload, args, *measure(workload, args, env, tmp))
        references(args.rounds, env)


if __name__ == "__main__":
    main()
