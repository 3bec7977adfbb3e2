"""One writer's own hand from five lines: priming alone against priming a fine-tuned model.

Writers the corpus has not got: synth.py's writer model with traits outside the corpus's
ranges (a backward slant, narrow or wide letters, the other face). For each, five lines are
saved as a style and 40 more are held out. Then, for the model as it is and for the model
fine-tuned on the five lines (``--lr``, ``--steps``, batch 8: ``seqgen train --init-from``):

- **fit**: nats per point of the writer's 40 held-out lines (``seqgen eval``; lower is better);
- **hand**: the slant (x moved per unit of y along pen-down offsets) and the width of a letter
  (the line's ink width over its letters, in the corpus's units) of lines written in the style
  (``--prime-style``), against the writer's own held-out lines;
- **legibility**: the CER of those lines as the model's own recogniser reads them (the
  recogniser of the source run's corpus, ``seqgen ink-eval``'s, cached).

    python benchmarks/ink_own_hand.py [--run RUN] [--lr 3e-4] [--steps 30] [--replay N]
        [--repeat K] [--images DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

SENTENCES = ["Meet Jo at 9:30 on Friday.", "The parcel came back, twice!",
             "Call 0171 946 0832 after lunch.", "Zoe paid $45 for the quilts.",
             "Dear Sam, thank you so much.", "Quick brown foxes jump high."]


def writers() -> list[Any]:
    from seqgen_handwriting.synth import Writer

    return [Writer(-0.3, 0.75, 1.0, 3.5, 1.6, 0.3, 1.5, 30.0, 1.0, "scripts"),
            Writer(0.6, 1.45, 1.1, 0.0, 0.8, 0.15, 0.5, 34.0, 1.8, "cursive"),
            Writer(-0.1, 1.0, 0.9, 5.0, 2.0, 0.4, 2.5, 27.0, 0.4, "cursive")]


def lines_of(writer: Any, n: int, seed: int) -> list[Any]:
    from seqgen_handwriting.ink import Ink, from_polylines
    from seqgen_handwriting.synth import write_line
    from seqgen_handwriting.texts import wrap_stream

    texts = wrap_stream(np.random.default_rng(seed), n, 40)
    return [Ink(from_polylines(write_line(t, writer, np.random.default_rng([seed, i]))), t)
            for i, t in enumerate(texts)]


def hand(inks: list[Any]) -> tuple[float, float]:
    """(slant, letter width) over lines: pen-down offsets' x per y, ink width per letter."""
    slants, widths = [], []
    for ink in inks:
        r = np.asarray(ink.strokes, np.float64)
        down = r[1:][r[:-1, 2] < 0.5]
        slants.append(float((down[:, 0] * down[:, 1]).sum() / max((down[:, 1] ** 2).sum(), 1e-9)))
        xs = np.concatenate(ink.polylines())[:, 0]
        widths.append(float(np.ptp(xs)) / max(len((ink.text or "").replace(" ", "")), 1))
    return float(np.median(slants)), float(np.median(widths))


def replay(n: int) -> list[Any]:
    """n lines of the synthetic corpus's kind (another seed: not its own lines), trained on
    beside the style's so that the model keeps what it knew (``--replay``)."""
    from seqgen_handwriting import synth

    return synth.generate(n, 8, 75, seed=99) if n else []


def run_seqgen(*args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    got = subprocess.run([sys.executable, "-m", "seqgen.cli.main", *args], text=True,
                         capture_output=True, env=env, check=False)
    if got.returncode:
        sys.exit(f"seqgen {' '.join(args)}:\n{got.stderr[-1500:]}")
    return got.stdout


def nats(run: str, data: Path) -> float:
    out = run_seqgen("eval", "--run", run, "--data", str(data))
    return float(next(ln.split()[1] for ln in out.splitlines() if ln.startswith("nats/point")))


def save_npy(folder: Path, inks: list[Any]) -> None:
    folder.mkdir(parents=True)
    for i, ink in enumerate(inks):
        np.save(folder / f"style-{i}-strokes.npy", ink.strokes.astype(np.float32))
        np.save(folder / f"style-{i}-chars.npy", np.frombuffer(ink.text.encode(), np.uint8))


def written(run: str, name: str, rec: Any, seed: int, image: Path | None) -> dict[str, Any]:
    """The sentences in the style, by one model: their hand and what the recogniser reads."""
    import seqgen.api as api
    from seqgen.engine.recognise import cer
    from seqgen_handwriting import render

    model = api.load(run)
    inks = [model.sample(text=t, style=name, bias=1.0, seed=seed + i)[0]
            for i, t in enumerate(SENTENCES)]
    if image is not None:
        render.write_png(inks[0], image, render.Style())
    read = rec.read([model.domain.encode(ink) for ink in inks])
    slant, width = hand(inks)
    return {"slant": slant, "width": width, "cer": cer(SENTENCES, read), "read": read}


def one_writer(k: int, writer: Any, args: argparse.Namespace, rec: Any,
               tmp: Path) -> dict[str, Any]:
    import seqgen.api as api
    from seqgen import styles

    inks = lines_of(writer, 45, 100 + k)
    style, held = inks[:5], inks[5:]
    save_npy(tmp / f"held{k}", held)
    styles.save(api.load(args.run).domain, f"w{k}", style)
    tuned = tmp / f"tuned{k}"
    save_npy(tmp / f"five{k}", style * args.repeat + replay(args.replay))
    run_seqgen("train", "--domain", "handwriting", "--init-from", args.run, "--data",
               str(tmp / f"five{k}"), "--lr", str(args.lr), "--max-steps", str(args.steps),
               "--batch-size", "8", "--threads", "1", "--seed", "1", "--run", str(tuned))
    slant, width = hand(held)
    out = {"writer": k, "real": {"slant": slant, "width": width}}
    pics = args.images
    if pics is not None:
        from seqgen_handwriting import render

        pics.mkdir(parents=True, exist_ok=True)
        render.write_png(held[0], pics / f"writer{k}-real.png", render.Style())
    for name, run in (("source", args.run), ("tuned", str(tuned))):
        image = None if pics is None else pics / f"writer{k}-{name}.png"
        out[name] = {"nats_per_point": nats(run, tmp / f"held{k}"),
                     **written(run, f"w{k}", rec, args.seed, image)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True, help="a run directory (the source model)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replay", type=int, default=0, help="corpus-like lines trained beside")
    ap.add_argument("--repeat", type=int, default=1, help="copies of the style's lines")
    ap.add_argument("--images", type=Path, help="PNGs: a real line, primed, tuned")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import seqgen.api as api
    from seqgen_handwriting.legibility import recogniser

    rec = recogniser(api.load(args.run), seconds=300)[0]  # ink-eval --train-seconds 300
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SEQGEN_STYLES"] = str(Path(tmp) / "styles")
        rows = [one_writer(k, w, args, rec, Path(tmp)) for k, w in enumerate(writers())]
    for r in rows:
        print(f"writer {r['writer']}: real slant {r['real']['slant']:.2f} width "
              f"{r['real']['width']:.1f}")
        for name in ("source", "tuned"):
            m = r[name]
            print(f"  {name:6s} nats/point {m['nats_per_point']:7.3f}  slant {m['slant']:.2f}  "
                  f"width {m['width']:.1f}  CER {m['cer']:.3f}  {m['read'][:2]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
