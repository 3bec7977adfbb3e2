"""``seqgen ink``: re-render handwriting files with rendering options.

``seqgen sample`` renders with the options the run was trained with; this command takes ink
that was already written (InkML, SVG, IAM-OnDB .xml, strokes.npy) and renders it again, e.g.
as a single-line plotter SVG, an animated SVG or another colour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
