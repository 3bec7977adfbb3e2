"""The 10-minute text recipe search (issue 15 section 4): one training of the small preset with
some fields changed, on Tiny Shakespeare, for a fixed wall-clock budget, then the held-out loss.

Each call is one point of the search; docs/domains/text.md lists every point tried. Fields are
those of ModelConfig and TrainConfig (seqgen/config.py), including the ones the CLI does not
expose (weight_decay, clip, warmup, min_lr_ratio, schedule):

    python benchmarks/text_recipe.py --run runs/search/lr5e-3 --minutes 10 --threads 1 lr=5e-3
    python benchmarks/text_recipe.py --run runs/search/b16 --chars 7.7e6 batch_size=16

Prints one JSON line: the fields, steps, characters seen, tokens/s and the held-out loss
(``val``: nats/char on the whole last 10 % of the file, as in nanoGPT and ``seqgen eval``;
``val_closing``: the run's closing validation, which reads at most eval_batches batches).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"


def _value(text: str) -> object:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--chars", type=float, default=None,
                    help="train on this many characters instead of for --minutes (a budget that "
                         "does not depend on the machine's load: steps = chars / (batch x seq))")
    ap.add_argument("fields", nargs="*", help="KEY=VALUE over the small preset")
    args = ap.parse_args()
    import seqgen
    from seqgen import config

    fields = {k: _value(v) for k, v in (f.split("=", 1) for f in args.fields)}
    # the text domain's own tuning of the preset (TextDomain.preset_tuning) is the default here
    # too; a field the command line can set goes to seqgen.train and wins over that tuning, the
    # others (weight_decay, clip, warmup, ...) patch the preset
    from seqgen_text.domain import TextDomain

    base = TextDomain.preset("small")
    given = {k: v for k, v in fields.items() if k in config.Overrides.__dataclass_fields__}
    rest = {k: v for k, v in fields.items() if k not in given}
    model = {k: v for k, v in rest.items() if k in config.ModelConfig.__dataclass_fields__}
    train = {k: v for k, v in rest.items() if k in config.TrainConfig.__dataclass_fields__}
    if set(rest) - set(model) - set(train):
        raise SystemExit(f"unknown fields: {sorted(set(rest) - set(model) - set(train))}")
    config.PRESETS["small"] = config.Preset(dataclasses.replace(base.model, **model),
                                            dataclasses.replace(base.train, **train), base.help)
    p = config.tuned(config.PRESETS["small"], given, "text_recipe")  # what the run will use
    budget: dict[str, float | int] = {"max_time": args.minutes * 60}
    if args.chars:
        budget = {"max_steps": round(args.chars / (p.train.batch_size * p.train.seq_len))}
    t0 = time.time()
    res = seqgen.train("text", args.data, run=args.run, threads=args.threads,
                       eval_every=10**9, save_every=10**9, progress=False, **budget, **given)
    chars = res.step * p.train.batch_size * p.train.seq_len
    # the whole held-out split, as `seqgen eval` reads it: the closing validation reads at most
    # eval_batches batches, so fewer characters at a smaller batch (at batch 8, half the split)
    held_out = seqgen.load(args.run).evaluate()["nats/char"]
    print(json.dumps({"fields": fields, "steps": res.step, "chars": chars,
                      "tok_s": round(chars / res.elapsed), "val": held_out,
                      "val_closing": res.val_loss, "train": res.train_loss,
                      "wall": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
