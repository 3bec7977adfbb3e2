"""The GPU path, exercised where a CPU can (issue 15 section 5): training on a GPU runs its
forward pass under bf16 autocast (engine/train.py), so every head's loss and the window
kernel must be right under autocast; a CUDA device asked for on a machine without one is a
one-line error. benchmarks/bench_gpu.py measures the real thing when a GPU is lent.

oneDNN has no bf16 LSTM on this CPU ("could not create a primitive descriptor"), so
``nn.LSTM`` runs outside autocast here and the heads see its features under it, as they see
cuDNN's on a GPU; the window model (one layer: its own recurrence, no ``nn.LSTM``) runs whole
under autocast."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from seqgen.config import ModelConfig
from seqgen.engine.heads import CategoricalHead
from seqgen.engine.mixture import DiagGMMHead, MDN2DHead
from seqgen.engine.model import SeqNet
from seqgen.engine.specs import TokenInput, VectorInput
from seqgen.engine.window import WindowNet

from conftest import cli, one_line_error

B, T, U, V = 3, 12, 7, 9
CFG = ModelConfig(layers=2, hidden=32, embed=8)


class _HeadUnderAutocast(torch.nn.Module):
    """A SeqNet whose LSTM stack runs in float32 and whose head runs under the caller's
    autocast (the CPU cannot run nn.LSTM in bf16)."""

    def __init__(self, net: SeqNet) -> None:
        super().__init__()
        self.net, self.head = net, net.head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        with torch.autocast("cpu", enabled=False):
            feats, _ = self.net._stack(self.net.inp(x), self.net.zero_state(x.shape[0]))
        return self.head(feats), None  # (B, T, P) in bf16 under autocast


def _text() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...], torch.Tensor]:
    net = SeqNet(CFG, TokenInput(20), CategoricalHead(32, num_classes=20))
    return _HeadUnderAutocast(net), (torch.randint(0, 20, (B, T)),), torch.randint(0, 20, (B, T))


def _ink() -> tuple[torch.nn.Module, tuple[torch.Tensor | None, ...], torch.Tensor]:
    cfg = ModelConfig(layers=1, hidden=32, embed=8)
    net = WindowNet(cfg, VectorInput(3), MDN2DHead(32, components=3), V, mixtures=2)
    x = torch.cat([torch.randn(B, T, 2), (torch.rand(B, T, 1) < 0.2).float()], -1)
    return net, (x, None, None, torch.randint(1, V + 1, (B, U))), x


def _speech() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...], torch.Tensor]:
    net = SeqNet(CFG, VectorInput(11), DiagGMMHead(32, dim=10, components=2))
    x = torch.randn(B, T, 11)
    x[..., -1] = (torch.rand(B, T) < 0.1).float()
    return _HeadUnderAutocast(net), (x,), x


@pytest.mark.parametrize("make", [_text, _ink, _speech], ids=["softmax", "window-mdn", "gmm"])
def test_every_head_trains_under_bf16_autocast(make: object) -> None:
    torch.manual_seed(0)
    net, inputs, target = make()  # type: ignore[operator]
    for p in net.parameters():  # a model as training leaves it, not only its initial state
        p.data.add_(0.05 * torch.randn_like(p))

    def loss_and_grads(autocast: bool) -> tuple[float, list[torch.Tensor]]:
        net.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            params, _ = net(*inputs)
            assert params.dtype == (torch.bfloat16 if autocast else torch.float32)
            total, n = net.head.loss(params, target)
        (total / n).backward()
        return float((total / n).detach()), [p.grad.detach().clone() for p in net.parameters()
                                  if p.grad is not None]

    ref, ref_grads = loss_and_grads(False)
    got, grads = loss_and_grads(True)
    assert torch.isfinite(torch.tensor(got)) and abs(got - ref) <= 0.05 * abs(ref) + 0.05
    assert len(grads) == len(ref_grads)
    for g, r in zip(grads, ref_grads, strict=True):
        assert torch.isfinite(g).all() and g.dtype == torch.float32  # master weights stay fp32
        cos = torch.nn.functional.cosine_similarity(g.flatten(), r.flatten(), 0)
        assert r.abs().max() < 1e-6 or cos > 0.95


def test_cuda_on_a_machine_without_one_is_one_line(runner: CliRunner) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    for cmd in (["train", "--domain", "text", "--device", "cuda", "--max-steps", "1"],
                ["train", "--domain", "text", "--device", "tpu", "--max-steps", "1"]):
        err = one_line_error(cli(runner, *cmd))
        assert "--device cuda" in err or "unknown device 'tpu'" in err
