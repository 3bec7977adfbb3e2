"""``seqgen``: train, sample, eval, domains, info. Each command parses, then calls the library.

Heavy modules (torch, the API) are imported inside commands, so ``seqgen --help`` is fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from seqgen import __version__
from seqgen.cli.commands import complete_domain, handles_errors, report_train
from seqgen.cli.runs_cmd import runs_app
from seqgen.cli.serve_cmd import serve
from seqgen.cli.style_cmd import style_app

app = typer.Typer(add_completion=True, no_args_is_help=True, rich_markup_mode=None,
                  help="Generative sequence models: one LSTM engine, domains as plugins.",
                  pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        print(f"seqgen {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False
         ) -> None:
    """Generative sequence models: one LSTM engine, domains as plugins."""


DomainOpt = Annotated[str, typer.Option("--domain", "-d", autocompletion=complete_domain,
                                        help="Domain plugin (see `seqgen domains`).")]
LatestOpt = Annotated[str | None, typer.Option("--domain", "-d", autocompletion=complete_domain,
                                               help="Use this domain's latest run.")]
RunOpt = Annotated[Path | None, typer.Option("--run", help="Run directory.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="A shipped model by name "
                                              "(seqgen models lists them).")]
ThreadsOpt = Annotated[int | None, typer.Option(
    help="CPU threads for torch (default: one for a small model, else the cores other jobs "
         "leave free, measured at the start and, while training, every 10 s; "
         "OMP_NUM_THREADS is honoured).")]


@app.command()
@handles_errors
def train(
    domain: Annotated[str | None, typer.Option(
        "--domain", "-d", autocompletion=complete_domain,
        help="Domain plugin (see `seqgen domains`; default text, or the --init-from "
             "model's).")] = None,
    data: Annotated[str | None, typer.Option(help="Corpus: file, directory, glob or dataset name "
                                             "(default: the domain's embedded corpus).")] = None,
    run: Annotated[Path | None, typer.Option(
        "--run", "--run-dir",
        help="Run directory (default runs/DOMAIN/TIME); --run-dir is the same, and is the "
             "spelling to use after torchrun, whose own --run-path swallows --run.")] = None,
    preset: Annotated[str | None, typer.Option(
        help="tiny | small | medium | large (default small).")] = None,
    init_from: Annotated[str | None, typer.Option(
        "--init-from", metavar="RUN_OR_MODEL",
        help="Fine-tune: start from a run directory or a shipped model (seqgen models): its "
             "weights, codec and shape; new symbols of --data grow its vocabulary.")] = None,
    layers: Annotated[int | None, typer.Option(help="LSTM layers.")] = None,
    hidden: Annotated[int | None, typer.Option(help="LSTM units per layer.")] = None,
    embed: Annotated[int | None, typer.Option(help="Input embedding size.")] = None,
    skip: Annotated[bool | None, typer.Option("--skip/--no-skip",
                                              help="Skip connections (Graves 2013).")] = None,
    seq_len: Annotated[int | None, typer.Option(help="Steps per chunk (truncated BPTT).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Parallel streams per batch.")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    dropout: Annotated[float | None, typer.Option(help="Dropout probability.")] = None,
    feedback_dropout: Annotated[float | None, typer.Option(
        help="Hide a training step's previous frame at this rate (speech).")] = None,
    optimizer: Annotated[str | None, typer.Option(help="adam | adamw | rmsprop.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps.")] = None,
    max_time: Annotated[str | None, typer.Option(
        help="Stop after this long: 90s, 10m, 1h. Alone, it replaces the preset's step "
             "count; with --max-steps, whichever comes first.")] = None,
    eval_every: Annotated[int | None, typer.Option(help="Validate every N steps.")] = None,
    save_every: Annotated[int | None, typer.Option(help="Checkpoint every N steps.")] = None,
    log_every: Annotated[int | None, typer.Option(help="Log metrics every N steps.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed: same seed, same run.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue --run (or the latest run) "
                                         "from its last checkpoint.")] = False,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | mps.")] = None,
    option: Annotated[list[str] | None, typer.Option("-o", "--option", metavar="KEY=VALUE",
                                                     help="Domain option (repeatable).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or progress "
                                        "lines.")] = False,
    nproc: Annotated[int, typer.Option(help="Data-parallel processes on this machine "
                                       "(torchrun + DDP; gloo on CPU, NCCL on GPU).")] = 1,
    threads: ThreadsOpt = None,
) -> None:
    """Train a model on a corpus (or resume one)."""
    if nproc > 1 and "WORLD_SIZE" not in os.environ:
        from seqgen.runs import new_run_dir

        target = run or (None if resume else new_run_dir(domain or "text"))
        raise typer.Exit(_relaunch(nproc, target))
    from seqgen.api import progress_plan
    from seqgen.api import train as api_train
    from seqgen.cli.progress import train_progress
    from seqgen.config import Overrides

    total, seconds = progress_plan(preset=preset, max_steps=max_steps, max_time=max_time,
                                   resume=resume, run=run, domain=domain,
                                   init_from=init_from)
    overrides = Overrides(layers=layers, hidden=hidden, embed=embed, dropout=dropout, skip=skip,
                          feedback_dropout=feedback_dropout,
                          seq_len=seq_len, batch_size=batch_size, lr=lr, optimizer=optimizer,
                          max_steps=max_steps, max_time=max_time, eval_every=eval_every,
                          save_every=save_every, log_every=log_every, seed=seed, device=device)
    from seqgen.engine.status import silenced

    with silenced(quiet), train_progress(total, enabled=not quiet, seconds=seconds) as update:
        result = api_train(domain, data, run=run, preset=preset, options=option, resume=resume,
                           progress=update, overrides=overrides, threads=threads,
                           init_from=init_from)
    report_train(result)


@app.command()
@handles_errors
def sample(
    domain: LatestOpt = None,
    run: RunOpt = None,
    num: Annotated[int, typer.Option(help="How many samples.")] = 1,
    length: Annotated[str | None, typer.Option(help="Maximum length per sample: steps, or the "
                                               "domain's units (e.g. 30s for music).")] = None,
    prime: Annotated[str | None, typer.Option(help="Start the sample from this.")] = None,
    melody: Annotated[str | None, typer.Option(help="Harmonize this tune (music: MusicXML, "
                                               "MIDI or ABC; its top voice kept).")] = None,
    keep_prime: Annotated[bool | None, typer.Option(
        "--keep-prime/--no-keep-prime",
        help="Include the prime in the output (default: the domain's choice).")] = None,
    temperature: Annotated[float | None, typer.Option(
        help="0 = greedy; <1 safer, >1 wilder. Default: the domain's (1, music 0.8 ...).")] = None,
    top_k: Annotated[int, typer.Option(help="Sample among the K likeliest (0 = all).")] = 0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass (1 = off).")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Random seed: same seed, same sample.")] = None,
    render: Annotated[Path | None, typer.Option(help="Write samples to OUT.EXT; the suffix "
                                                "picks the renderer.")] = None,
    text: Annotated[str | None, typer.Option(help="Text to write or speak (text-conditioned "
                                             "models; one line per line). Default: held-out "
                                             "lines of the run's corpus, named on "
                                             "stderr.")] = None,
    text_file: Annotated[Path | None, typer.Option(help="Read --text from this file.")] = None,
    bias: Annotated[float | None, typer.Option(help="Sampling bias toward the likeliest "
        "output (Graves 2013; 0 = none). Default: the domain's.")] = None,
    prime_style: Annotated[str | None, typer.Option(
        metavar="N_OR_NAME", help="Prime with the model's N-th style example, or with a "
                                  "style saved by name (seqgen style list).")] = None,
    voice: Annotated[str | None, typer.Option(help="Speaker of a model trained on several "
                                              "(speech -o voices=); default its first. "
                                              "seqgen info lists them.")] = None,
    attention: Annotated[Path | None, typer.Option(help="Plot the attention window over the "
                                                   "text to this PNG.")] = None,
    rate: Annotated[float | None, typer.Option(help="Speed of speech: durations divided by "
                                               "it (speech; -o rate=).")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "-o", "--option", metavar="KEY=VALUE",
        help="Render option of the domain (repeatable; seqgen domains --options NAME marks "
             "them).")] = None,
    threads: ThreadsOpt = None,
    model: ModelOpt = None,
    redraw: Annotated[int, typer.Option(help="Draw a line that went wrong (far more steps "
                                        "than its text needs) again, up to N times.")] = 2,
    no_tuned: Annotated[bool, typer.Option(
        "--no-tuned", help="With --prime-style NAME: the model's own weights, not those "
                           "fine-tuned on that style (seqgen style tune).")] = False,
) -> None:
    """Generate from a trained model (--run, --model, the domain's latest run, else the model
    its plugin ships)."""
    from seqgen.api import sample_cli
    from seqgen.engine.settings import SampleSettings
    from seqgen.styles import parse_style

    settings = SampleSettings(num=num, length=length, prime=prime, keep_prime=keep_prime,
                              temperature=temperature, top_k=top_k, top_p=top_p, bias=bias,
                              seed=seed, text=text, style=parse_style(prime_style), voice=voice,
                              melody=melody, redraw=redraw)
    options = [*(option or []), f"rate={rate}"] if rate is not None else option
    sample_cli(settings, domain=domain, run=run, render=render, text_file=text_file,
               attention=attention, options=options, threads=threads, model_name=model,
               tuned=not no_tuned)


@app.command("eval")
@handles_errors
def eval_(
    domain: LatestOpt = None,
    run: RunOpt = None,
    data: Annotated[str | None, typer.Option(help="Evaluate on this corpus instead of the "
                                             "run's validation split.")] = None,
    threads: ThreadsOpt = None,
    model: ModelOpt = None,
) -> None:
    """Held-out loss in the domain's own units (bits per character for text)."""
    from seqgen.api import eval_cli

    scores = eval_cli(domain=domain, run=run, data=data, threads=threads, model_name=model)
    for name, value in scores.items():
        print(f"{name}\t{value:.4f}")


