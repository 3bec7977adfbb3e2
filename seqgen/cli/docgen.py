"""Write docs/cli.md from the real ``--help`` texts.

    python -m seqgen.cli.docgen > docs/cli.md
"""

from __future__ import annotations

from typer.testing import CliRunner

from seqgen.cli.main import app

INTRO = """# Command-line reference

Generated from the real `--help` texts by `python -m seqgen.cli.docgen > docs/cli.md`;
a test fails when this file and the code disagree.
"""


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], prog_name="seqgen", terminal_width=100,
                                env={"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"})
    return result.stdout.rstrip() + "\n"


def cli_reference() -> str:
    parts = [INTRO, "## seqgen\n", "```text", _help(), "```\n"]
    for cmd in app.registered_commands:
        name = cmd.name or (cmd.callback.__name__.replace("_", "-") if cmd.callback else "?")
        parts += [f"## seqgen {name}\n", "```text", _help(name), "```\n"]
    return "\n".join(parts)


if __name__ == "__main__":
    print(cli_reference(), end="")
