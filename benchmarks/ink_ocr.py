"""Legibility of written sentences and a paragraph, read by an independent OCR engine.

Tesseract (Debian's ``tesseract-ocr``, LSTM engine, English) reads each line as one text line
(``--psm 7``) from a PNG drawn by seqgen's renderer and scaled to 100 pixels high. It reads:

- the **clean script**: each sentence written by the corpus's own synthetic writers (writer
  ``i % 8`` of synth.py's default eight, no model involved): the floor;
- the **samples**: the model's writing of the same sentences (one batch, its own style);
- the **paragraph**: a text of about 300 characters, wrapped by seqgen into lines and written
  as a page, each line read in turn: the CER of each line shows whether it stays legible to its
  end.

CER is edits over reference characters, summed over the lines, spaces collapsed; the goal is
samples within 1.3 times the clean script's CER. Tesseract is a print OCR engine and reads
cursive badly: the ratio, not the level, is the measure.

    python benchmarks/ink_ocr.py [--run RUN | --model cursive] [--bias 1] [--seed 1] [--style N]
        [--sentences FILE] [--paragraph FILE] [--images DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent / "data"


def ocr(ink: Any, height: int = 100) -> str:
    """What tesseract reads in one line of ink."""
    from PIL import Image

    from seqgen_handwriting import render

    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "line.png"
        render.write_png(ink, png, render.Style(stroke_width=2.0))
        im = Image.open(png).convert("L")
        width = max(1, round(im.width * height / im.height))
        im = im.resize((width, height), Image.Resampling.LANCZOS)
        canvas = Image.new("L", (im.width + 40, im.height + 40), 255)
        canvas.paste(im, (20, 20))
        canvas.save(png)
        for psm in ("7", "6", "13"):  # one line; a block; raw line, where one line read nothing
            got = subprocess.run(["tesseract", str(png), "-", "--psm", psm], text=True,
                                 capture_output=True, check=False).stdout
            if got.strip():
                return " ".join(got.split())
    return ""


def cer(refs: list[str], hyps: list[str]) -> float:
    from seqgen.engine.recognise import cer as edits

    return edits([" ".join(r.split()) for r in refs], hyps)


def clean_script(texts: list[str]) -> list[Any]:
    from seqgen_handwriting import synth
    from seqgen_handwriting.ink import Ink, from_polylines

    writers = synth.make_writers(8, 0)
    return [Ink(from_polylines(synth.write_line(t, writers[i % 8],
                                                np.random.default_rng([7, i]))), t, i % 8)
            for i, t in enumerate(texts)]


def written(model: Any, texts: list[str], bias: float, seed: int,
            style: int | None = None) -> list[Any]:
    """Each text as one line of the model's, in one batch (no chaining: separate lines), in
    its own style each (or all in ``style``)."""
    dom = model.domain
    chain, page_style = dom.chain_lines, dom.page_style
    dom.chain_lines, dom.page_style = False, None
    try:
        page = model.sample(text="\n".join(texts), bias=bias, seed=seed, style=style)[0]
    finally:
        dom.chain_lines, dom.page_style = chain, page_style
    return list(page.lines) if hasattr(page, "lines") else [page]


def sentences(model: Any, texts: list[str], bias: float, seed: int,
              images: Path | None, style: int | None = None) -> dict[str, Any]:
    clean, samples = clean_script(texts), written(model, texts, bias, seed, style)
    read_clean, read_samples = [ocr(c) for c in clean], [ocr(s) for s in samples]
    if images is not None:
        from seqgen_handwriting import render

        for i in range(min(4, len(texts))):
            render.write_png(samples[i], images / f"sentence-{i}.png", render.Style())
    a, b = cer(texts, read_clean), cer(texts, read_samples)
    return {"cer_clean": a, "cer_samples": b, "ratio": b / a if a else float("inf"),
            "rows": [{"text": t, "clean": c, "sample": s}
                     for t, c, s in zip(texts, read_clean, read_samples, strict=True)]}


def paragraph(model: Any, text: str, bias: float, seed: int,
              images: Path | None) -> dict[str, Any]:
    page = model.sample(text=text, bias=bias, seed=seed)[0]
    lines = list(page.lines) if hasattr(page, "lines") else [page]
    refs = [ln.text or "" for ln in lines]
    read = [ocr(ln) for ln in lines]
    clean = [ocr(c) for c in clean_script(refs)]
    if images is not None:
        from seqgen_handwriting import render

        render.write_png(page, images / "paragraph.png", render.Style())
    return {"lines": len(lines), "chained": bool(model.domain.chain_lines),
            "cer": cer(refs, read), "cer_clean": cer(refs, clean),
            "cer_per_line": [cer([r], [h]) for r, h in zip(refs, read, strict=True)],
            "cer_clean_per_line": [cer([r], [h]) for r, h in zip(refs, clean, strict=True)],
            "rows": [{"text": r, "sample": h} for r, h in zip(refs, read, strict=True)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", help="a run directory (default: the shipped model)")
    ap.add_argument("--model", default=None, help="a shipped model's name")
    ap.add_argument("--bias", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--style", type=int, help="write the sentences in this style example")
    ap.add_argument("--sentences", type=Path, default=HERE / "ink_sentences.txt")
    ap.add_argument("--paragraph", type=Path, default=HERE / "ink_paragraph.txt")
    ap.add_argument("--images", type=Path, help="write PNGs of some samples here")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if shutil.which("tesseract") is None:
        sys.exit("ink_ocr: needs tesseract (apt-get install tesseract-ocr)")
    import seqgen.api as api

    model = api.load(args.run or "handwriting", model=args.model)
    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
    texts = [t for t in args.sentences.read_text(encoding="utf-8").splitlines() if t.strip()]
    out = {"sentences": sentences(model, texts, args.bias, args.seed, args.images, args.style),
           "paragraph": paragraph(model, args.paragraph.read_text(encoding="utf-8").strip(),
                                  args.bias, args.seed, args.images)}
    s, p = out["sentences"], out["paragraph"]
    for r in s["rows"]:
        print(f"{r['text']}\n  clean:  {r['clean']}\n  sample: {r['sample']}")
    for r in p["rows"]:
        print(f"paragraph: {r['text']}\n  read:   {r['sample']}")
    print(f"sentences ({len(texts)}): CER clean script {s['cer_clean']:.3f}, samples "
          f"{s['cer_samples']:.3f}, ratio {s['ratio']:.2f} (goal <= 1.3)")
    print(f"paragraph ({p['lines']} lines, chained {p['chained']}): CER {p['cer']:.3f} "
          f"(clean script {p['cer_clean']:.3f}); per line "
          + " ".join(f"{c:.2f}" for c in p["cer_per_line"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
