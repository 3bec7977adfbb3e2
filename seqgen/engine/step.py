"""One step of a network with its state explicit: what ``seqgen export`` writes as ONNX.

``SeqStep`` calls the SeqNet's own forward on a one-step sequence. ``WindowStep`` cannot call
WindowNet.step as it is: layer 1 and the window run in a custom autograd Function
(engine/window_kernel.py) whose buffers, written in place, export as scatter nodes. It runs
the same step from the net's own modules (the cell, the window's projection, the upper
layers, the head) with the window's equations (Graves 2013 eq. 46-51) in plain operations,
and ``tests/test_export.py`` holds it to WindowNet.step on the same weights.

Inputs and outputs are tensors only, so that any runtime can loop the step: feed each
``*_out`` back as the input of the same name without ``_out``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seqgen.engine.model import SeqNet
from seqgen.engine.window import WindowNet
from seqgen.engine.window_kernel import CLAMP, FLOOR

#: the graph's names, in the order forward takes and returns them
SEQ_INPUTS = ("x", "h", "c")
SEQ_OUTPUTS = ("params", "h_out", "c_out")
WINDOW_INPUTS = ("x", "h", "c", "kappa", "w", "text")
WINDOW_OUTPUTS = ("params", "h_out", "c_out", "kappa_out", "w_out", "phi", "done")


class SeqStep(nn.Module):
    """x (B,) tokens or (B, D) vectors, h and c (L, B, H) -> params (B, P), h, c."""

    inputs, outputs = SEQ_INPUTS, SEQ_OUTPUTS

    def __init__(self, net: SeqNet) -> None:
        super().__init__()
        self.net = net.eval()

    def forward(self, x: torch.Tensor, h: torch.Tensor,
                c: torch.Tensor) -> tuple[torch.Tensor, ...]:
        params, (h_out, c_out) = self.net(x.unsqueeze(1), (h, c))  # (B, 1, P)
        return params[:, 0], h_out, c_out


class WindowStep(nn.Module):
    """x, h and c (L, B, H), kappa (B, K), w (B, V), text (B, U) character ids (index + 1, 0
    pads) -> params (B, P), h, c, kappa, w, phi (B, U) and done (B,): the window has passed
    the text's last character (Graves's stop test)."""

    inputs, outputs = WINDOW_INPUTS, WINDOW_OUTPUTS

    def __init__(self, net: WindowNet) -> None:
        super().__init__()
        self.net = net.eval()

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, kappa: torch.Tensor,
                w: torch.Tensor, text: torch.Tensor) -> tuple[torch.Tensor, ...]:
        net = self.net
        umask = (text > 0).to(w.dtype)  # (B, U)
        chars = torch.arange(1, net.V + 1, device=text.device)  # (V,)
        onehot = (text.unsqueeze(-1) == chars).to(w.dtype)  # (B, U, V), padding all 0
        emb = net.inp(x)  # (B, E)
        h1, c1 = net.cell(torch.cat([emb, w], -1), (h[0], c[0]))  # (B, H) each
        alpha, beta, step = torch.exp(net.window(h1).clamp(max=CLAMP)).chunk(3, -1)  # (B, K)
        kappa = kappa + step  # (B, K) eq. 51
        u = torch.arange(1, text.shape[1] + 1, dtype=w.dtype, device=w.device)  # (U,)
        arg = (beta.unsqueeze(-1) * (kappa.unsqueeze(-1) - u) ** 2).clamp(max=FLOOR)  # (B, K, U)
        phi = (alpha.unsqueeze(-1) * torch.exp(-arg)).sum(1) * umask  # (B, U) eq. 46
        w = (phi.unsqueeze(-1) * onehot).sum(1)  # (B, V) eq. 47
        done = net._window(phi, h1, kappa, umask).done  # (B,)
        below, outs, hs, cs = h1, [h1], [h1], [c1]
        for i, rnn in enumerate(net.rnns):
            seq, (hi, ci) = rnn(torch.cat([emb, below, w], -1).unsqueeze(1),
                                (h[i + 1:i + 2], c[i + 1:i + 2]))  # (B, 1, H)
            below = seq[:, 0]  # (B, H)
            outs.append(below)
            hs.append(hi[0])
            cs.append(ci[0])
        params = net.head(torch.cat(outs, -1))  # (B, P)
        return params, torch.stack(hs), torch.stack(cs), kappa, w, phi, done


def step_module(net: SeqNet | WindowNet) -> SeqStep | WindowStep:
    """The one-step module of a network (its own weights, in eval mode)."""
    return WindowStep(net) if isinstance(net, WindowNet) else SeqStep(net)


def example_inputs(net: SeqNet | WindowNet, batch: int = 2,
                   chars: int = 3) -> tuple[torch.Tensor, ...]:
    """Zero state and a first input for ``batch`` rows (and texts of ``chars`` characters):
    the arguments of the step module. Batch and text sizes of 2 or more, so that an exporter
    does not take them for constants."""
    x: torch.Tensor
    if net.tokens:
        x = torch.zeros(batch, dtype=torch.long)  # (B,)
    else:
        lin = net.inp
        assert isinstance(lin, nn.Linear)
        x = torch.zeros(batch, lin.in_features)  # (B, D)
    state = net.zero_state(batch)
    if isinstance(net, SeqNet):
        return (x, *state)
    text = torch.arange(batch * chars).view(batch, chars) % net.V + 1  # (B, U) ids
    return (x, *state, text)


def dynamic_shapes(module: SeqStep | WindowStep) -> tuple[dict[int, Any], ...]:
    """torch.export's dynamic dimensions of the step's inputs: the batch, and the text's length."""
    batch, chars = torch.export.Dim("batch"), torch.export.Dim("chars")
    state = ({1: batch}, {1: batch})  # h, c (L, B, H)
    if isinstance(module, SeqStep):
        return ({0: batch}, *state)
    return ({0: batch}, *state, {0: batch}, {0: batch}, {0: batch, 1: chars})
