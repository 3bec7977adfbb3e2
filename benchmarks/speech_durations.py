"""How close the duration model's phoneme durations are to eSpeak NG's own, on unseen sentences.

For sentences of 5 to 12 words under a seed of their own (benchmarks/speech_whisper.py's), the
run's duration model (``RUN/durations``) gives each phoneme's frames from eSpeak's phonemes
(the dominant component's mean, as sampling takes it); eSpeak's own phoneme events give the
truth. Prints the mean absolute error in frames (11.6 ms), the share within one frame, the
correlation, and each sentence's total length against eSpeak's.

    python benchmarks/speech_durations.py [--run RUN_OR_MODEL] [--sentences 100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_whisper import unseen  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=None, help="a run or shipped model (default: speech's)")
    ap.add_argument("--sentences", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()

    import seqgen
    from seqgen.engine.sample import SampleSettings
    from seqgen_speech import aligned, modes

    model = seqgen.load(args.run or "speech").companion("durations")
    texts = unseen(args.sentences, args.seed)
    said = [modes.say(t, "en-us") for t in texts]
    known = [aligned.phone_track(p, model.domain.inventory, t.rstrip().endswith("?"))
             for (p, _), t in zip(said, texts, strict=True)]
    steps = model.sample_steps(known, SampleSettings(bias=10.0, seed=0))
    pred = [modes.durations_of(model.domain, s, 1.0) for s in steps]
    true = [d for _, d in said]
    e = np.abs(np.concatenate(pred) - np.concatenate(true))
    ratio = np.array([p.sum() / t.sum() for p, t in zip(pred, true, strict=True)])
    r = np.corrcoef(np.concatenate(true), np.concatenate(pred))[0, 1]
    print(f"{len(texts)} unseen sentences, {len(e)} phonemes")
    print(f"mean |error| {e.mean():.2f} frames, within 1 frame {np.mean(e <= 1):.1%}, "
          f"correlation {r:.3f}")
    print(f"sentence length / eSpeak's: mean {ratio.mean():.3f}, {ratio.min():.3f} to "
          f"{ratio.max():.3f}")


if __name__ == "__main__":
    main()