@app.command()
@handles_errors
def domains(
    options: Annotated[str | None, typer.Option("--options", help="List the -o options of this "
                                                "domain.", autocompletion=complete_domain)] = None,
) -> None:
    """List installed domains (or one domain's options)."""
    from seqgen.cli.tables import domain_options_table, domains_table

    domains_table() if options is None else domain_options_table(options)


@app.command()
@handles_errors
def info(run: Annotated[Path | None, typer.Argument(
             help="Run directory, or a runs/DOMAIN/latest pointer.")] = None,
         domain: LatestOpt = None, model: ModelOpt = None) -> None:
    """Show what a run holds (a run directory, the latest run of --domain, or a shipped
    model)."""
    from seqgen.cli.tables import run_info
    from seqgen.models import resolve

    run_info(resolve(run, domain, model))


@app.command("models")
@handles_errors
def models_(domain: Annotated[str | None, typer.Option(
    "--domain", "-d", help="Only this domain's models.", autocompletion=complete_domain)] = None,
) -> None:
    """List the pretrained models the installed plugins ship (docs/models.md)."""
    from seqgen.cli.tables import models_table

    models_table(domain)


app.add_typer(runs_app, name="runs")
app.add_typer(style_app, name="style")


@app.command("new-domain")
@handles_errors
def new_domain(
    name: Annotated[str, typer.Argument(help="Domain name: lowercase letters, digits, _.")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create seqgen-NAME/.")] = Path(
        "."),
) -> None:
    """Write a plugin package skeleton for a new domain (its tests pass as written)."""
    from seqgen.scaffold import new_domain as scaffold

    root = scaffold(name, directory)
    print(f"wrote {root}: pip install -e {root} && seqgen domains")


