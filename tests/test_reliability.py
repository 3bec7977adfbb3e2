"""Faults lose nothing: SIGKILL and resume, Ctrl-C, a kill inside a save, a second trainer,
non-finite losses, a full disk, a read-only run directory. docs/reliability.md lists these
tests by name."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seqgen
from seqgen import runs
from seqgen.engine import checkpoint as ckpt
from seqgen.engine.heads import CategoricalHead
from seqgen.errors import SeqgenError
from seqgen_text.domain import TextDomain

# big enough that a step takes a few ms, so a test can kill the process between checkpoints
ARGS = ["--preset", "tiny", "--quiet", "--hidden", "64", "--seq-len", "64", "--batch-size",
        "16", "--max-steps", "40", "--save-every", "10", "--log-every", "1", "--seed", "4"]


def _train_cmd(corpus: Path, run: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seqgen.cli.main", "train", "--data", str(corpus), "--run",
            run, *ARGS, *extra]


def _losses(run: Path) -> list[tuple[int, float]]:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["loss"]) for r in rows if "loss" in r]


def _wait_for(path_glob: Path, pattern: str, proc: subprocess.Popen[bytes],
              timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        if list(path_glob.glob(pattern)):
            return
        time.sleep(0.005)
    raise AssertionError(f"no {pattern} under {path_glob} (process ended: {proc.poll()})")


@pytest.fixture
def big_corpus(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    words = ["speak", "citizen", "famish", "resolved", "proceed", "hear", "me", "all", "you"]
    text = " ".join(rng.choice(words, 12000)) + "\n"
    path = tmp_path / "big.txt"
    path.write_text(text)
    return path


def test_sigkill_then_resume_reproduces_the_uninterrupted_run(big_corpus: Path) -> None:
    subprocess.run(_train_cmd(big_corpus, "whole"), check=True, capture_output=True, timeout=300)
    proc = subprocess.Popen(_train_cmd(big_corpus, "killed"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for(Path("killed/checkpoints"), "step-00000010", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    saved = ckpt.latest_checkpoint(Path("killed"))
    assert saved is not None and int(saved.name[5:]) < 40
    out = subprocess.run([sys.executable, "-m", "seqgen.cli.main", "train", "--resume", "--run",
                          "killed", "--quiet"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert _losses(Path("killed")) == _losses(Path("whole"))  # step for step


def test_sigint_saves_and_says_how_to_resume(big_corpus: Path) -> None:
    proc = subprocess.Popen(_train_cmd(big_corpus, "int", "--max-steps", "100000"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(Path("int/checkpoints"), "step-00000010", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume with: seqgen train --resume --run int" in err
    step = json.loads(Path("int/config.json").read_text())["step"]
    assert ckpt.latest_checkpoint(Path("int")).name == f"step-{step:08d}"


def test_kill_inside_a_checkpoint_write_keeps_the_previous_one(big_corpus: Path) -> None:
    script = textwrap.dedent(f"""
        import time, seqgen.engine.checkpoint as c
        real = c.save_file
        def slow(tensors, path):
            if "optim" in path and c.latest_checkpoint(__import__("pathlib").Path("slow")):
                real(tensors, path)  # stuck in the middle of the second save
                open("slow/STUCK", "w").close()
                time.sleep(60)
            return real(tensors, path)
        c.save_file = slow
        import seqgen
        seqgen.train("text", {str(big_corpus)!r}, run="slow", preset="tiny", max_steps=40,
                     save_every=10, hidden=64, seq_len=64, batch_size=16)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    _wait_for(Path("slow"), "STUCK", proc)
    assert list(Path("slow/checkpoints").glob(".tmp-*/optim.safetensors"))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    found = ckpt.latest_checkpoint(Path("slow"))
    assert found is not None and found.name == "step-00000010"
    ckpt.load_tensors(found / "model.safetensors")  # whole and loadable
    assert seqgen.train("text", run="slow", resume=True).step == 40


