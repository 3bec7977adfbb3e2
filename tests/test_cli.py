"""The CLI through typer's runner: the contract flags, outputs, and every bad input."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import TINY, cli, one_line_error


@pytest.fixture
def trained(runner: CliRunner, corpus: Path) -> Path:
    result = cli(runner, "train", "--domain", "text", "--data", corpus, *TINY, "--seed", "3")
    assert result.exit_code == 0, result.output
    from seqgen.runs import latest_run

    latest = latest_run("text")
    assert latest is not None
    return latest


def test_version_and_help(runner: CliRunner) -> None:
    assert cli(runner, "--version").stdout.startswith("seqgen 0.")
    for cmd in ("train", "sample", "eval", "domains", "info"):
        out = cli(runner, cmd, "--help")
        assert out.exit_code == 0 and "Usage" in out.stdout


def test_train_writes_a_complete_run(trained: Path) -> None:
    for name in ("model.safetensors", "config.json", "metrics.jsonl", "loss.png"):
        assert (trained / name).exists(), name
    cfg = json.loads((trained / "config.json").read_text())
    assert cfg["domain"]["name"] == "text" and cfg["step"] == 30
    assert cfg["domain"]["state"]["chars"]  # the vocabulary travels with the checkpoint
    assert (trained / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(x) for x in (trained / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 31))
    assert any("val_loss" in r for r in rows)


def test_sample_is_reproducible_and_keeps_or_strips_prime(runner: CliRunner, trained: Path) -> None:
    args = ["sample", "--domain", "text", "--length", "60", "--seed", "7", "--prime", "All:"]
    a, b = cli(runner, *args), cli(runner, *args)
    assert a.exit_code == 0 and a.stdout == b.stdout
    assert a.stdout.startswith("All:")
    c = cli(runner, *args[:-2], "--prime", "All:", "--no-keep-prime")
    assert not c.stdout.startswith("All:") or c.stdout != a.stdout
    d = cli(runner, *args[:-3], "8", "--prime", "All:")
    assert d.stdout != a.stdout  # another seed, another sample


def test_sample_render_txt_and_num(runner: CliRunner, trained: Path) -> None:
    out = cli(runner, "sample", "--run", trained, "--num", "3", "--length", "40", "--seed", "1",
              "--render", "out.txt", "--temperature", "0.8", "--top-k", "5", "--top-p", "0.9")
    assert out.exit_code == 0, out.output
    text = Path("out.txt").read_text()
    assert text.count("=== sample") == 3


def test_eval_and_info(runner: CliRunner, trained: Path, corpus: Path) -> None:
    out = cli(runner, "eval", "--run", trained)
    assert out.exit_code == 0
    bits = float(out.stdout.split("bits/char\t")[1].split()[0])
    assert 0 < bits < 8
    other = cli(runner, "eval", "--domain", "text", "--data", corpus)
    assert "bits/char" in other.stdout
    info = cli(runner, "info", str(trained))
    assert "1 x 32 LSTM" in info.stdout and "step" in info.stdout


def test_info_says_a_time_limit_not_a_placeholder_step_count() -> None:
    from seqgen.cli.tables import _limit
    from seqgen.config import TIME_BOUND_STEPS

    assert _limit({"max_steps": TIME_BOUND_STEPS, "max_time": 1500.0}) == "max_time 25 m 00 s"
    assert _limit({"max_steps": 30, "max_time": None}) == "max_steps 30"
    assert _limit({"max_steps": 30, "max_time": 90.0}) == "max_steps 30, max_time 1 m 30 s"


def test_domains_table_and_options(runner: CliRunner) -> None:
    out = cli(runner, "domains")
    assert "text" in out.stdout and ".txt" in out.stdout and "python-docs" in out.stdout
    opts = cli(runner, "domains", "--options", "text")
    assert "level" in opts.stdout and "min_count" in opts.stdout


def test_resume_continues_from_checkpoint(runner: CliRunner, corpus: Path) -> None:
    r = cli(runner, "train", "--data", corpus, "--run", "r1", *TINY, "--max-steps", "20")
    assert r.exit_code == 0
    r = cli(runner, "train", "--resume", "--run", "r1", "--max-steps", "30", "--quiet")
    assert r.exit_code == 0, r.output
    assert json.loads(Path("r1/config.json").read_text())["step"] == 30


# ---- bad input: one line, exit 2, nothing half-written ----------------------------------------
def test_missing_corpus(runner: CliRunner) -> None:
    assert "no-such.txt" in one_line_error(cli(runner, "train", "--data", "no-such.txt", *TINY))


def test_unknown_dataset_suggests(runner: CliRunner) -> None:
    msg = one_line_error(cli(runner, "train", "--data", "tinyshakespear", *TINY))
    assert "tinyshakespeare" in msg


def test_empty_corpus(runner: CliRunner) -> None:
    Path("empty.txt").write_text("")
    assert "empty" in one_line_error(cli(runner, "train", "--data", "empty.txt", *TINY))


def test_binary_file(runner: CliRunner) -> None:
    Path("blob.bin").write_bytes(bytes(range(256)) * 10)
    msg = one_line_error(cli(runner, "train", "--data", "blob.bin", *TINY))
    assert "blob.bin" in msg and "binary" in msg
    assert not Path("runs").exists()  # nothing written


def test_not_utf8(runner: CliRunner) -> None:
    Path("latin.txt").write_bytes("café au lait ".encode("latin-1") * 50)
    assert "UTF-8" in one_line_error(cli(runner, "train", "--data", "latin.txt", *TINY))


def test_corpus_smaller_than_a_batch(runner: CliRunner) -> None:
    Path("small.txt").write_text("tiny corpus\n")
    msg = one_line_error(cli(runner, "train", "--data", "small.txt", *TINY))
    assert "fewer than one batch" in msg and "--batch-size" in msg


def test_prime_with_unseen_characters(runner: CliRunner, trained: Path) -> None:
    msg = one_line_error(cli(runner, "sample", "--domain", "text", "--prime", "Ωmega€"))
    assert "'Ω'" in msg and "U+20AC" in msg


def test_run_of_another_domain(runner: CliRunner, trained: Path) -> None:
    from seqgen import plugins
    from seqgen_text.domain import TextDomain

    class Other(TextDomain):
        name = "other"

    class Plugin:
        @staticmethod
        def register_domains(register):  # type: ignore[no-untyped-def]
            register(Other)

    from seqgen.hookspecs import hookimpl

    Plugin.register_domains = hookimpl(Plugin.register_domains)  # type: ignore[method-assign]
    pm = plugins.get_plugin_manager()
    pm.register(Plugin, name="other-test")
    try:
        msg = one_line_error(cli(runner, "sample", "--domain", "other", "--run", trained))
        assert "'text' run, not 'other'" in msg
    finally:
        pm.unregister(name="other-test")


def test_checkpoint_from_newer_version(runner: CliRunner, trained: Path) -> None:
    cfg = json.loads((trained / "config.json").read_text())
    cfg["format_version"] = 99
    cfg["seqgen_version"] = "9.0.0"
    (trained / "config.json").write_text(json.dumps(cfg))
    assert "newer seqgen" in one_line_error(cli(runner, "sample", "--run", trained))


def test_pickle_is_refused_unopened(runner: CliRunner, trained: Path) -> None:
    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (Path("pwned").write_text, ("x",))

    (trained / "model.safetensors").write_bytes(pickle.dumps({"w": Boom()}))
    msg = one_line_error(cli(runner, "sample", "--run", trained))
    assert "pickle" in msg and "not safetensors" in msg
    assert not Path("pwned").exists()


def test_garbage_weights_file(runner: CliRunner, trained: Path) -> None:
    (trained / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    assert "not a valid safetensors" in one_line_error(cli(runner, "sample", "--run", trained))


def test_unknown_domain_suggests_closest(runner: CliRunner) -> None:
    msg = one_line_error(cli(runner, "train", "--domain", "txt", *TINY))
    assert "did you mean 'text'" in msg


def test_unknown_option_key(runner: CliRunner, corpus: Path) -> None:
    msg = one_line_error(cli(runner, "train", "--data", corpus, "-o", "levle=byte", *TINY))
    assert "unknown option 'levle'" in msg and "did you mean 'level'" in msg


def test_bad_option_value(runner: CliRunner, corpus: Path) -> None:
    msg = one_line_error(cli(runner, "train", "--data", corpus, "-o", "level=word", *TINY))
    assert "char, byte" in msg


def test_sample_without_any_run(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """No run and no shipped model (the built-in text domain ships one: test_models.py)."""
    from seqgen import models

    monkeypatch.setattr(models, "default_for", lambda domain: None)
    msg = one_line_error(cli(runner, "sample", "--domain", "text"))
    assert "seqgen train --domain text" in msg


def test_unknown_renderer(runner: CliRunner, trained: Path) -> None:
    msg = one_line_error(cli(runner, "sample", "--run", trained, "--render", "x.mid"))
    assert ".txt" in msg and not Path("x.mid").exists()


def test_bad_duration(runner: CliRunner, corpus: Path) -> None:
    assert "duration" in one_line_error(cli(runner, "train", "--data", corpus, *TINY,
                                            "--max-time", "soon"))


def test_progress_bar_counts_steps_or_the_clock(capsys: pytest.CaptureFixture[str]) -> None:
    from seqgen.cli.progress import train_progress

    with train_progress(100) as update:
        update(5, {"loss": 1.25, "tokens_per_s": 10.0, "elapsed": 1.0})
    assert "5/100" in capsys.readouterr().err
    with train_progress(100, seconds=10.0) as update:  # --max-time alone: the clock's share
        update(500, {"loss": 1.25, "tokens_per_s": 10.0, "elapsed": 5.0})
    err = capsys.readouterr().err
    assert "step 500" in err and "/100" not in err and "1.2500" in err
