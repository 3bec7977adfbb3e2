"""``seqgen stats``: sample a music run and compare the samples with its corpus."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def add_commands(cli: typer.Typer) -> None:
    from seqgen.cli.commands import handles_errors

    @cli.command("stats")
    @handles_errors
    def stats(
        domain: Annotated[str, typer.Option("--domain", "-d",
                                            help="Use this domain's latest run.")] = "music",
        run: Annotated[Path | None, typer.Option(help="Run directory.")] = None,
        num: Annotated[int, typer.Option(help="How many samples to draw.")] = 8,
        length: Annotated[str, typer.Option(help="Length of each sample: events or seconds "
                                            "(30s).")] = "30s",
        temperature: Annotated[float | None, typer.Option(
            help="Sampling temperature (default: the model's, 0.8 for voices).")] = None,
        seed: Annotated[int | None, typer.Option(help="Random seed.")] = 1,
        ngram: Annotated[int, typer.Option(help="n of the event n-grams checked for verbatim "
                                           "copies of the training pieces.")] = 32,
    ) -> None:
        """Music: statistics of samples against the corpus (copying or inventing?)."""
        print(music_stats(domain, run, num, length, temperature, seed, ngram))


def music_stats(domain: str, run: Path | None, num: int, length: str, temperature: float | None,
                seed: int | None, ngram: int) -> str:
    """The table that ``seqgen stats`` prints."""
    from seqgen.errors import SeqgenError
    from seqgen_music import harmony as hm
    from seqgen_music import stats as st

    if num < 1 or ngram < 2:
        raise SeqgenError("need --num >= 1 and --ngram >= 2")
    model, dom = _music_run(domain, run)
    source = model.config["data"]["source"]
    pieces = list(dom.load_corpus(source).documents)
    tokens = [dom.encode(p) for p in pieces]
    train, held = _split(model, dom, tokens)
    samples = model.sample(num=num, length=length, temperature=temperature, seed=seed)
    if temperature is None:
        temperature = float(dom.default_temperature)
    groups = {"training": [pieces[i] for i in train], "held-out": [pieces[i] for i in held],
              "samples": samples}
    known = [tokens[i] for i in train]
    copied = {"training": None,
              "held-out": st.copied_fraction([tokens[i] for i in held], known, ngram),
              "samples": st.copied_fraction([dom.encode(s) for s in samples], known, ngram)}
    head = (f"run {model.run_dir}; {num} samples of {length} at temperature {temperature:g}, "
            f"seed {seed}; corpus {source or '(default)'}")
    note = ("copying: the samples' n-gram figure far above the held-out one means the model "
            "reproduces training passages rather than inventing")
    print(head, file=sys.stderr)
    if dom.voiced:  # four true voices (Chorale objects), not note arrays
        from seqgen_music import voicestats as vs

        rows = vs.summary_rows(groups, copied, ngram, float(dom.options.qpm))
        return st.table(rows, ["", *groups]) + "\n" + note
    sets = {name: st.set_stats([p.notes for p in group]) for name, group in groups.items()}
    harmony = {name: hm.set_harmony([p.notes for p in group]) for name, group in groups.items()}
    rows = _rows(sets, copied, ngram) + hm.rows(harmony)
    return st.table(rows, ["", *sets]) + "\n" + note


def _music_run(domain: str, run: Path | None) -> tuple[Any, Any]:
    """The run (``run``, the domain's latest, or its shipped model) and its domain, which
    must be music."""
    from seqgen import models
    from seqgen.errors import SeqgenError
    from seqgen.inference import Model
    from seqgen_music.domain import MusicDomain

    model = Model(models.resolve(run, domain if run is None else None))
    dom: Any = model.domain
    if not isinstance(dom, MusicDomain):
        raise SeqgenError(f"seqgen stats compares music samples; {model.run_dir} is a "
                          f"{dom.name!r} run")
    return model, dom


def _split(model: Any, dom: Any, tokens: list[Any]) -> tuple[list[int], list[int]]:
    """The indices of the training and of the held-out pieces, as the engine split the run's
    corpus (``seqgen.engine.holdout``), from each piece's events."""
    from seqgen.engine.holdout import held_out_documents
    from seqgen.engine.specs import Batching

    held = held_out_documents([len(t) for t in tokens],
                              float(model.config["train"].get("val_fraction", 0.1)),
                              sequences=Batching(dom.batching) is Batching.SEQUENCES,
                              separator=dom.separator() is not None)
    kept = set(held)
    return [i for i in range(len(tokens)) if i not in kept], held


def _rows(sets: dict[str, Any], copied: dict[str, float | None],
          ngram: int) -> list[tuple[str, list[str]]]:
    from seqgen_music import stats as st

    def pct(x: float | None) -> str:
        return "-" if x is None or x != x else f"{100 * x:.1f} %"

    cols = list(sets)
    ref = sets["training"].pitch_classes
    return [
        ("pieces", [str(sets[c].pieces) for c in cols]),
        ("seconds per piece", [f"{sets[c].seconds:.1f}" for c in cols]),
        ("notes per second", [f"{sets[c].notes_per_second:.2f}" for c in cols]),
        ("polyphony (notes sounding)", [f"{sets[c].polyphony:.2f}" for c in cols]),
        ("pitch range per piece", [f"{sets[c].pitch_range:.1f}" for c in cols]),
        ("lowest-highest pitch", [f"{sets[c].lowest}-{sets[c].highest}" for c in cols]),
        ("pitch-class distance (TV)",
         [f"{st.histogram_distance(sets[c].pitch_classes, ref):.3f}" for c in cols]),
        (f"{ngram}-grams copied from training", [pct(copied[c]) for c in cols]),
    ]
