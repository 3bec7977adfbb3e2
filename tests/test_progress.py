"""Progress and time (issue 14): plain lines when stderr is not a terminal, status lines for
slow steps, --max-time bounding the whole run, the run's length said at start, validation
at a pace that suits the run."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seqgen.cli.progress import plain_progress
from seqgen.config import TIME_BOUND_STEPS, TrainConfig
from seqgen.engine import status
from seqgen.engine.budget import Budget

from conftest import SAMPLE_TEXT, cli

SMALL_NET = ["--layers", "1", "--hidden", "16", "--embed", "8", "--seq-len", "16",
             "--batch-size", "4"]


def _rows(run: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_log_gets_plain_lines_and_the_runs_length(runner: CliRunner, corpus: Path) -> None:
    # the runner's stderr is not a terminal, as a log file, CI or nohup is not
    out = cli(runner, "train", "--data", corpus, "--run", "r", "--preset", "tiny",
              "--log-every", "1")
    assert out.exit_code == 0, out.output
    lines = out.stderr.splitlines()
    train = [ln for ln in lines if ln.startswith("train: ")]
    assert train[0].startswith("train: step 1/30  loss ")  # at the first step
    assert re.match(r"train: step 30/30  loss \d\.\d{4}  val \d\.\d{4}  [\d,]+ tok/s  "
                    r"elapsed \d+ s  ETA 0 s$", train[-1]), train[-1]  # and the end
    assert len(train) <= 4  # not one per step: every 10 s
    assert "━" not in out.stderr  # no live bar
    said = [ln for ln in lines if "at this machine's speed" in ln]
    assert len(said) == 1 and said[0].startswith("seqgen: 30 steps, about ")
    assert "--max-time bounds it" in said[0]
    quiet = cli(runner, "train", "--data", corpus, "--run", "q", "--preset", "tiny", "--quiet")
    assert quiet.exit_code == 0 and not [ln for ln in quiet.stderr.splitlines()
                                         if not ln.startswith("done: ")]


def test_plain_progress_prints_every_n_seconds() -> None:
    stream = io.StringIO()
    every = plain_progress(100, every=0.0, stream=stream)  # every report
    for step in (10, 20):
        every(step, {"loss": 2.5, "val_loss": None, "tokens_per_s": 1234.0, "elapsed": 1.0})
    lines = stream.getvalue().splitlines()
    assert lines[0] == "train: step 10/100  loss 2.5000  val -  1,234 tok/s  elapsed 1 s  ETA -"
    assert lines[1].startswith("train: step 20/100") and "ETA -" not in lines[1]
    stream = io.StringIO()
    rare = plain_progress(100, every=3600.0, stream=stream)
    for step in range(1, 100):
        rare(step, {"loss": 2.0, "elapsed": 0.1 * step})
    rare(100, {"loss": 1.5, "val_loss": 1.25, "elapsed": 10.0, "final": True})
    lines = stream.getvalue().splitlines()
    assert [ln.split("  ")[0] for ln in lines if ln.startswith("train")] == \
        ["train: step 1/100", "train: step 100/100"]  # the first, and the final with its val
    assert "val 1.2500" in lines[-1]
    timed = io.StringIO()
    plain_progress(0, seconds=60.0, stream=timed)(5, {"loss": 2.0, "elapsed": 15.0})
    assert timed.getvalue().startswith("train: step 5  ") and "ETA 45 s" in timed.getvalue()
    unplanned = io.StringIO()  # the API's max_steps of a clock-bound run is no plan to show
    plain_progress(TIME_BOUND_STEPS, stream=unplanned)(5, {"loss": 2.0, "elapsed": 1.0})
    assert unplanned.getvalue().startswith("train: step 5  ") and "ETA -" in unplanned.getvalue()


def test_slow_steps_say_what_they_do_and_quiet_silences_them(
        runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "FIRST", 0.0)  # every step counts as slow here
    monkeypatch.setattr(status, "EVERY", 0.0)
    small = ["--domain", "handwriting", "-o", "lines=12", "-o", "max_chars=6", "--preset",
             "tiny", "--max-steps", "2"]
    out = cli(runner, "train", *small, "--run", "a")
    assert out.exit_code == 0, out.output
    first = "seqgen: writing the synthetic handwriting corpus (first use; cached after): "
    assert f"{first}1/12 lines" in out.stderr and f"{first}12/12 lines in " in out.stderr
    again = cli(runner, "train", *small, "--run", "b")
    assert again.exit_code == 0 and "writing the synthetic" not in again.stderr  # cached
    ev = cli(runner, "eval", "--run", "a")
    assert ev.exit_code == 0, ev.output
    assert re.search(r"^seqgen: eval: 1/\d+ batches$", ev.stderr, re.M), ev.stderr
    quiet = cli(runner, "train", *small[:3], "lines=13", *small[4:], "--run", "c", "--quiet")
    assert quiet.exit_code == 0 and "seqgen: writing" not in quiet.stderr


def test_status_lines(capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert list(status.counted(range(3), "quick")) == [0, 1, 2]
    assert capsys.readouterr().err == ""  # done before FIRST seconds: nothing to say
    with status.steps("slow", 2, unit="files", at_once=True, every=0.0) as tick:
        tick()
        tick()
    assert capsys.readouterr().err.splitlines() == [
        "seqgen: slow: 0/2 files", "seqgen: slow: 1/2 files", "seqgen: slow: 2/2 files",
        "seqgen: slow: 2/2 files in 0 s"]
    with status.silenced():
        status.say("hidden")
    monkeypatch.setenv("RANK", "1")  # another rank of a multi-process run
    status.say("hidden too")
    assert capsys.readouterr().err == ""
    assert [status.clock(s) for s in (4.4, 185, 3725)] == ["4 s", "3 m 05 s", "1 h 02 m"]


def test_max_time_bounds_the_closing_validation_and_the_save(
        runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import seqgen.engine.train as train
    from seqgen.engine.plot import pyplot

    pyplot()  # matplotlib loaded: the first save's plot would otherwise dominate 3 s
    real = train.evaluate

    def slow(net: Any, batches: Any, device: str, n: int, *a: Any) -> Any:
        time.sleep(1.0 * min(n, batches.n_chunks))  # a validation batch takes a second
        return real(net, batches, device, n, *a)

    monkeypatch.setattr(train, "evaluate", slow)
    big = tmp_path / "big.txt"
    big.write_text(SAMPLE_TEXT * 40, encoding="utf-8")  # room for several validation batches
    began = time.perf_counter()
    out = cli(runner, "train", "--data", big, "--run", "t", "--preset", "tiny", "--max-time",
              "3s")
    wall = time.perf_counter() - began
    assert out.exit_code == 0, out.output
    # unbounded, its 4-batch validations alone would take 8 s and more; generous margin
    assert wall < 3.0 + 2.5, (wall, out.stderr)
    assert re.search(r"done: step \d+, val loss \d\.\d{4} nats", out.stderr)
    rows = _rows(Path("t"))
    assert rows[-1]["elapsed"] <= 3.0 and "val_loss" in rows[-1]


def test_validation_paced_to_the_runs_length(runner: CliRunner, corpus: Path) -> None:
    # the small preset validates every 200 steps: a 50-step run does every fifth step
    out = cli(runner, "train", "--data", corpus, "--run", "s", "--preset", "small",
              *SMALL_NET, "--max-steps", "50", "--quiet")
    assert out.exit_code == 0, out.output
    assert [r["step"] for r in _rows(Path("s")) if "val_loss" in r] == list(range(5, 51, 5))
    timed = cli(runner, "train", "--data", corpus, "--run", "c", "--preset", "small",
                *SMALL_NET, "--max-time", "2s", "--quiet")
    assert timed.exit_code == 0, timed.output
    rows = _rows(Path("c"))
    vals = [r for r in rows if "val_loss" in r]
    assert rows[-1]["step"] > 20 and len(vals) >= 5  # about every 0.2 s, not every 200 steps
    assert vals[0]["elapsed"] < 1.0


def test_one_validation_takes_about_a_hundredth_of_the_run() -> None:
    assert Budget(TrainConfig(max_steps=2000, eval_batches=50)).eval_batches() == 50
    assert Budget(TrainConfig(max_steps=300, eval_batches=50)).eval_batches() == 9
    timed = Budget(TrainConfig(max_steps=TIME_BOUND_STEPS, max_time=60.0, eval_batches=50))
    timed.step_took(0.1)
    assert timed.eval_batches(fix=True) == 12  # 0.6 s of 60, at half a step per batch
    timed.batch_s, timed.save_s = 0.2, 1.0  # as timed: the count stays fixed
    assert timed.reserve() == pytest.approx(12 * 0.2 + 1.0)
    assert timed.left(50.0) == pytest.approx(60 - 50 - 0.1 - 3.4)
    assert timed.closing_batches(57.0) == 10  # what still fits before the save


def test_the_runs_length_is_said_again_when_its_pace_moves_far() -> None:
    """A first estimate from slow first steps is corrected once, after a minute (issue 28:
    "about 116 steps" ran 538); a steady pace is not said twice."""
    from seqgen.progress import Pace

    slow_start = Pace(0, 600.0)
    said = [slow_start.estimate(s, t, t) for s, t in
            [(0, 0.0), (20, 10.0), (400, 40.0), (1300, 70.0), (2000, 100.0)]]
    assert said[0] is None and said[1] is not None and "about 1,200 steps" in said[1]
    assert said[2] is None  # under a minute: not yet
    assert said[3] is not None and "its first steps ran at 2" in said[3]
    assert said[4] is None  # once
    steady = Pace(0, 600.0)
    again = [steady.estimate(s, t, t) for s, t in [(0, 0.0), (20, 10.0), (140, 70.0)]]
    assert again[1] is not None and again[2] is None
