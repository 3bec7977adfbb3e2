"""``seqgen style``: the saved styles (a writer's own hand, seqgen/styles.py): ``save NAME
FILES...``, ``list``, ``tune NAME`` (seqgen/style_tuning.py), ``rm NAME``. Each command parses,
then calls one library function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from seqgen.cli.commands import handles_errors

style_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True)

StyleDomain = Annotated[str | None, typer.Option(
    "--domain", "-d", help="The domain (default: the one installed domain that keeps styles: "
                           "handwriting).")]


@style_app.callback()
def style() -> None:
    """Saved styles, a writer's own hand: `seqgen sample --prime-style NAME` writes in it."""


@style_app.command("save")
@handles_errors
def style_save(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The style's name: 1 to 40 "
                                        "letters, digits, - and _.")],
    sources: Annotated[list[str], typer.Argument(
        metavar="FILES_OR_DIRS...", help="Ink with its text, as --data reads it (handwriting: "
        ".inkml with a transcription, IAM-OnDB .xml, style-N-strokes.npy with its "
        "-chars.npy, .svg with a <title>): files, folders or globs.")],
    add: Annotated[bool, typer.Option("--add", help="Add the lines to a saved style of that "
                                                    "name (after its own).")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Replace a saved style of that "
                                                            "name.")] = False,
    domain: StyleDomain = None,
) -> None:
    """Save lines of ink with their texts as a style, by name."""
    from seqgen.errors import SeqgenError
    from seqgen.styles import save_files

    if add and replace:
        raise SeqgenError("give --add or --replace, not both")
    saved = save_files(domain, name, sources, "add" if add else "replace" if replace else "new")
    print(f"saved style {saved.name!r}: {saved.lines} lines in {saved.path}", file=sys.stderr)


@style_app.command("list")
@handles_errors
def style_list(domain: Annotated[str | None, typer.Option(
        "--domain", "-d", help="Only this domain's styles (default: every domain's).")] = None,
) -> None:
    """List the saved styles: domain/name, lines, folder."""
    from seqgen.styles import catalogue, styles_root

    found = catalogue(domain)
    for s in found:
        print(f"{s.domain}/{s.name}\t{s.lines} lines\t{s.path}")
    if not found:
        print(f"no saved styles under {styles_root()} (seqgen style save NAME FILES...)",
              file=sys.stderr)


@style_app.command("tune")
@handles_errors
def style_tune(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The style's name.")],
    model: Annotated[str | None, typer.Option("--model", help="A shipped model by name (seqgen "
                                              "models lists them).")] = None,
    run: Annotated[Path | None, typer.Option("--run", help="Run directory.")] = None,
    domain: StyleDomain = None,
) -> None:
    """Fine-tune a model on a saved style's lines.

    A short, gentle fine-tune (lr 3e-4, 6 steps a line, batch 8: 10 to 20 s on a CPU), kept
    in the cache: `seqgen sample --prime-style NAME` with that model then writes with the
    tuned weights (--no-tuned: not). The model is --run, --model, else the domain's latest
    run or its shipped model, as `seqgen sample` finds it. Prints the tuned run's folder."""
    from seqgen.style_tuning import tune_cli

    print(tune_cli(name, run=run, model=model, domain=domain))


@style_app.command("rm")
@handles_errors
def style_rm(name: Annotated[str, typer.Argument(metavar="NAME", help="The style's name.")],
             domain: StyleDomain = None) -> None:
    """Remove a saved style (and the runs fine-tuned on it)."""
    from seqgen.style_tuning import remove_style

    print(f"removed {remove_style(domain, name)}", file=sys.stderr)
