"""Four-part writing by numbers: free samples and harmonized tunes against held-out Bach.

Three sets from one model (a run or the shipped ``chorales``), judged by the same per-voice
measures (seqgen_music/voicestats.py, cross-checked with music21's voice-leading tools in the
tests), beside the floor: the held-out Bach chorales themselves.

- **samples**: ``--num`` free pieces of ``--length`` (30 s);
- **harmonized**: the soprano of each held-out chorale (in its written key; the engine's split,
  so the model never saw the tune nor Bach's harmonization of it), written to MusicXML and read
  back by ``--melody`` as a user's file would be, then harmonized; their soprano must come back
  note for note;
- **tunes**: the hymn and folk tunes that ship with the plugin (``--melody old-hundredth``).

Copying: the share of the samples' 32-token n-grams found verbatim in the training chorales.

    python benchmarks/chorale_harmonize.py [--run RUN] [--num 8] [--tunes 24] [--seed 1]
        [--temperature T] [--top-p P] [--no-rules]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any


def held_out_bach(model: Any) -> tuple[list[Any], list[Any]]:
    """The run's held-out chorales, one per piece in its written key, and the training tokens."""
    from seqgen_music.commands import _split

    dom = model.domain
    pieces = list(dom.load_corpus(model.config["data"]["source"]).documents)
    tokens = [dom.encode(p) for p in pieces]
    train, held = _split(model, dom, tokens)
    written = [pieces[i] for i in held if "+" not in pieces[i].name
               and "-" not in pieces[i].name[3:]]  # bwvNNN.M, not bwvNNN.M+2
    return written, [tokens[i] for i in train]


def soprano_file(ch: Any, folder: Path) -> Path:
    """The chorale's soprano alone as a MusicXML file (the other parts resting)."""
    from seqgen_music import chorale, render_voices

    alone = chorale.empty(ch.frames, ch.bar, ch.tonic, ch.minor, ch.name)
    alone.pitch[:, 0], alone.attack[:, 0] = ch.pitch[:, 0], ch.attack[:, 0]
    alone.fermata[:], alone.pos[:] = ch.fermata, ch.pos
    path = folder / f"{ch.name}.musicxml"
    render_voices.write_musicxml(alone, path, 100.0)
    return path


def harmonize(model: Any, sources: list[str], seed: int, temp: float | None,
              top_p: float = 1.0) -> list[Any]:
    out = []
    for i, src in enumerate(sources):
        out += model.sample(melody=src, seed=seed + i, temperature=temp, top_p=top_p)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=None, help="a run or shipped model (default: chorales)")
    ap.add_argument("--num", type=int, default=8)
    ap.add_argument("--length", default="30s")
    ap.add_argument("--tunes", type=int, default=24, help="held-out sopranos to harmonize")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=None)
    ap.add_argument("--top-p", type=float, default=1.0)
    ap.add_argument("--no-rules", action="store_true", help="-o voice_leading=false")
    args = ap.parse_args()

    import seqgen
    from seqgen_music import melody
    from seqgen_music import stats as st
    from seqgen_music import voicestats as vs

    model = seqgen.load(args.run) if args.run else seqgen.load(model="chorales")
    model.domain.options.voice_leading = not args.no_rules
    bach, known = held_out_bach(model)
    bach = bach[: args.tunes]
    t0 = time.perf_counter()
    samples = model.sample(num=args.num, length=args.length, seed=args.seed,
                           temperature=args.temperature, top_p=args.top_p)
    with tempfile.TemporaryDirectory() as tmp:
        files = [str(soprano_file(ch, Path(tmp))) for ch in bach]
        harmonized = harmonize(model, files, args.seed, args.temperature, args.top_p)
    tunes = harmonize(model, melody.tune_names(), args.seed, args.temperature, args.top_p)
    seconds = time.perf_counter() - t0
    kept = sum(h.line(0) == b.line(0) for h, b in zip(harmonized, bach, strict=True))
    sets = {"samples": samples, "harmonized": harmonized, "tunes": tunes, "held-out Bach": bach}
    copied = {name: st.copied_fraction([model.domain.encode(c) for c in group], known, 32)
              for name, group in sets.items()}
    rows = [("pieces", [str(len(g)) for g in sets.values()]),
            ("32-grams copied from training", [f"{100 * c:.1f} %" for c in copied.values()]),
            *vs.rows({name: vs.set_voice_stats(group) for name, group in sets.items()})]
    dom = model.domain
    temp = (f"{args.temperature:g}" if args.temperature is not None else
            f"the model's defaults ({dom.default_temperature:g} free, "
            f"{dom.melody_temperature or dom.default_temperature:g} harmonizing)")
    print(f"model {model.run_dir}; temperature {temp}, top-p {args.top_p:g}, rules "
          f"{'off' if args.no_rules else 'on'}, seed {args.seed}; {seconds:.0f} s to sample")
    print(f"soprano kept note for note in {kept} of {len(bach)} harmonized held-out tunes")
    print(st.table(rows, ["", *sets]))


if __name__ == "__main__":
    main()
