"""Small corpora of other kinds for fine-tuning measurements (benchmarks/bench_finetune.py).

Everything is made on this machine from what a Python and seqgen's extras ship, so anyone can
make the same files:

- ``text-code.txt``: the first 120,000 characters of the standard library's ``json`` and
  ``email`` packages' sources (code: brackets, underscores, digits the plays never show);
- ``text-docs.txt``: the last 120,000 characters of the Python help topics (pydoc_data);
- ``text-licences.txt`` and ``text-vim.txt``, where Debian's files are installed: the first
  120,000 characters of /usr/share/common-licenses (its files in name order, links skipped)
  and the first 120,000 bytes of Vim's doc/todo.txt;
- ``handwriting/``: 300 lines by one writer the shipped corpus does not have (synth.py's
  writer model with another seed), as sjvasquez/handwriting-synthesis style pairs
  (``style-N-strokes.npy`` rows dx, dy, end of stroke; ``style-N-chars.npy``);
- ``speech/``: 200 sentences in an eSpeak NG voice and pitch the shipped corpus does not use
  (en-gb-x-gbclan at pitch 70, a third of them questions), in the LJSpeech layout
  (``wavs/ID.wav`` and ``metadata.csv``).

    python benchmarks/finetune_corpora.py OUT_DIR [--only text,handwriting,speech]
"""

from __future__ import annotations

import argparse
import sysconfig
from pathlib import Path

import numpy as np


def text(out: Path) -> None:
    import pydoc_data.topics as topics

    root = Path(sysconfig.get_paths()["stdlib"])
    code = "".join(f.read_text(encoding="utf-8") for pkg in ("json", "email")
                   for f in sorted((root / pkg).glob("*.py")))
    (out / "text-code.txt").write_text(code[:120_000], encoding="utf-8")
    docs = "".join(topics.topics[k] for k in sorted(topics.topics))
    (out / "text-docs.txt").write_text(docs[-120_000:], encoding="utf-8")
    licences = Path("/usr/share/common-licenses")
    if licences.is_dir():
        found = "".join(p.read_text(errors="replace") for p in sorted(licences.iterdir())
                        if p.is_file() and not p.is_symlink())
        (out / "text-licences.txt").write_text(found[:120_000], encoding="utf-8")
    vim = sorted(Path("/usr/share/vim").glob("vim*/doc/todo.txt"))
    if vim:
        (out / "text-vim.txt").write_bytes(vim[-1].read_bytes()[:120_000])


def handwriting(out: Path, lines: int = 300) -> None:
    from seqgen_handwriting import synth, texts

    folder = out / "handwriting"
    folder.mkdir(parents=True, exist_ok=True)
    writer = synth.make_writers(1, seed=11)[0]
    for i, line in enumerate(texts.make_texts(lines, seed=11, max_chars=75)):
        polys = synth.write_line(line, writer, np.random.default_rng([11, i]))
        coords = np.concatenate([np.c_[p, np.r_[np.zeros(len(p) - 1), 1.0]] for p in polys])
        rows = np.c_[np.diff(coords[:, :2], axis=0), coords[1:, 2]]
        np.save(folder / f"style-{i}-strokes.npy",
                np.concatenate([[[0.0, 0.0, 1.0]], rows]).astype(np.float32))
        np.save(folder / f"style-{i}-chars.npy", np.array(line.encode()))


def speech(out: Path, count: int = 200) -> None:
    import soundfile

    from seqgen_speech import corpus

    folder = out / "speech"
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(23)
    meta = []
    for i in range(count):
        said = corpus.sentence(rng)
        said = said[:-1] + "?" if i % 3 == 0 and said.endswith(".") else said
        audio = corpus.speak(said, "en-gb-x-gbclan", 175, 70)
        soundfile.write(folder / "wavs" / f"u{i:04d}.wav", audio, corpus.SAMPLE_RATE)
        meta.append(f"u{i:04d}|{said}|{said}")
    (folder / "metadata.csv").write_text("\n".join(meta) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--only", default="text,handwriting,speech")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    makers = {"text": text, "handwriting": handwriting, "speech": speech}
    for name in args.only.split(","):
        makers[name](args.out)
        print(f"wrote {name} under {args.out}")


if __name__ == "__main__":
    main()
