"""Finding runs (issue 14): the latest pointer survives deleted and moved runs, `seqgen runs`
lists them, `seqgen runs rm` removes one safely, and a typo'd --domain is named first."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqgen import runs
from seqgen.cli import runs_cmd

from conftest import TINY, cli, one_line_error

STEPS = ["--max-steps", "2"]


def _train(runner: CliRunner, corpus: Path) -> Path:
    out = cli(runner, "train", "--domain", "text", "--data", corpus, *TINY, *STEPS)
    assert out.exit_code == 0, out.output
    found = runs.latest_run("text")
    assert found is not None
    return found


@pytest.fixture
def two(runner: CliRunner, corpus: Path) -> tuple[Path, Path]:
    """Two text runs, the second the latest."""
    return _train(runner, corpus), _train(runner, corpus)


def _sample(runner: CliRunner, *args: str) -> object:
    return cli(runner, "sample", *args, "--length", "5", "--seed", "1")


def _warnings(result: object) -> list[str]:
    return [ln for ln in result.stderr.splitlines()  # type: ignore[attr-defined]
            if ln.startswith("seqgen: warning:")]


def test_latest_is_the_run_name_and_survives_a_moved_runs_root(
        runner: CliRunner, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _train(runner, corpus)
    assert (tmp_path / "runs" / "text" / "latest").read_text() == run.name + "\n"
    shutil.move(tmp_path / "runs", tmp_path / "moved")
    monkeypatch.setenv("SEQGEN_RUNS", str(tmp_path / "moved"))
    out = _sample(runner, "--domain", "text")
    assert out.exit_code == 0, out.output
    assert not _warnings(out)
    assert runs.latest_run("text") == tmp_path / "moved" / "text" / run.name


def test_a_deleted_latest_run_falls_back_to_the_newest_with_one_line(
        runner: CliRunner, two: tuple[Path, Path]) -> None:
    older, newer = two
    shutil.rmtree(newer)
    out = _sample(runner, "--domain", "text")
    assert out.exit_code == 0, out.output
    said = _warnings(out)
    assert len(said) == 1 and "latest" in said[0] and older.name in said[0], said
    assert runs.latest_run("text") == older  # the pointer is repaired: no warning next time
    assert not _warnings(_sample(runner, "--domain", "text"))


def test_an_old_absolute_pointer_still_works_after_a_move(
        runner: CliRunner, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _train(runner, corpus)
    pointer = tmp_path / "runs" / "text" / "latest"
    pointer.write_text(str(run.resolve()) + "\n")  # what seqgen wrote before
    assert runs.latest_run("text") == run
    shutil.move(tmp_path / "runs", tmp_path / "elsewhere")
    monkeypatch.setenv("SEQGEN_RUNS", str(tmp_path / "elsewhere"))
    out = _sample(runner, "--domain", "text")
    assert out.exit_code == 0 and not _warnings(out), out.output


def test_a_missing_or_outside_pointer_falls_back(runner: CliRunner,
                                                  two: tuple[Path, Path]) -> None:
    pointer = two[1].parent / "latest"
    for text in ("../../elsewhere\n", str(Path("/tmp/some/other/run")) + "\n", None):
        if text is None:
            pointer.unlink()
        else:
            pointer.write_text(text)
        out = _sample(runner, "--domain", "text")
        assert out.exit_code == 0, out.output
        assert len(_warnings(out)) == 1 and two[1].name in out.stderr
        assert pointer.read_text() == two[1].name + "\n"


def test_info_takes_the_latest_pointer_or_a_domain(runner: CliRunner, corpus: Path) -> None:
    run = _train(runner, corpus)
    for args in (["runs/text/latest"], ["--domain", "text"]):
        out = cli(runner, "info", *args)
        assert out.exit_code == 0, out.output
        assert run.name in out.stdout and "1 x 32 LSTM" in out.stdout
    assert "is a file" in one_line_error(cli(runner, "info", corpus))


@pytest.mark.parametrize("command", ["sample", "eval", "info", "runs"])
def test_a_typo_in_domain_is_named_before_anything_else(runner: CliRunner, command: str) -> None:
    line = one_line_error(cli(runner, command, "--domain", "txet"))  # and no run exists
    assert "unknown domain 'txet' (did you mean 'text'?)" in line, line


def test_resume_checks_the_domain_name_first(runner: CliRunner) -> None:
    line = one_line_error(cli(runner, "train", "--resume", "--domain", "musci", *TINY))
    assert "unknown domain 'musci' (did you mean 'music'?)" in line, line


def test_runs_lists_the_runs_and_marks_latest(runner: CliRunner, two: tuple[Path, Path]) -> None:
    out = cli(runner, "runs")
    assert out.exit_code == 0, out.output
    rows = {ln.split("│")[2].strip(): ln for ln in out.stdout.splitlines() if "│ text" in ln}
    assert set(rows) == {two[0].name, two[1].name}, out.stdout
    assert "latest" in rows[two[1].name] and "latest" not in rows[two[0].name]
    assert "bits/char" in rows[two[1].name] and "kB" in rows[two[1].name]
    assert cli(runner, "runs", "--domain", "text").stdout == out.stdout
    music = cli(runner, "runs", "--domain", "music")
    assert music.exit_code == 0 and "no 'music' runs" in music.stderr


def test_runs_lists_without_torch(runner: CliRunner, corpus: Path) -> None:
    _train(runner, corpus)
    code = ("import sys; from typer.testing import CliRunner; from seqgen.cli.main import app; "
            "r = CliRunner().invoke(app, ['runs']); assert r.exit_code == 0, r.output; "
            "assert 'bits/char' in r.stdout, r.stdout; "
            "assert 'torch' not in sys.modules, 'seqgen runs imported torch'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_runs_rm_refuses_what_is_not_a_run_or_is_being_trained(
        runner: CliRunner, two: tuple[Path, Path]) -> None:
    Path("notarun").mkdir()
    (Path("notarun") / "config.json").write_text('{"format": "other"}')
    assert "not a seqgen run" in one_line_error(cli(runner, "runs", "rm", "notarun", "--yes"))
    assert Path("notarun/config.json").exists()
    assert "neither" in one_line_error(cli(runner, "runs", "rm", "text/nonesuch", "--yes"))
    with runs.lock(two[0]):
        line = one_line_error(cli(runner, "runs", "rm", two[0], "--yes"))
    assert "being trained" in line and two[0].is_dir()
    line = one_line_error(cli(runner, "runs", "rm", two[0]))  # no TTY to ask on, no --yes
    assert "--yes" in line and two[0].is_dir()


def test_runs_rm_removes_and_repoints_latest(runner: CliRunner, two: tuple[Path, Path]) -> None:
    older, newer = two
    out = cli(runner, "runs", "rm", newer, "--yes")
    assert out.exit_code == 0, out.output
    assert not newer.exists() and "latest is now" in out.stderr
    assert (newer.parent / "latest").read_text() == older.name + "\n"
    assert not list(newer.parent.glob(".removing-*"))
    out = cli(runner, "runs", "rm", f"text/{older.name}", "--yes")  # DOMAIN/NAME
    assert out.exit_code == 0 and not older.exists()
    assert not (older.parent / "latest").exists()
    assert "no runs" in cli(runner, "runs").stderr


def test_runs_rm_asks_first(runner: CliRunner, two: tuple[Path, Path],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_cmd, "_interactive", lambda: True)
    no = runner.invoke(runs_cmd.runs_app, ["rm", str(two[0])], input="n\n")
    assert no.exit_code == 1 and two[0].is_dir()
    yes = runner.invoke(runs_cmd.runs_app, ["rm", str(two[0])], input="y\n")
    assert yes.exit_code == 0 and not two[0].exists()
    assert runs.latest_run("text") == two[1]  # another run removed: latest unchanged
