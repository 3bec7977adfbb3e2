"""Start-up: how long a command takes to answer when it has no training or sampling to do.

Each command runs in a fresh process (best of N), against two references timed in the same
run: a bare ``python -c pass`` and ``python -c "import torch"`` (what every command cost when
it imported torch first). Goal (issue 14): ``seqgen info``, ``runs``, ``domains`` and argument
errors under 1 second.

    python benchmarks/bench_startup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], env: dict[str, str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    seqgen = [sys.executable, "-m", "seqgen.cli.main"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQGEN_RUNS": f"{tmp}/runs", "SEQGEN_CACHE": f"{tmp}/cache",
               "OMP_NUM_THREADS": "1"}
        corpus = Path(tmp) / "c.txt"
        corpus.write_text("to be or not to be, that is the question\n" * 200)
        run = f"{tmp}/run"
        subprocess.run([*seqgen, "train", "--data", str(corpus), "--preset", "tiny", "--quiet",
                        "--max-steps", "2", "--run", run], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import torch'": [sys.executable, "-c", "import torch"],
            "seqgen --help": [*seqgen, "--help"],
            "seqgen domains": [*seqgen, "domains"],
            "seqgen info RUN": [*seqgen, "info", run],
            "seqgen runs": [*seqgen, "runs"],
            "train --max-time 10x": [*seqgen, "train", "--max-time", "10x"],
            "train --domain musci": [*seqgen, "train", "--domain", "musci"],
            "sample --num 0": [*seqgen, "sample", "--run", run, "--num", "0"],
            "train --resume --hidden 64": [*seqgen, "train", "--resume", "--run", run,
                                           "--hidden", "64"],
        }
        got = {name: timed(cmd, env, args.rounds) for name, cmd in cases.items()}
    torch_t = got["python -c 'import torch'"]
    print(f"best of {args.rounds}, fresh process each")
    for name, t in got.items():
        ratio = torch_t / t if t > 0 else float("inf")
        print(f"  {name:30s} {t:6.2f} s   import-torch / this: {ratio:4.1f}")


if __name__ == "__main__":
    main()