def test_second_trainer_on_a_run_is_refused_and_dead_locks_do_not_stick(
        corpus: Path, runner: Any) -> None:
    from conftest import cli, one_line_error

    seqgen.train("text", str(corpus), run="r", preset="tiny", max_steps=5)
    with runs.lock(Path("r")):
        msg = one_line_error(cli(runner, "train", "--resume", "--run", "r", "--max-steps", "8"))
        assert "being trained by another process" in msg and str(os.getpid()) in msg
    holder = subprocess.Popen([sys.executable, "-c", "import time; from pathlib import Path; "
                               "from seqgen import runs\nwith runs.lock(Path('r')): "
                               "print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert seqgen.train("text", run="r", resume=True, max_steps=8).step == 8


def test_non_finite_losses_roll_back_with_a_lower_learning_rate(
        corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real = CategoricalHead.loss
    calls = {"n": 0}

    def poisoned(self: CategoricalHead, params: Any, target: Any, mask: Any = None) -> Any:
        total, n = real(self, params, target, mask)
        if self.training:
            calls["n"] += 1
            if 13 <= calls["n"] <= 15:  # three bad steps in a row after the step-10 checkpoint
                return total * float("nan"), n
        return total, n

    monkeypatch.setattr(CategoricalHead, "loss", poisoned)
    res = seqgen.train("text", str(corpus), run="nan", preset="tiny", max_steps=30,
                       save_every=10, log_every=1)
    assert res.step == 30 and np.isfinite(res.train_loss)
    assert "rolled back to step 10 with the learning rate x0.5" in capsys.readouterr().err
    rows = [json.loads(x) for x in Path("nan/metrics.jsonl").read_text().splitlines()]
    assert any(r.get("event") == "rollback" and r["from_step"] == 15 for r in rows)
    lrs = {r["step"]: r["lr"] for r in rows if "lr" in r}
    assert lrs[20] < 0.6 * seqgen.config.preset("tiny").train.lr


def test_disk_full_is_one_line_and_keeps_the_checkpoint(
        corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ckpt.save_file
    calls = {"n": 0}

    def full(tensors: Any, path: str) -> None:
        calls["n"] += 1
        if calls["n"] > 4:  # the second checkpoint fails
            raise OSError(errno.ENOSPC, "No space left on device")
        real(tensors, path)

    monkeypatch.setattr(ckpt, "save_file", full)
    with pytest.raises(SeqgenError, match="No space left on device; the previous checkpoint "
                                          r"\(step-00000010\) is kept"):
        seqgen.train("text", str(corpus), run="full", preset="tiny", max_steps=30)
    assert not list(Path("full/checkpoints").glob(".tmp-*"))  # no half-written folder left


# The child runs a command as root on a copy (so that every module it needs is imported: the
# interpreter and its standard library may live where nobody may not read, a pyenv under
# /root), then becomes nobody and runs the command under test.
AS_NOBODY = """
import contextlib, io, json, os, sys
from seqgen.cli.main import app, main
warm, cache, real = json.loads(sys.argv[1]), os.environ["SEQGEN_CACHE"], sys.argv[2:]
os.environ["SEQGEN_CACHE"] = cache + "-root"
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        app(warm, standalone_mode=False)
    except BaseException:
        pass
os.environ["SEQGEN_CACHE"] = cache
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
sys.argv = ["seqgen", *real]
main()
"""


def _as_nobody(base: Path, warm: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``seqgen ARGS`` as nobody (as root) or as ourselves, after ``seqgen WARM`` as we are."""
    cache = base / "cache-for-anyone"  # the child encodes the corpus again, in its own cache
    cache.mkdir(mode=0o777, exist_ok=True)
    cache.chmod(0o777)
    env = {**os.environ, "HOME": str(base), "MPLCONFIGDIR": str(cache),
           "SEQGEN_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-c", AS_NOBODY, json.dumps(warm), *args],
                         capture_output=True, text=True, env=env, cwd=base, timeout=300)
    last = (out.stderr.strip().splitlines() or [""])[-1]
    if out.returncode != 2 and ("ModuleNotFoundError" in last or (
            "PermissionError" in last and str(base) not in last)):
        pytest.skip(f"nobody (uid 65534) cannot read what seqgen needs here: {last}")
    return out


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_read_only_run_directory_is_one_line_and_keeps_the_checkpoint(corpus: Path) -> None:
    """A run directory the trainer may not write (chmod 0555, and not its owner's process):
    exit 2, one line naming it, the previous checkpoint untouched; a new run inside a
    read-only folder the same. As root (which writes anywhere) the child runs as nobody."""
    base = Path(tempfile.mkdtemp(prefix="seqgen-ro-"))  # pytest's tmp_path is root's alone
    try:
        base.chmod(0o755)
        data = base / "corpus.txt"
        data.write_text(corpus.read_text())
        run = base / "run"
        seqgen.train("text", str(data), run=str(run), preset="tiny", max_steps=5)
        shutil.copytree(run, base / "warm")
        before = _tree(run)
        for d in [run, *(p for p in run.rglob("*") if p.is_dir())]:
            d.chmod(0o555)
        out = _as_nobody(base, ["train", "--resume", "--run", str(base / "warm"), "--quiet",
                                "--max-steps", "6"],
                         "train", "--resume", "--run", str(run), "--max-steps", "10", "--quiet")
        assert out.returncode == 2, out.stderr
        assert out.stderr.strip() == (
            f"seqgen: error: cannot write a checkpoint in {run}: the run directory is not "
            f"writable (Permission denied); the previous checkpoint (step-00000005) is kept")
        assert _tree(run) == before  # nothing written, nothing removed
        ckpt.load_tensors(run / "checkpoints" / "step-00000005" / "model.safetensors")
        fresh = run / "fresh"
        new = ["train", "--data", str(data), "--preset", "tiny", "--max-steps", "1", "--quiet"]
        out = _as_nobody(base, [*new, "--run", str(base / "warm-new")],
                         *new, "--run", str(fresh))
        assert out.returncode == 2, out.stderr
        assert out.stderr.strip() == (
            f"seqgen: error: cannot write a checkpoint in {fresh}: the run directory is not "
            f"writable (Permission denied); no checkpoint")
        assert not fresh.exists()
    finally:
        for d in [base, *(p for p in base.rglob("*") if p.is_dir())]:
            d.chmod(0o755)
        shutil.rmtree(base)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_fuzz_text_codec_round_trips(text: str) -> None:
    dom = TextDomain()
    dom.fit([text])
    assert dom.decode(dom.encode(text)) == text.replace("\x00", "\x00")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_text_reader_takes_or_refuses_cleanly(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fz") / "f.txt"
    path.write_bytes(data)
    try:
        corpus = TextDomain().load_corpus(str(path))
    except SeqgenError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert corpus.documents == [data.decode("utf-8")]
