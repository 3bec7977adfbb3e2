"""The automatic thread choice against fixed counts, in the situations a user meets.

``seqgen train`` of the issue-24 model (text, 2 x 256 LSTM, embed 64, batch 64 x 128, 60
steps) with the threads seqgen chooses itself (engine/threads.py) and with ``--threads N`` for
every N up to the machine's cores, each a fresh process, alternating, best of ``--rounds``:

- quiet: nothing else runs;
- after a job: every core busy for ``--busy`` seconds (one spinning process per core), ended
  right before each timed process (what a one-minute load average still counts);
- one core busy: one spinning process throughout each timed process;
- a job arrives: one spinning process starts ``--arrive`` seconds into each timed process
  (the run's re-check, ``threads.Governor``, has to see it).

Printed per situation: the loop's seconds (the end of step 1 to the end of the last, from the
``$SEQGEN_PHASES`` marks) and the whole process's, for each count, and auto's figure as a
fraction of the best fixed count's (the goal: at least 0.9), with what the run said it chose.

    python benchmarks/bench_autothreads.py [--data FILE] [--rounds 2] [--steps 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"
SPIN = "import sys, time\nt = time.time()\nwhile time.time() - t < float(sys.argv[1]):\n    pass"
SITUATIONS = ("quiet", "after a job", "one core busy", "a job arrives")


def spin(seconds: float, count: int = 1) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", SPIN, str(seconds)]) for _ in range(count)]


def run_once(cmd: list[str], env: dict[str, str], marks: Path, situation: str,
             args: argparse.Namespace) -> tuple[float, float, str]:
    """(loop seconds, wall seconds, the threads the run reported first)."""
    if situation == "after a job":
        for job in spin(args.busy, os.cpu_count() or 1):
            job.wait()
    others = spin(3600) if situation == "one core busy" else []
    marks.unlink(missing_ok=True)
    start = time.time()
    proc = subprocess.Popen(cmd, env={**env, "SEQGEN_PHASES": str(marks)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if situation == "a job arrives":
        time.sleep(args.arrive)
        others = spin(3600)
    proc.wait()
    wall = time.time() - start
    for job in others:
        job.kill()
        job.wait()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode})")
    got: dict[str, float] = {}
    for line in marks.read_text().splitlines():
        rec = json.loads(line)
        got.setdefault(rec["phase"], rec["t"])
    run = Path(cmd[cmd.index("--run") + 1])
    said: list[str] = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        note = json.loads(line).get("threads")
        if note and (not said or said[-1] != note):  # an event and the next line repeat it
            said.append(note)
    return got["last_step"] - got["first_step"], wall, " -> ".join(said)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--busy", type=float, default=20.0)
    ap.add_argument("--arrive", type=float, default=8.0)
    ap.add_argument("--situations", default=",".join(SITUATIONS))
    args = ap.parse_args()
    counts = ["auto", *map(str, range(1, (os.cpu_count() or 1) + 1))]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQGEN_RUNS": f"{tmp}/runs", "SEQGEN_CACHE": f"{tmp}/cache"}
        env.pop("OMP_NUM_THREADS", None)
        marks = Path(tmp) / "marks.jsonl"

        def cmd(count: str, i: int) -> list[str]:
            chosen = [] if count == "auto" else ["--threads", count]
            return [sys.executable, "-m", "seqgen.cli.main", "train", "--domain", "text",
                    "--data", args.data, "--layers", "2", "--hidden", "256", "--embed", "64",
                    "--seq-len", "128", "--batch-size", "64", "--lr", "2e-3", "--dropout", "0",
                    "--max-steps", str(args.steps), "--eval-every", "100000",
                    "--save-every", "100000", "--log-every", "5", "--seed", "1", *chosen,
                    "--run", f"{tmp}/r{i}"]

        run_once(cmd("1", 0), env, marks, "quiet", args)  # encodes the corpus once
        i = 1
        for situation in args.situations.split(","):
            best: dict[str, tuple[float, float, str]] = {}
            for _ in range(args.rounds):
                for count in counts:
                    got = run_once(cmd(count, i), env, marks, situation, args)
                    i += 1
                    if count not in best or got[0] < best[count][0]:
                        best[count] = got
            fixed = min(best[c][0] for c in counts if c != "auto")
            print(f"{situation} (load {os.getloadavg()[0]:.1f}, best of {args.rounds}):")
            for count in counts:
                loop, wall, said = best[count]
                print(f"  {count:>4s}: loop {loop:6.2f} s  process {wall:6.2f} s"
                      + (f"  chose {said}" if count == "auto" else ""))
            print(f"  auto / best fixed count (loop time): {fixed / best['auto'][0]:.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
