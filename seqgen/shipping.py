"""Make a trained run into a shipped model: float16 weights, its config and a model card.

    python -m seqgen.shipping RUN DEST --name NAME --corpus "..." --command "seqgen train ..." \
        --commit SHA --machine "..." [--figure KEY=VALUE ...]

DEST (a plugin's ``models/NAME/``) gets ``config.json`` as the run wrote it,
``model.safetensors`` with every floating-point tensor in float16 (``seqgen.load`` reads them
back as float32), and ``model.json``, the card (docs/models.md). The directory is written
under a temporary name and renamed into place, so a failed copy leaves no half model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from seqgen.errors import SeqgenError
from seqgen.fileio import dumps
from seqgen.modelcard import CARD, CARD_FORMAT


def card(config: dict[str, Any], name: str, corpus: str, recipe: dict[str, Any],
         figures: dict[str, Any], parameters: int) -> dict[str, Any]:
    """The model card: what, trained how, how good."""
    return {"format": CARD_FORMAT, "name": name, "domain": config["domain"]["name"],
            "corpus": corpus, "dtype": "float16", "parameters": parameters,
            "steps": config.get("step", 0), "recipe": recipe, "figures": figures}


def ship(run_dir: Path, dest: Path, *, name: str, corpus: str, recipe: dict[str, Any],
         figures: dict[str, Any]) -> Path:
    """Write run_dir as a shipped model at dest (replacing what is there); return dest."""
    from seqgen.engine import checkpoint as ckpt

    config = ckpt.read_config(run_dir)
    wrong = check_recipe(recipe["command"], config)
    if wrong:
        raise SeqgenError(f"{run_dir}: the recipe is not the run's: {'; '.join(wrong)}")
    stage = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(stage, ignore_errors=True)
    count = _half(run_dir, stage)
    # an aligned run's companion models (the speech duration model) live in its folders
    for sub in sorted(p for p in run_dir.iterdir() if (p / "config.json").is_file()):
        count += _half(sub, stage / sub.name)
    info = card(config, name, corpus, recipe, figures, count)
    (stage / CARD).write_text(dumps(info, indent=2) + "\n", encoding="utf-8")
    (stage / CARD).chmod(0o644)
    old = dest.with_name(f".{dest.name}.old")
    if dest.exists():
        shutil.rmtree(old, ignore_errors=True)
        dest.rename(old)
    stage.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest


def _half(run_dir: Path, stage: Path) -> int:
    """config.json and float16 weights of run_dir into stage; the weights' count."""
    from seqgen.engine import checkpoint as ckpt

    tensors = ckpt.load_tensors(run_dir / "model.safetensors")
    half = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    stage.mkdir(parents=True)
    shutil.copyfile(run_dir / "config.json", stage / "config.json")
    ckpt.save_tensors(half, stage / "model.safetensors")
    for f in (stage / "config.json", stage / "model.safetensors"):
        f.chmod(0o644)  # package data: readable by every user of the installation
    return sum(int(v.numel()) for v in tensors.values())


#: `seqgen train` flags and where config.json keeps what they set
_FLAGS = {"--layers": ("model", "layers"), "--hidden": ("model", "hidden"),
          "--embed": ("model", "embed"), "--dropout": ("model", "dropout"),
          "--feedback-dropout": ("model", "feedback_dropout"),
          "--seq-len": ("train", "seq_len"), "--batch-size": ("train", "batch_size"),
          "--lr": ("train", "lr"), "--optimizer": ("train", "optimizer"),
          "--seed": ("train", "seed"), "--max-steps": ("train", "max_steps")}


