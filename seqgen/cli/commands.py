"""What a plugin's command needs from the seqgen command line, as a public interface: its
``register_commands`` hook imports this module, never ``seqgen.cli.main`` (the CLI's own
commands, which may change shape)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from seqgen.errors import SeqgenError

__all__ = ["fail", "handles_errors"]

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> None:
    """Say ``seqgen: error: message`` on stderr and exit with code 2."""
    print(f"seqgen: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def handles_errors(fn: F) -> F:
    """Turn SeqgenError into one line on stderr and exit code 2 (no traceback). Put it under
    ``@cli.command()``, so that typer sees the command's own signature."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SeqgenError as exc:
            fail(str(exc))
    return wrapper  # type: ignore[return-value]


def complete_domain(incomplete: str) -> list[str]:
    """Shell completion of --domain: the installed domains' names."""
    from seqgen.plugins import entry_point_names

    return [n for n in entry_point_names() if n.startswith(incomplete)]


def ddp_exit() -> None:
    """A torchrun rank whose run is complete leaves at once (its files are written and
    closed): at a normal exit, C++ teardown met gloo's threads still running and aborted
    (std::terminate, exit -6) in about 1 run in 5 on a loaded machine, though the run was
    done. Outside torchrun it returns."""
    import os
    import sys

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def report_train(result: Any) -> None:
    """The line a finished (or interrupted: exit 130) training prints; under torchrun, rank 0
    alone reports."""
    if os.environ.get("RANK", "0") != "0":
        return ddp_exit()
    state = "interrupted" if result.interrupted else "done"
    val = "-" if result.val_loss is None else f"{result.val_loss:.4f} nats"
    print(f"{state}: step {result.step}, val loss {val}, "
          f"{result.elapsed:.0f}s; run: {result.run_dir}", file=sys.stderr)
    if result.interrupted:
        print(f"resume with: seqgen train --resume --run {result.run_dir}", file=sys.stderr)
        raise typer.Exit(130)
    ddp_exit()
