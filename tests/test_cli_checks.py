"""The command line as a user lives with it (issue 14): arguments checked before torch loads,
resume keeps the run's shape, clear lines for renderers, folders, downloads and budgets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqgen import runs
from seqgen.datasets import Dataset, fetch

from conftest import TINY, cli, one_line_error

PROBE = ("import sys, atexit\n"
         "atexit.register(lambda: print('TORCH' if 'torch' in sys.modules else 'LIGHT',"
         " file=sys.stderr))\n"
         "from seqgen.cli.main import main\n"
         "sys.argv = ['seqgen', *sys.argv[1:]]\n"
         "main()\n")


def _light(*args: str) -> str:
    """Run the CLI in a fresh process; assert it exits 2 without importing torch."""
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         timeout=120)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert lines[-1] == "LIGHT", out.stderr  # refused before torch was imported
    return lines[0]


def test_argument_errors_come_before_torch(corpus: Path) -> None:
    assert "10x" in _light("train", "--max-time", "10x")
    assert "positive time" in _light("train", "--max-time", "0", "--max-steps", "2")
    assert "--max-steps 0: must be at least 1" in _light("train", "--max-steps", "0")
    assert "did you mean 'music'" in _light("train", "--domain", "musci")
    assert "unknown preset" in _light("train", "--preset", "huge")
    assert "nope" in _light("train", "-o", "nope=1")
    assert "--num and --length" in _light("sample", "--domain", "text", "--num", "0")
    assert "--top-p" in _light("sample", "--domain", "text", "--top-p", "2")


def test_info_needs_no_torch(runner: CliRunner, corpus: Path) -> None:
    cli(runner, "train", "--data", corpus, *TINY, "--max-steps", "2", "--run", "r")
    out = subprocess.run([sys.executable, "-c", PROBE, "info", "r"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and out.stderr.strip().splitlines()[-1] == "LIGHT", out.stderr
    assert "val loss" in out.stdout


def test_resume_refuses_what_shaped_the_model(runner: CliRunner, corpus: Path) -> None:
    cli(runner, "train", "--data", corpus, *TINY, "--max-steps", "2", "--run", "r")
    line = one_line_error(cli(runner, "train", "--resume", "--run", "r", "--hidden", "64",
                              "--lr", "0.1"))
    assert "--hidden, --lr cannot change" in line
    assert "-o cannot change" in one_line_error(
        cli(runner, "train", "--resume", "--run", "r", "-o", "level=byte"))
    ok = cli(runner, "train", "--resume", "--run", "r", "--max-steps", "4", "--quiet",
             "--hidden", "32", "--seq-len", "32")  # the run's own values: not a change
    assert ok.exit_code == 0, ok.output


def test_a_second_trainer_hears_of_the_first(runner: CliRunner, corpus: Path) -> None:
    cli(runner, "train", "--data", corpus, *TINY, "--max-steps", "2", "--run", "r")
    with runs.lock(Path("r")):  # another trainer holds the run
        again = one_line_error(cli(runner, "train", "--data", corpus, *TINY, "--run", "r"))
        assert "is being trained by another process" in again
        resumed = one_line_error(cli(runner, "train", "--resume", "--run", "r"))
        assert "is being trained by another process" in resumed
    assert "already holds a run" in one_line_error(
        cli(runner, "train", "--data", corpus, *TINY, "--run", "r"))


def test_render_suffix_names_the_renderers(runner: CliRunner, corpus: Path) -> None:
    cli(runner, "train", "--data", corpus, *TINY, "--max-steps", "2")
    line = one_line_error(cli(runner, "sample", "--domain", "text", "--render", "out.xyz"))
    assert ".xyz is not one of its renderers" in line and ".txt" in line
    assert "no suffix" in one_line_error(
        cli(runner, "sample", "--domain", "text", "--render", "out"))


def test_text_folder_skips_what_is_not_text(runner: CliRunner, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "images").mkdir(parents=True)
    (docs / "notes.md").write_text("Some notes about the project.\n" * 300)
    (docs / "images" / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(300))
    out = cli(runner, "train", "--data", docs, *TINY, "--max-steps", "2")
    assert out.exit_code == 0, out.output
    assert "plot.png: binary file (NUL byte at offset 8)" in out.stderr and "skipped" in out.stderr
    (docs / "notes.md").unlink()
    (docs / "images" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(30))
    empty = cli(runner, "train", "--data", docs, *TINY)
    assert empty.exit_code == 2 and "Traceback" not in empty.output
    # a warning line for each file skipped, then the one error line
    assert empty.stderr.strip().splitlines()[-1].endswith(
        "corpus is empty (2 of 2 files skipped: not text)")
    (docs / "images" / "logo.png").unlink()  # one file, in a folder or not: its own reason
    assert "plot.png: binary file" in one_line_error(cli(runner, "train", "--data", docs, *TINY))


def test_download_error_names_the_way_out(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    body = b"to be or not to be\n"
    ds = Dataset(name="tiny", domain="text", url="http://127.0.0.1:9/tiny.txt",
                 sha256=hashlib.sha256(body).hexdigest(), filename="tiny.txt")
    from seqgen.errors import SeqgenError

    with pytest.raises(SeqgenError) as err:
        fetch(ds)  # nothing listens on port 9: as offline
    msg = str(err.value)
    assert "SEQGEN_MIRROR" in msg and str(Path("datasets") / "tiny.txt") in msg
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "tiny.txt").write_bytes(body)
    monkeypatch.setenv("SEQGEN_MIRROR", str(mirror))  # a plain folder will do
    assert fetch(ds).read_bytes() == body


def test_resume_time_limit_is_this_invocations_only(runner: CliRunner, corpus: Path) -> None:
    import json

    cli(runner, "train", "--data", corpus, *TINY, "--max-steps", "6", "--run", "r")
    out = cli(runner, "train", "--resume", "--run", "r", "--max-steps", "40", "--max-time", "1s")
    assert out.exit_code == 0, out.output
    plan = json.loads(Path("r/config.json").read_text())["train"]
    assert plan["max_steps"] == 40 and plan["max_time"] is None  # the limit was not saved
    assert plan["time_limit"] is None
    again = cli(runner, "train", "--resume", "--run", "r")  # a later plain resume: the plan
    assert again.exit_code == 0, again.output
    assert json.loads(Path("r/config.json").read_text())["step"] == 40
    assert "step 40/40" in again.stderr  # the progress counts the run's own plan


def test_the_python_api_prints_progress_and_can_be_quiet(
        corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import seqgen

    seqgen.train("text", str(corpus), preset="tiny", max_steps=3, run="a")
    err = capsys.readouterr().err
    assert "train: step 1/3" in err and "train: step 3/3" in err
    seqgen.train("text", str(corpus), preset="tiny", max_steps=3, run="b", progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(seqgen.SeqgenError, match="did you mean 'music'"):
        seqgen.train("musci")
