"""Threads chosen from the work of a step and the machine's load (issue 15 section 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqgen.config import ModelConfig
from seqgen.engine import threads

from conftest import TINY, cli


def test_step_macs_counts_every_layer() -> None:
    cfg = ModelConfig(layers=2, hidden=4, embed=3)
    # layer 1: 4H (E + H) = 16 * 7; layer 2: 4H (H + H) = 16 * 8; x3, x batch * seq
    assert threads.step_macs(cfg, 2, 5) == 3 * (16 * 7 + 16 * 8) * 10
    skip = ModelConfig(layers=2, hidden=4, embed=3, skip=True)  # the input reaches layer 2
    assert threads.step_macs(skip, 1, 1) == 3 * (16 * 7 + 16 * (3 + 4 + 4))


def test_choose_by_size_load_and_what_was_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "cores", lambda: 4)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    assert threads.choose(1e6) == (1, "a small model")
    assert threads.choose(1e11) == (3, "3 of 4 cores free")  # one core is another job's
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert threads.choose(1e11)[0] == 1  # a machine full of others: one thread, never zero
    assert threads.choose(1e11, 2) == (2, "--threads")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.choose(1e6) == (3, "OMP_NUM_THREADS")


def test_the_first_progress_line_says_the_threads(runner: CliRunner, corpus: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    out = cli(runner, "train", "--data", corpus, "--preset", "tiny", "--max-steps", "3")
    assert out.exit_code == 0, out.output
    first = next(ln for ln in out.stderr.splitlines() if ln.startswith("train: step"))
    assert first.endswith("threads 1 (a small model)")
    out = cli(runner, "train", "--data", corpus, *TINY, "--max-steps", "2", "--threads", "0")
    assert out.exit_code == 2 and "--threads 0: must be at least 1" in out.stderr
    sample = cli(runner, "sample", "--domain", "text", "--threads", "1", "--length", "20")
    assert sample.exit_code == 0, sample.output
