"""Fine-tuning against training from scratch, on the same corpus and the same wall clock.

Each point is one fresh ``seqgen train`` process bounded by ``--max-time``; then the held-out
loss on the whole validation split of the corpus (as ``seqgen eval`` reads it: every run
here holds out the same last 10 %, so the figures compare, nats per step of the domain):

- ``scratch``: the default training of the domain (``seqgen train --domain D --data F``);
- ``ft``: ``seqgen train --init-from SOURCE --data F`` with the fine-tuning defaults
  (seqgen/finetune.py ``FINETUNE``);
- ``ft:KEY=VALUE,...``: the same with ``seqgen train`` flags (``batch_size=16`` is
  ``--batch-size 16``) or FINETUNE fields (``lr_scale``, ``warmup``, ``schedule``) changed.

    python benchmarks/bench_finetune.py --data corpus.txt --seconds 90 scratch ft \\
        ft:batch_size=16 ft:lr_scale=1
    python benchmarks/bench_finetune.py --domain handwriting --source cursive --data lines/ \\
        --seconds 120 scratch ft

Prints one line per point (steps, closing validation, held-out loss) and, at the end, each
fine-tuning point's held-out loss as a ratio of the scratch run's.
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

#: runs the CLI with FINETUNE fields patched (they are not flags)
LAUNCH = ("import sys, json; from seqgen import finetune; "
          "finetune.FINETUNE.update(json.loads(sys.argv.pop(1))); "
          "from seqgen.cli.main import main; sys.argv[0] = 'seqgen'; main()")


def _value(text: str) -> object:
    """A field's value as JSON reads it (16, 1e-3), else the text itself (cosine)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def command(point: str, args: argparse.Namespace, run: Path) -> list[str]:
    kind, _, rest = point.partition(":")
    fields = {k: _value(v) for k, v in (f.split("=", 1) for f in rest.split(",") if f)}
    patch = {k: v for k, v in fields.items() if k in ("lr_scale", "warmup", "schedule")}
    flags = [x for k, v in fields.items() if k not in patch
             for x in (f"--{k.replace('_', '-')}", str(v))]
    base = ["train", "--data", args.data, "--max-time", f"{args.seconds}s", "--run", str(run),
            "--seed", "1", *flags, *(["--threads", str(args.threads)] if args.threads else [])]
    if kind == "scratch":
        return [sys.executable, "-c", LAUNCH, "{}", *base, "--domain", args.domain]
    if kind != "ft":
        raise SystemExit(f"{point}: a point is scratch[:...] or ft[:...]")
    return [sys.executable, "-c", LAUNCH, json.dumps(patch), *base, "--init-from", args.source]


def held_out(run: Path) -> float:
    import seqgen

    metrics = seqgen.load(run).evaluate()
    return float(next(v for k, v in metrics.items() if k.startswith("nats/")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("points", nargs="+")
    ap.add_argument("--data", required=True)
    ap.add_argument("--domain", default="text")
    ap.add_argument("--source", default="shakespeare", help="a run directory or shipped model")
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--threads", type=int, default=0, help="0: seqgen's own choice")
    ap.add_argument("--runs", default=None, help="keep the runs here (default: a temp dir)")
    args = ap.parse_args()
    root = Path(args.runs or tempfile.mkdtemp(prefix="bench-finetune-"))
    root.mkdir(parents=True, exist_ok=True)
    got: dict[str, float] = {}
    for i, point in enumerate(args.points):
        run = root / f"{i:02d}-{point.replace(':', '-').replace(',', '-').replace('=', '')}"
        t0 = time.time()
        subprocess.run(command(point, args, run), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={**os.environ})
        cfg = json.loads((run / "config.json").read_text())
        got[point] = held_out(run)
        print(json.dumps({"point": point, "steps": cfg["step"], "batch": cfg["train"]["batch_size"],
                          "lr": cfg["train"]["lr"], "val_closing": cfg["val_loss"],
                          "held_out": round(got[point], 4), "wall": round(time.time() - t0, 1),
                          "load": round(os.getloadavg()[0], 2)}), flush=True)
    base = next((v for k, v in got.items() if k.startswith("scratch")), None)
    if base:
        for k, v in got.items():
            print(f"{k:32s} held-out {v:.4f}  / scratch {v / base:.3f}")


if __name__ == "__main__":
    main()
