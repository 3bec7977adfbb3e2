"""Two processes with gloo on this CPU: identical weights on every rank, and the same result as
one process with the same global batch (PyTorch's own torchrun + DistributedDataParallel)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqgen.engine.checkpoint import load_tensors

ARGS = ["--preset", "tiny", "--quiet", "--batch-size", "8", "--seq-len", "32", "--max-steps",
        "12", "--log-every", "1", "--eval-every", "1000", "--save-every", "1000", "--seed", "2"]


def _losses(run: Path) -> list[float]:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows if "loss" in r]


@pytest.mark.slow
def test_two_processes_match_one(corpus: Path) -> None:
    cmd = [sys.executable, "-m", "seqgen.cli.main", "train", "--data", str(corpus), *ARGS]
    two = subprocess.run([*cmd, "--run", "ddp", "--nproc", "2", "--save-every", "6"],
                         capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stderr
    assert two.stderr.count("done: step 12") == 1  # only rank 0 reports
    one = subprocess.run([*cmd, "--run", "single"], capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr
    rows = [json.loads(x) for x in Path("ddp/metrics.jsonl").read_text().splitlines()]
    ddp = [r for r in rows if r.get("event") == "ddp"]
    assert ddp and ddp[0]["world_size"] == 2 and ddp[0]["weight_spread"] == 0.0
    np.testing.assert_allclose(_losses(Path("ddp")), _losses(Path("single")), rtol=1e-4)
    a = load_tensors(Path("ddp/model.safetensors"))
    b = load_tensors(Path("single/model.safetensors"))
    for k in a:
        np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), atol=2e-5, rtol=1e-4)
    # resume across a changed world size: the 2-process run as it stood at its step-6
    # checkpoint, continued by 1 process, gives the uninterrupted single-process run (the
    # checkpoint holds the whole batch's carried state; the data position is the global step)
    shutil.copytree("ddp", "half")
    shutil.rmtree(Path("half/checkpoints/step-00000012"))
    rest = subprocess.run([*cmd, "--run", "half", "--resume"], capture_output=True, text=True,
                          timeout=600)
    assert rest.returncode == 0, rest.stderr
    assert "resum" in rest.stderr.lower() or "done: step 12" in rest.stderr
    np.testing.assert_allclose(_losses(Path("half")), _losses(Path("single")), rtol=1e-4)
    c = load_tensors(Path("half/model.safetensors"))
    for k in c:
        np.testing.assert_allclose(c[k].numpy(), b[k].numpy(), atol=2e-5, rtol=1e-4)
