"""Write docs/cli.md from the real ``--help`` texts.

    python -m seqgen.cli.docgen > docs/cli.md
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import typer
from typer.testing import CliRunner

from seqgen.cli.main import app
from seqgen.plugins import ENTRY_POINT_GROUP

INTRO = """# Command-line reference

Generated from the real `--help` texts by `python -m seqgen.cli.docgen > docs/cli.md`;
a test fails when this file and the code disagree.
"""


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
    """A private app holding the commands of the plugins seqgen itself ships (found as any
    plugin is, through its entry points, but not a third party's)."""
    cli = typer.Typer(rich_markup_mode=None)  # drawn as seqgen's own app draws its commands
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.dist is not None and ep.dist.name == "seqgen":
            hook = getattr(ep.load(), "register_commands", None)
            if hook is not None:
                hook(cli)
    return cli


def cli_reference() -> str:
    parts = [INTRO, "## seqgen\n", "```text", _help(), "```\n"]
    for cmd in app.registered_commands:
        parts += [f"## seqgen {_name(cmd)}\n", "```text", _help(_name(cmd)), "```\n"]
    for group in app.registered_groups:  # a command with subcommands: seqgen runs, runs rm
        name = str(group.name)
        parts += [f"## seqgen {name}\n", "```text", _help(name), "```\n"]
        for sub in group.typer_instance.registered_commands if group.typer_instance else []:
            parts += [f"### seqgen {name} {_name(sub)}\n", "```text", _help(name, _name(sub)),
                      "```\n"]
    extra = _plugin_app()
    if len(extra.registered_commands) > 1:  # typer's subcommand mode needs two commands
        parts.append(PLUGIN_INTRO)
        for cmd in extra.registered_commands:
            parts += [f"### seqgen {_name(cmd)}\n", "```text", _help(_name(cmd), cli=extra),
                      "```\n"]
    return "\n".join(parts)


if __name__ == "__main__":
    print(cli_reference(), end="")
