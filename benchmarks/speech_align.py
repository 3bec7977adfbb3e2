"""How well forced alignment times the phonemes of recordings (issue 25 section 5).

Writes N sentences spoken by eSpeak NG as a folder in the LJSpeech layout (``wavs/*.wav`` and
``metadata.csv``), reads it as ``seqgen train --domain speech --data DIR -o mode=phonemes``
does (the CTC recogniser trained on the recordings, then the Viterbi path), and compares each
phoneme boundary with eSpeak's own (its phoneme events, the truth here), beside a baseline that
spreads the phonemes evenly over the speech. Prints the mean boundary error in frames (11.6 ms)
and the share within 2 frames.

    python benchmarks/speech_align.py [--sentences 300] [--seconds 120]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def write_folder(root: Path, n: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """The LJSpeech layout of n eSpeak sentences; each one's phonemes and their true first
    frames (pauses apart)."""
    import soundfile as sf

    from seqgen_speech import corpus
    from seqgen_speech.espeak import timed
    from seqgen_speech.features import log_mel
    from seqgen_speech.sentences import sentence

    rng = np.random.default_rng([seed, 424242])
    (root / "wavs").mkdir(parents=True)
    lines, truth = [], []
    for i in range(n):
        text = sentence(rng)
        audio, phones = timed(text)
        span = corpus.trim_span(audio)
        clip = audio[span[0]:span[1]]
        names, dur = corpus.frame_durations(phones, span, len(log_mel(clip)))
        sf.write(str(root / "wavs" / f"u{i:04d}.wav"), clip, 22050, subtype="PCM_16")
        lines.append(f"u{i:04d}|{text}|{text}")
        at = np.concatenate([[0], np.cumsum(dur)[:-1]])  # each phone's first frame
        truth.append((" ".join(n for n in names if n), at[[j for j, n in enumerate(names)
                                                             if n]]))
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return truth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    from seqgen.domain import parse_options
    from seqgen_speech.domain import SpeechDomain, SpeechOptions

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lj"
        truth = write_folder(root, args.sentences, args.seed)
        dom = SpeechDomain(parse_options(SpeechOptions, {
            "mode": "phonemes", "align_seconds": str(args.seconds)}))
        docs = dom.load_corpus(str(root)).documents
    by_name = {d.name: d for d in docs}
    err, base = [], []
    for i, (_, true_starts) in enumerate(truth):
        d = by_name.get(f"u{i:04d}.wav")
        if d is None or d.durations is None:
            continue
        got = np.asarray(d.durations)  # the lead-in, then each phoneme's frames
        ours = np.cumsum(got)[:-1]  # each phoneme's first frame
        if len(ours) != len(true_starts):
            continue  # eSpeak read the text differently when speaking it: not comparable
        even = np.linspace(true_starts[0], got.sum(), len(true_starts), endpoint=False)
        err.append(np.abs(ours - true_starts))
        base.append(np.abs(even - true_starts))
    e, b = np.concatenate(err), np.concatenate(base)
    print(f"{len(err)} of {len(truth)} recordings compared, {len(e)} phoneme boundaries")
    print(f"{'':22s} {'mean |error| frames':>20s} {'within 2 frames':>16s}")
    print(f"{'CTC forced alignment':22s} {e.mean():20.2f} {np.mean(e <= 2):16.1%}")
    print(f"{'evenly spread':22s} {b.mean():20.2f} {np.mean(b <= 2):16.1%}")


if __name__ == "__main__":
    main()
