"""Write docs/cli.md from the real ``--help`` texts.

    python -m seqgen.cli.docgen > docs/cli.md
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.testing import CliRunner

from seqgen.cli.main import app

INTRO = """# Command-line reference

Generated from the real `--help` texts by `python -m seqgen.cli.docgen > docs/cli.md`;
a test fails when this file and the code disagree.
"""


BUILT_IN = ("seqgen_text", "seqgen_music", "seqgen_handwriting", "seqgen_speech")
PLUGIN_INTRO = """## Commands the built-in domains add

They come through the `register_commands` hook, as a third-party plugin's would, so
`seqgen --help` lists them beside the core commands.
"""


def _help(*args: str, cli: typer.Typer = app) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="seqgen", terminal_width=100,
                                env={"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"})
    return result.stdout.rstrip() + "\n"


def _name(cmd: Any) -> str:
    return str(cmd.name or (cmd.callback.__name__.replace("_", "-") if cmd.callback else "?"))


def _plugin_app() -> typer.Typer:
    """A private app holding only the built-in plugins' commands (not a third party's)."""
    cli = typer.Typer()
    for name in BUILT_IN:
        hook = getattr(importlib.import_module(name), "register_commands", None)
        if hook is not None:
            hook(cli)
    return cli


def cli_reference() -> str:
    parts = [INTRO, "## seqgen\n", "```text", _help(), "```\n"]
    for cmd in app.registered_commands:
        parts += [f"## seqgen {_name(cmd)}\n", "```text", _help(_name(cmd)), "```\n"]
    extra = _plugin_app()
    if len(extra.registered_commands) > 1:  # typer's subcommand mode needs two commands
        parts.append(PLUGIN_INTRO)
        for cmd in extra.registered_commands:
            parts += [f"### seqgen {_name(cmd)}\n", "```text", _help(_name(cmd), cli=extra),
                      "```\n"]
    return "\n".join(parts)


if __name__ == "__main__":
    print(cli_reference(), end="")
