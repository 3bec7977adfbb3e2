"""Every JSON file seqgen writes is strict JSON; a run with no held-out data says so once and
writes null, never NaN; the headline sample command works without --text (issue 12)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seqgen.fileio import dumps

from conftest import TINY, cli


def strict(text: str) -> Any:
    """json.loads that refuses NaN and Infinity, as every other JSON parser does."""
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def check_run_json(run: Path) -> dict[str, Any]:
    """Parse every JSON file of a run strictly; return config.json."""
    files = [run / "config.json", *run.glob("checkpoints/*/trainer.json")]
    assert len(files) >= 2
    for f in files:
        strict(f.read_text())
    for line in (run / "metrics.jsonl").read_text().splitlines():
        strict(line)
    return strict((run / "config.json").read_text())


def test_dumps_writes_null_for_non_finite_numbers() -> None:
    obj = {"a": math.nan, "b": [1.5, math.inf, -math.inf], "c": (2, "x"), "d": None}
    assert strict(dumps(obj)) == {"a": None, "b": [1.5, None, None], "c": [2, "x"], "d": None}
    with pytest.raises(ValueError, match="NaN"):
        strict(json.dumps({"a": math.nan}))  # the check itself bites on Python's default


def test_text_run_too_small_to_hold_out(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "tiny.txt"
    data.write_text("hello world, this is.\n")
    out = cli(runner, "train", "--domain", "text", "--data", data, *TINY, "--max-steps", "3",
              "--seq-len", "4", "--batch-size", "2", "--run", "r")
    assert out.exit_code == 0, out.output
    said = [ln for ln in out.stderr.splitlines() if "no validation split" in ln]
    assert len(said) == 1 and "tiny.txt" in said[0] and "3 steps" in said[0], out.stderr
    assert "nan" not in out.stderr.lower()
    assert "val loss -" in out.stderr
    assert check_run_json(Path("r"))["val_loss"] is None
    info = cli(runner, "info", "r")
    assert "no validation split" in info.stdout
    resumed = cli(runner, "train", "--resume", "--run", "r", "--max-steps", "5", "--quiet")
    assert resumed.exit_code == 0, resumed.output
    assert check_run_json(Path("r"))["step"] == 5


def test_handwriting_one_line_and_the_headline_command(runner: CliRunner,
                                                       tmp_path: Path) -> None:
    """One ink file is one document: no validation split, said once; then
    `seqgen sample --domain handwriting --render out.svg` (no --text) writes a page."""
    import numpy as np

    from seqgen_handwriting.ink import Ink, from_polylines
    from seqgen_handwriting.render import inkml_text

    t = np.linspace(0, 6 * np.pi, 120)
    ink = Ink(from_polylines([np.c_[t, np.sin(t)], np.c_[t + 20, np.cos(t)]]), "hello there")
    (tmp_path / "one.inkml").write_text(inkml_text(ink))
    out = cli(runner, "train", "--domain", "handwriting", "--data", tmp_path / "one.inkml",
              *TINY, "--max-steps", "2", "--batch-size", "2")
    assert out.exit_code == 0, out.output
    said = [ln for ln in out.stderr.splitlines() if "no validation split" in ln]
    assert len(said) == 1 and "1 document," in said[0] and "at least 10" in said[0]
    run = Path("runs/handwriting") / Path("runs/handwriting/latest").read_text().strip()
    config = check_run_json(run)
    assert config["val_loss"] is None
    assert config["condition"]["examples"] == ["hello there"]  # no held-out line: a training one
    sample = cli(runner, "sample", "--domain", "handwriting", "--render", "out.svg",
                 "--seed", "1")
    assert sample.exit_code == 0, sample.output
    assert "no --text given: writing 'hello there' (training lines" in sample.stderr
    assert "<path" in Path("out.svg").read_text()