def _expected(flags: dict[str, str], config: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """The config.json fields a recipe's flags and preset set, where they are kept."""
    from seqgen import plugins
    from seqgen.config import parse_duration

    want = plugins.get_domain(config["domain"]["name"]).preset(flags.get("--preset", "small"))
    expect: dict[tuple[str, str], Any] = {
        ("model", k): v for k, v in vars(want.model).items()}
    expect.update({("train", k): v for k, v in vars(want.train).items()
                   if k in ("seq_len", "batch_size", "lr", "seed")})
    for flag, where in _FLAGS.items():
        if flag in flags:
            kind = type(config[where[0]].get(where[1], 0.0))
            expect[where] = kind(flags[flag])
    # a run that trains companion models first (Aligned.companions) keeps the rest
    own = 1 - sum(config.get("companions", {}).values())
    if "--max-steps" in flags and own < 1:
        expect[("train", "max_steps")] = max(1, round(int(flags["--max-steps"]) * own))
    if "--max-time" in flags:
        seconds = parse_duration(flags["--max-time"])
        expect[("train", "max_time")] = None if seconds is None else seconds * own
    return expect


def check_recipe(command: str, config: dict[str, Any]) -> list[str]:
    """What in a `seqgen train` command line disagrees with the run's config.json (empty
    when the recipe is the one that made the run)."""
    import shlex

    from seqgen.config import ModelConfig, TrainConfig, from_dict, to_dict

    args = shlex.split(command)
    if args[:2] != ["seqgen", "train"]:
        return [f"not a `seqgen train` command: {command!r}"]
    flags: dict[str, str] = {}
    opts: dict[str, str] = {}
    for flag, value in zip(args[2:], args[3:], strict=False):
        if flag in ("-o", "--option"):
            key, _, v = value.partition("=")
            opts[key] = v
        elif flag.startswith("-"):
            flags[flag] = value
    expect = _expected(flags, config)
    # a field newer than the run (absent from its config.json) has its default there
    have = {"model": to_dict(from_dict(ModelConfig, config["model"])),
            "train": to_dict(from_dict(TrainConfig, config["train"]))}
    wrong = [f"{a}.{b}: the recipe says {v!r}, config.json {have[a].get(b)!r}"
             for (a, b), v in expect.items() if have[a].get(b) != v]
    domain = config["domain"]
    if flags.get("--domain", flags.get("-d", "text")) != domain["name"]:
        wrong.append(f"domain: the recipe says {flags.get('--domain')!r}, config.json "
                     f"{domain['name']!r}")
    if flags.get("--data") != config["data"].get("source"):
        wrong.append(f"data: the recipe says {flags.get('--data')!r}, config.json "
                     f"{config['data'].get('source')!r}")
    wrong += [f"-o {k}: the recipe says {v!r}, config.json {domain['options'].get(k)!r}"
              for k, v in opts.items() if str(domain["options"].get(k)) != v]
    # a recipe is a command anyone can run: its run directory is not one of the machine that
    # trained it (the data must be the run's own, checked above)
    run = flags.get("--run", flags.get("--run-dir", ""))
    if run.startswith(("/", "~")) or ":\\" in run:
        wrong.append(f"--run {run}: a path of the machine that trained it (give a relative one, "
                     f"or none)")
    return wrong


def _figure(item: str) -> tuple[str, Any]:
    key, sep, value = item.partition("=")
    if not sep:
        raise SeqgenError(f"--figure {item!r}: give KEY=VALUE")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seqgen.shipping", description=__doc__)
    p.add_argument("run", type=Path)
    p.add_argument("dest", type=Path)
    for flag in ("--name", "--corpus", "--command", "--commit", "--machine", "--trained"):
        p.add_argument(flag, required=flag in ("--name", "--command"), default="")
    p.add_argument("--figure", action="append", default=[], help="KEY=VALUE (JSON value)")
    a = p.parse_args(argv)
    recipe = {"command": a.command, "commit": a.commit, "machine": a.machine,
              "trained": a.trained}
    try:
        figures = dict(_figure(f) for f in a.figure)
        out = ship(a.run, a.dest, name=a.name, corpus=a.corpus, recipe=recipe, figures=figures)
    except SeqgenError as exc:
        print(f"seqgen.shipping: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
