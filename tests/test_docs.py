"""Docs stay in sync with the code: hook signatures, CLI --help, and a test per hook."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from seqgen import hookspecs

ROOT = Path(__file__).resolve().parents[1]


def _hookspecs() -> list[str]:
    return [name for name, fn in vars(hookspecs).items()
            if callable(fn) and hasattr(fn, "seqgen_spec")]


def test_every_hook_is_documented_with_its_exact_signature() -> None:
    doc = (ROOT / "docs" / "hooks.md").read_text()
    names = _hookspecs()
    assert len(names) >= 4
    for name in names:
        fn = getattr(hookspecs, name)
        signature = f"def {name}{inspect.signature(fn)}".replace("'", "")
        assert signature in doc, f"docs/hooks.md lacks: {signature}"
        assert fn.__doc__ and "\n" not in fn.__doc__.strip(), f"{name}: one-line docstring"


def test_every_hook_has_a_test() -> None:
    tests = (ROOT / "tests" / "test_plugins.py").read_text()
    for name in _hookspecs():
        assert re.search(rf"def test_hook_{name}\(", tests), f"no test_hook_{name}"


def test_cli_reference_matches_help() -> None:
    from seqgen.cli.docgen import cli_reference

    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference(), \
        "docs/cli.md is stale: run python -m seqgen.cli.docgen > docs/cli.md"


def test_plugin_commands_are_drawn_like_the_core_commands() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text()
    assert "### seqgen stats" in reference and "Usage: seqgen stats [OPTIONS]" in reference
    assert "\u256d" not in reference and "\u2502" not in reference  # no rich boxes: one style


def test_help_is_fast_and_lazy() -> None:
    import subprocess
    import sys

    code = ("import sys; from seqgen.cli.main import app; "
            "assert 'torch' not in sys.modules, 'torch imported by the CLI module'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_plugin_tutorial_shows_the_real_example_files() -> None:
    """docs/plugins.md quotes examples/seqgen-dna verbatim: the tutorial is the tested code."""
    doc = (ROOT / "docs" / "plugins.md").read_text()
    quoted = re.findall(r"`(examples/seqgen-dna/[^`]+)`:\n\n```\w+\n(.*?)```\n", doc, re.S)
    assert len(quoted) == 4
    for rel, body in quoted:
        assert (ROOT / rel).read_text() == body, f"docs/plugins.md is stale for {rel}"