@app.command()
@handles_errors
def export(run: Annotated[Path | None, typer.Argument(
               help="Run directory, or a runs/DOMAIN/latest pointer.")] = None,
           domain: LatestOpt = None,
           fmt: Annotated[str, typer.Option("--format", help="onnx.")] = "onnx",
           out: Annotated[Path, typer.Option("--output", "-o", help="File to write (its "
                                             "description goes to OUT.json).")] = Path(
               "model.onnx"),
           model: ModelOpt = None) -> None:
    """Write one step of a run's network with explicit state, for any runtime (docs/export.md)."""
    from seqgen.export import export_onnx, sidecar

    print(f"wrote {export_onnx(run, out, fmt=fmt, domain=domain, model=model)} and "
          f"{sidecar(out)}")


@app.command()
@handles_errors
def plugins() -> None:
    """List installed plugins and the hooks each implements."""
    from seqgen.cli.tables import plugins_table

    plugins_table()


app.command()(serve)


def _relaunch(nproc: int, run: Path | None) -> int:
    """Run this same command under torchrun with nproc processes (and one shared --run)."""
    from seqgen.engine.distributed import launch

    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            argv.append(arg)
    if run is not None and "--run" not in argv and "--run-dir" not in argv:
        argv += ["--run-dir", str(run)]
    argv = ["--run-dir" if a == "--run" else a for a in argv]
    return launch(nproc, argv)


def main() -> None:
    """Console-script entry point."""
    from seqgen import plugins

    plugins.register_commands(app)
    app()


if __name__ == "__main__":
    main()
