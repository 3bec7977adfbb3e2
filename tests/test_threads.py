"""Threads chosen from the work of a step and what the CPUs do (issues 15 and 24)."""

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


QUOTA_CORES = threads.quota_cores  # the real reader, for its own test


@pytest.fixture(autouse=True)
def no_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine running the tests may sit in a container with a CPU quota: the fake CPU
    sets here must not meet it."""
    monkeypatch.setattr(threads, "quota_cores", lambda: None)


def _stat(busy: list[int], idle: int = 1000) -> str:
    """A /proc/stat with one line per CPU: ``busy`` user jiffies each."""
    lines = [f"cpu  {sum(busy)} 0 0 {idle * len(busy)} 0 0 0 0 0 0"]
    lines += [f"cpu{i} {b} 0 0 {idle} 0 0 0 0 0 0" for i, b in enumerate(busy)]
    return "\n".join([*lines, "intr 1 2 3", "ctxt 99"]) + "\n"


def test_proc_stat_counts_busy_jiffies_per_cpu(tmp_path: Path) -> None:
    path = tmp_path / "stat"
    path.write_text("cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 1 2 3 100 7 4 5 6 0 0\n"
                    "cpu1 10 0 0 50 0 0 0 0 0 0\n")
    # user + nice + system + irq + softirq + steal; idle (100) and iowait (7) are not busy
    assert threads._proc_stat(str(path)) == {0: 1 + 2 + 3 + 4 + 5 + 6, 1: 10}
    assert threads._proc_stat(str(tmp_path / "none")) is None


def test_a_cgroup_quota_caps_the_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cpu.max"
    for text, want in (("200000 100000\n", 2), ("150000 100000", 2), ("max 100000", None),
                       ("junk", None)):
        path.write_text(text)
        assert QUOTA_CORES(str(path)) == want, text
    assert QUOTA_CORES(str(tmp_path / "none")) is None
    monkeypatch.setattr(threads, "cpu_set", lambda: list(range(64)))
    monkeypatch.setattr(threads, "quota_cores", lambda: 2)
    assert threads.cores() == 2  # a container with --cpus 2 on a 64-core host
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    # the host's busy CPUs are other containers' business: the quota is the choice, kept
    assert threads.choose(1e11) == (2, "a CPU quota of 2 cores")
    assert not threads.automatic(None, 1e11)


def test_others_is_busy_time_that_is_not_ours() -> None:
    before = threads.Reading(wall=10.0, own=1.0, busy=100.0)
    # in 2 s, the CPUs were busy 3 s, 1 s of it ours: others kept one core busy
    assert threads.Reading(12.0, 2.0, 103.0).others_since(before) == pytest.approx(1.0)
    assert threads.Reading(12.0, 4.0, 103.0).others_since(before) == 0.0  # never negative
    assert threads.Reading(12.0, 2.0, None).others_since(before) is None


def test_choose_by_size_measured_load_and_what_was_asked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "cpu_set", lambda: [0, 1, 2, 3])
    # the one-minute load average says a job ran: it must not count, the CPUs are idle now
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (4.0, 4.0, 4.0))
    clock = {"t": 100.0, "busy": 0.0}

    def reading() -> threads.Reading:  # a fake /proc/stat and clock (nothing of ours runs)
        return threads.Reading(clock["t"], 0.0, clock["busy"])

    def sleep(s: float) -> None:
        clock["t"] += s

    monkeypatch.setattr(threads.Reading, "now", staticmethod(reading))
    monkeypatch.setattr(threads.time, "perf_counter", lambda: clock["t"])
    monkeypatch.setattr(threads.time, "sleep", sleep)
    monkeypatch.setattr(threads, "_START", reading())
    clock["t"] += 3.0  # start-up: torch's import, the corpus (the CPUs idle of others' work)
    assert threads.choose(1e6) == (1, "a small model")
    n, why = threads.choose(1e11)
    assert n == 4 and why.startswith("4 of 4 cores free, others measured at 0.0"), why
    monkeypatch.setattr(threads, "_START", reading())  # a later process: one core busy
    clock.update(t=clock["t"] + 2.0, busy=clock["busy"] + 2.0)
    n, why = threads.choose(1e11, None)
    assert n == 3 and "measured at 1.0" in why
    monkeypatch.setattr(threads, "_START", reading())
    clock["busy"] += 0.1  # too recent a reading: choose waits MIN_WINDOW_S, then reads
    assert threads.choose(1e11)[0] == 4 and clock["t"] == pytest.approx(
        threads._START.wall + threads.MIN_WINDOW_S)
    monkeypatch.setattr(threads, "_START", reading())
    clock.update(t=clock["t"] + 1.0, busy=clock["busy"] + 9.0)  # full of others: never zero
    assert threads.choose(1e11)[0] == 1
    # a notebook an hour after its import, others busy on 3 cores that hour but idle now: the
    # hour's average is stale (it would say one thread), a fresh window counts
    clock.update(t=clock["t"] + 3600.0, busy=clock["busy"] + 3 * 3600.0)
    now = clock["t"]
    assert threads.choose(1e11)[0] == 4 and clock["t"] == pytest.approx(
        now + threads.MIN_WINDOW_S)
    assert threads.choose(1e11, 2) == (2, "--threads")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.choose(1e6) == (3, "OMP_NUM_THREADS")
    assert not threads.automatic(None, 1e11)  # OMP_NUM_THREADS: the count is the user's


def test_without_proc_stat_the_load_average_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "cpu_set", lambda: [0, 1])
    monkeypatch.setattr(threads, "_proc_stat", lambda path="": None)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    assert threads.choose(1e11) == (1, "1 of 2 cores free, others load average at 1.2")


def test_the_governor_follows_other_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "cpu_set", lambda: [0, 1])
    applied: list[int] = []
    monkeypatch.setattr(threads, "apply", lambda n: applied.append(n) or n)
    clock = {"t": 0.0, "busy": 0.0}

    def reading() -> threads.Reading:
        return threads.Reading(clock["t"], 0.0, clock["busy"])

    monkeypatch.setattr(threads.Reading, "now", staticmethod(reading))
    monkeypatch.setattr(threads.time, "perf_counter", lambda: clock["t"])
    gov = threads.Governor(2, every=10.0)
    clock.update(t=5.0, busy=5.0)
    assert gov.tick() is None and applied == []  # not due yet
    clock.update(t=12.0, busy=12.0)  # another job took a core for these 12 s
    note = gov.tick()
    assert applied == [1] and note is not None and note.startswith("1 (others now at 1.0")
    clock.update(t=24.0, busy=13.0)  # it left
    assert gov.tick() is not None and applied == [1, 2]
    clock.update(t=36.0, busy=13.5)  # a blip under half a core: no move
    assert gov.tick() is None and applied == [1, 2]
    clock.update(t=48.0, busy=25.5)  # a job again: down to one
    assert gov.tick() is not None and applied == [1, 2, 1]
    clock.update(t=60.0, busy=30.5)  # 0.42 of a core: not enough to take one, too much to
    assert gov.tick() is None and applied == [1, 2, 1]  # call it gone: no flapping


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
