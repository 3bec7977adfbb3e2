"""A minute of fine-tuning on ten real lines by other writers: does the model then fit unseen
real writers' lines better than the shipped model does?

Real lines are pairs in sjvasquez/handwriting-synthesis's ``styles/`` layout
(``style-N-strokes.npy`` rows dx, dy, end of stroke; ``style-N-chars.npy`` the text), one line
per writer (that repository's 13 styles are IAM-OnDB lines by 13 writers; seqgen does not ship
them: give the folder). The first ``--train`` pairs (in N order) are the fine-tuning data, the
rest the unseen writers. Every line is brought to the shipped model's pen scale first (median
pen-down step, as ``--prime`` and ``--init-from`` do), so that both models read the same
numbers. Then:

- ``seqgen train --domain handwriting --init-from SOURCE --data TRAIN --max-time 60s``;
- ``seqgen eval`` of the source and of the fine-tuned run on the unseen writers' lines
  (nats per point; lower fits better), and each writes one unseen writer's text primed with
  that writer's line, drawn to PNG beside the real line (``--images``).

    python benchmarks/ink_finetune.py STYLES_DIR [--source cursive] [--train 10]
        [--seconds 60] [--flags "--lr 3e-4"] [--images DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def pairs(folder: Path) -> list[tuple[int, np.ndarray, str]]:
    got = []
    for f in folder.glob("style-*-strokes.npy"):
        n = int(re.findall(r"style-(\d+)-strokes", f.name)[0])
        chars = np.load(folder / f"style-{n}-chars.npy", allow_pickle=False)
        got.append((n, np.load(f, allow_pickle=False), bytes(chars).decode("utf-8")))
    return sorted(got, key=lambda p: p[0])


def write(folder: Path, items: list[tuple[int, np.ndarray, str]], step: float,
          stride: int) -> None:
    """The pairs at the model's scale as the model reads them (after thinning to its stride)."""
    from seqgen_handwriting.ink import Ink, scale_to, thin

    folder.mkdir(parents=True)
    for n, strokes, text in items:
        factor = scale_to(thin(Ink(strokes.astype(np.float32)), stride).strokes, step)
        scaled = strokes.astype(np.float32) * [factor, factor, 1.0]
        np.save(folder / f"style-{n}-strokes.npy", scaled.astype(np.float32))
        np.save(folder / f"style-{n}-chars.npy", np.frombuffer(text.encode(), np.uint8))


def seqgen(*args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    got = subprocess.run([sys.executable, "-m", "seqgen.cli.main", *args], text=True,
                         capture_output=True, env=env, check=False)
    if got.returncode:
        sys.exit(f"seqgen {' '.join(args)} failed:\n{got.stderr[-2000:]}")
    return got.stdout + got.stderr


def nats(run_or_model: list[str], data: Path) -> float:
    out = seqgen("eval", *run_or_model, "--data", str(data), "--domain", "handwriting")
    return float(re.findall(r"nats/point\s+(-?\d+\.\d+)", out)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("styles", type=Path)
    ap.add_argument("--source", default="cursive", help="a shipped model's name or a run")
    ap.add_argument("--flags", default="", help="more seqgen train flags, e.g. '--lr 3e-4'")
    ap.add_argument("--train", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--images", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import seqgen.api as api

    is_run = Path(args.source, "config.json").is_file()
    source = api.load(args.source) if is_run else api.load("handwriting", model=args.source)
    where = ["--run", args.source] if is_run else ["--model", args.source]
    items = pairs(args.styles)
    if len(items) <= args.train:
        sys.exit(f"{args.styles}: {len(items)} style pairs; need more than --train {args.train}")
    with tempfile.TemporaryDirectory() as tmp:
        train, unseen, run = Path(tmp) / "train", Path(tmp) / "unseen", Path(tmp) / "ft"
        dom: Any = source.domain
        step, stride = dom.step, dom.options.stride
        write(train, items[:args.train], step, stride)
        write(unseen, items[args.train:], step, stride)
        seqgen("train", "--domain", "handwriting", "--init-from", args.source, "--data",
               str(train), "--max-time", f"{args.seconds}s", "--threads", "1", "--seed",
               str(args.seed), "--run", str(run), *args.flags.split())
        before = nats(where, unseen)
        after = nats(["--run", str(run)], unseen)
        if args.images:
            draw(args.images, source, api.load(run), unseen, args.seed)
    out = {"source": args.source, "flags": args.flags, "train_lines": args.train,
           "unseen_lines": len(items) - args.train, "seconds": args.seconds,
           "nats_per_point_source": before, "nats_per_point_finetuned": after}
    print(f"unseen writers' lines ({out['unseen_lines']}), nats per point: source "
          f"{before:.3f}, after {args.seconds} s of fine-tuning on {args.train} lines "
          f"{after:.3f} ({'better' if after < before else 'not better'})")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


def draw(out: Path, source: Any, tuned: Any, unseen: Path, seed: int) -> None:
    """One unseen writer's line, and each model writing a new text primed with it."""
    from seqgen_handwriting import render
    from seqgen_handwriting.readers import read_file

    out.mkdir(parents=True, exist_ok=True)
    first = sorted(unseen.glob("style-*-strokes.npy"))[0]
    render.write_png(read_file(first)[0], out / "real.png", render.Style())
    for name, model in (("source", source), ("finetuned", tuned)):
        ink = model.sample(text="The quick brown fox jumps over the lazy dog.",
                           prime=str(first), bias=1.0, seed=seed)[0]
        render.write_png(ink, out / f"{name}.png", render.Style())


if __name__ == "__main__":
    main()
