"""Data-parallel training on this machine: 2 processes (torchrun + DDP, gloo) against 1.

Same model and global batch (2x256 LSTM, batch 64, seq_len 128) on Tiny Shakespeare or any text
file. With 2 CPU cores, two processes share the same cores the single process already uses:
expect no speed-up here; the figure shows the cost of the all-reduce. On a machine with more
cores or GPUs, raise --nproc.

    python benchmarks/bench_ddp.py --data ../shared/data/tinyshakespeare.txt
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(data: str, nproc: int, steps: int, root: Path) -> float:
    run_dir = root / f"run-{nproc}"
    cmd = [sys.executable, "-m", "seqgen.cli.main", "train", "--data", data, "--run-dir",
           str(run_dir), "--layers", "2", "--hidden", "256", "--embed", "64", "--batch-size", "64",
           "--seq-len", "128", "--max-steps", str(steps), "--log-every", "5", "--eval-every",
           "100000", "--save-every", "100000", "--quiet", "--nproc", str(nproc)]
    subprocess.run(cmd, check=True, capture_output=True)
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rates = [r["tokens_per_s"] for r in rows if "tokens_per_s" in r][1:]
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="../shared/data/tinyshakespeare.txt")
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = run(args.data, 1, args.steps, Path(tmp))
        two = run(args.data, 2, args.steps, Path(tmp))
    print(f"1 process:   {one:10,.0f} tokens/s")
    print(f"2 processes: {two:10,.0f} tokens/s (gloo, global batch 64)")
    print(f"ratio 2 / 1: {two / one:.2f}")


if __name__ == "__main__":
    main()
