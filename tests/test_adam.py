"""engine/adam.py against torch.optim.Adam and AdamW, and what it saves for a training process."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from seqgen.engine.adam import Adam
from seqgen.engine.checkpoint import _optim_from_flat, _optim_to_flat


def _net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Embedding(11, 6), torch.nn.LSTM(6, 8, batch_first=True))


def _train(net: torch.nn.Module, opt: object, steps: int, lrs: list[float]) -> None:
    torch.manual_seed(5)
    for i in range(steps):
        for g in opt.param_groups:  # type: ignore[attr-defined]
            g["lr"] = lrs[i % len(lrs)]  # a schedule, as the trainer sets it each step
        out, _ = net(torch.randint(0, 11, (3, 7)))
        opt.zero_grad(set_to_none=True)  # type: ignore[attr-defined]
        (out**2).mean().backward()
        opt.step()  # type: ignore[attr-defined]


@pytest.mark.parametrize("decoupled,wd", [(False, 0.0), (False, 0.1), (True, 0.01)])
def test_same_bits_as_torch(decoupled: bool, wd: float) -> None:
    ours, ref = _net(1), _net(1)
    opt = Adam(ours.parameters(), lr=3e-3, weight_decay=wd, decoupled=decoupled)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    topt = cls(ref.parameters(), lr=3e-3, weight_decay=wd)
    lrs = [3e-3, 1e-3, 2e-2]
    _train(ours, opt, 12, lrs)
    _train(ref, topt, 12, lrs)
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.equal(a, b)
    ref_sd, sd = topt.state_dict(), opt.state_dict()
    assert sd["param_groups"][0].keys() == ref_sd["param_groups"][0].keys()
    for i, st in ref_sd["state"].items():
        for k, v in st.items():
            assert torch.equal(sd["state"][i][k], v) and sd["state"][i][k].dtype == v.dtype


def test_state_moves_both_ways_through_a_checkpoint() -> None:
    """Ours saved, torch's restored (a run resumed on a GPU) and torch's saved, ours restored."""
    a, b = _net(2), _net(2)
    opt = Adam(a.parameters(), lr=1e-2)
    _train(a, opt, 3, [1e-2])
    tensors, meta = _optim_to_flat(opt)  # type: ignore[arg-type]
    topt = torch.optim.Adam(b.parameters(), lr=1e-2)
    b.load_state_dict(a.state_dict())
    topt.load_state_dict(_optim_from_flat(tensors, meta))
    back = Adam(a.parameters(), lr=1.0)
    back.load_state_dict(_optim_from_flat(*_optim_to_flat(topt)))
    assert back.param_groups[0]["lr"] == 1e-2
    _train(a, back, 4, [1e-2])
    _train(b, topt, 4, [1e-2])
    for x, y in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(x, y)


def test_mismatched_groups_refused() -> None:
    opt = Adam(_net(3).parameters(), lr=1e-2)
    other = Adam(torch.nn.Linear(2, 2).parameters(), lr=1e-2)
    with pytest.raises(ValueError, match="parameter groups"):
        other.load_state_dict(opt.state_dict())


def test_cpu_training_never_imports_dynamo(tmp_path) -> None:
    """The point of the class: a CPU training process does not pay torch._dynamo's import."""
    data = tmp_path / "corpus.txt"
    data.write_text("to be or not to be, that is the question\n" * 40)
    code = (
        "import sys, seqgen\n"
        f"seqgen.train('text', {str(data)!r}, preset='tiny', run={str(tmp_path / 'run')!r},"
        " max_steps=3, progress=False)\n"
        "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
