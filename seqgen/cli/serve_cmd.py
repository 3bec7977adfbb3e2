"""``seqgen serve``: the playground in the browser (seqgen/serve/, docs/serve.md). The command
parses, then calls one library function; ``seqgen.cli.main`` registers it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seqgen.cli.commands import handles_errors


@handles_errors
def serve(host: Annotated[str, typer.Option(help="Address to listen on (another than "
                                            "127.0.0.1 is said on stderr).")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 8765,
          run: Annotated[list[Path] | None, typer.Option(
              "--run", help="Run directory to serve for its domain (repeatable; default: "
                            "each domain's latest run).")] = None,
          no_tune: Annotated[bool, typer.Option(
              "--no-tune", help="Do not fine-tune the model on a style the writing pad saves "
                                "(in the background, one at a time); styles tuned already "
                                "still write with their tuned weights.")] = False) -> None:
    """A playground in the browser: one panel per installed domain (docs/serve.md)."""
    from seqgen.serve import serve as serve_

    serve_(host, port, run or [], tune=not no_tune)
