"""Shared fixtures: every test runs in its own folder with its own runs/ and cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Tiny models run fastest on one thread, and two spinning OpenMP pools (pytest's and a
# subprocess's) on two cores slow each other down a hundredfold.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
from typer.testing import CliRunner

from seqgen import plugins

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHAKESPEARE = SHARED / "tinyshakespeare.txt"

SAMPLE_TEXT = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
    "All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n\n"
    "All:\nResolved. resolved.\n\n"
) * 12


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private working directory, runs root and cache; plugin state reset around the test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEQGEN_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("SEQGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SEQGEN_STYLES", str(tmp_path / "styles"))  # saved styles, never ~'s
    monkeypatch.delenv("SEQGEN_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("SEQGEN_MIRROR", raising=False)
    plugins._pm = None
    plugins._warned.clear()
    yield tmp_path
    plugins._pm = None


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(SAMPLE_TEXT, encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


TINY = ["--preset", "tiny", "--quiet"]


def cli(runner: CliRunner, *args: str) -> object:
    from seqgen.cli.main import app

    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result: object) -> str:
    """Assert a clean failure: exit 2, one line on stderr starting 'seqgen: error:'."""
    assert result.exit_code == 2, (result.exit_code, result.output)  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    assert lines[0].startswith("seqgen: error: "), lines
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    return lines[0]


