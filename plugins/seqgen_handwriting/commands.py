"""``seqgen ink``: re-render handwriting files with rendering options.

``seqgen sample`` renders with the options the run was trained with; this command takes ink
that was already written (InkML, SVG, IAM-OnDB .xml, strokes.npy) and renders it again, e.g.
as a single-line plotter SVG, an animated SVG or another colour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def add_commands(cli: typer.Typer) -> None:
    from seqgen.cli.commands import handles_errors

    @cli.command("ink")
    @handles_errors
    def ink(
        source: Annotated[Path, typer.Argument(help="Ink to read: .inkml, .svg, .xml (IAM-OnDB "
                                               "lineStrokes) or .npy.")],
        render: Annotated[Path, typer.Option("--render", help="Write OUT.EXT: .svg, .png or "
                                             ".inkml.")],
        option: Annotated[list[str] | None, typer.Option(
            "--option", "-o", metavar="KEY=VALUE",
            help="Handwriting option (stroke_width, color, background, plotter, animate, "
                 "speed; npy_layout for a .npy).")] = None,
    ) -> None:
        """Handwriting: render ink files again (plotter or animated SVG, colours, PNG)."""
        for path in render_ink(source, render, option or []):
            print(f"wrote {path}")

    add_ink_eval(cli)


def add_ink_eval(cli: typer.Typer) -> None:
    from seqgen.cli.commands import handles_errors

    @cli.command("ink-eval")
    @handles_errors
    def ink_eval(
        domain: Annotated[str, typer.Option("--domain", "-d", help="Latest run of this domain.")]
        = "handwriting",
        run: Annotated[Path | None, typer.Option(help="Run directory.")] = None,
        num: Annotated[int, typer.Option(help="Held-out lines to write and read.")] = 20,
        bias: Annotated[float, typer.Option(help="Sampling bias (Graves 2013).")] = 1.0,
        seed: Annotated[int, typer.Option(help="Random seed of the samples.")] = 1,
        train_seconds: Annotated[float, typer.Option(
            help="The recogniser's training time (cached per corpus).")] = 180.0,
        texts: Annotated[Path | None, typer.Option(
            help="Also write the lines of this UTF-8 file and read them back (cer_texts).")]
        = None,
        json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures here.")]
        = None,
    ) -> None:
        """Handwriting: legibility, the CER of the run's own CTC recogniser on samples and on
        held-out real ink (the floor)."""
        from seqgen import models
        from seqgen.errors import SeqgenError
        from seqgen.inference import Model
        from seqgen_handwriting.legibility import evaluate_ink

        if num < 1 or train_seconds <= 0:
            raise SeqgenError("--num must be at least 1 and --train-seconds positive")
        mine = _lines(texts) if texts is not None else None
        res = evaluate_ink(Model(models.resolve(run, domain), "handwriting"), num, bias, seed,
                           train_seconds, mine)
        print_figures(res, "read_real", "read_sample")
        for row in res.get("text_rows", [])[:5]:
            print(f"{row['text']!r:28s} read_sample={row['read_sample']!r}")
        if json_out is not None:
            from seqgen.fileio import write_json

            write_json(json_out, res)


def _lines(path: Path) -> list[str]:
    from seqgen.errors import SeqgenError

    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise SeqgenError(f"--texts {path}: cannot read it ({exc})") from None
    if not any(lines):
        raise SeqgenError(f"--texts {path}: no lines of text")
    return [ln for ln in lines if ln]


def print_figures(res: dict[str, Any], *read: str, pairs: int = 5) -> None:
    """The figures one a line, then the first ``pairs`` rows as text -> what was read."""
    for k, v in res.items():
        if not k.endswith("rows"):
            print(f"{k:28s} {v:.4f}" if isinstance(v, float) else f"{k:28s} {v}")
    for row in res["rows"][:pairs]:
        print(f"{row['text']!r:28s} " + "  ".join(f"{k}={row[k]!r}" for k in read))


def render_ink(source: Path, out: Path, options: list[str]) -> list[Path]:
    """Read every line of ``source`` and write them as one page (or one line) to ``out``."""
    from seqgen.domain import parse_options
    from seqgen.render import render
    from seqgen_handwriting.domain import HandwritingDomain, HandwritingOptions
    from seqgen_handwriting.ink import Page
    from seqgen_handwriting.readers import read_file

    domain = HandwritingDomain(parse_options(HandwritingOptions, options))
    lines = read_file(source, domain.options.npy_layout)
    return render(domain, [lines[0] if len(lines) == 1 else Page(lines)], out)
