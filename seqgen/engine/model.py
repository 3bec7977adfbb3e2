"""The network: input encoding, a stack of LSTM layers, and an output head.

Without skip connections the stack is one multi-layer ``nn.LSTM``, which runs the fused oneDNN
kernel on CPU and cuDNN on GPU. With ``skip`` (Graves 2013, section 2, eq. 1-4: the input feeds
every layer and every layer feeds the output) each layer is its own single-layer ``nn.LSTM``.
Hidden state is carried between calls; ``resets`` (B, T) zeroes it where a document starts, by
running the fused kernel on the segments between reset columns.
"""

from __future__ import annotations

import torch
from torch import nn

from seqgen.config import ModelConfig
from seqgen.engine.heads import Head
from seqgen.engine.specs import InputSpec, TokenInput

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (L, B, H)


class SeqNet(nn.Module):
    """Embedding or projection -> LSTM stack -> head parameters."""

    def __init__(self, cfg: ModelConfig, input_spec: InputSpec, head: Head) -> None:
        super().__init__()
        self.cfg = cfg
        self.tokens = isinstance(input_spec, TokenInput)
        self.known = 0 if isinstance(input_spec, TokenInput) else input_spec.known
        if isinstance(input_spec, TokenInput):
            self.inp: nn.Module = nn.Embedding(input_spec.vocab_size, cfg.embed)
        else:
            self.inp = nn.Linear(input_spec.dim, cfg.embed)
        # Identity when p = 0: a no-op dropout still costs a kernel per call in training mode
        self.drop: nn.Module = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        H, L, E = cfg.hidden, cfg.layers, cfg.embed
        if cfg.skip:
            self.rnns = nn.ModuleList(
                nn.LSTM(E + (H if i else 0), H, batch_first=True) for i in range(L))
        else:
            self.rnns = nn.ModuleList([nn.LSTM(E, H, L, batch_first=True,
                                               dropout=cfg.dropout if L > 1 else 0.0)])
        self.head = head

    @property
    def feature_size(self) -> int:
        """Width of what the head sees: the top layer, or every layer with skip connections."""
        return self.cfg.hidden * (self.cfg.layers if self.cfg.skip else 1)

    def zero_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        z = torch.zeros(self.cfg.layers, batch, self.cfg.hidden, device=device)
        return z, z.clone()

    def forward(self, x: torch.Tensor, state: State | None = None,
                resets: torch.Tensor | None = None,
                cond: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
        """x (B, T) tokens or (B, T, D) vectors -> head params (B, T, P) and the new state.

        ``cond`` is for text-conditioned models (engine/window.py) and is ignored here.
        """
        B = x.shape[0]
        if state is None:
            state = self.zero_state(B, x.device)
        if self.known and (self.cfg.feedback_dropout >= 1 or
                           self.training and self.cfg.feedback_dropout > 0):
            x = self._drop_feedback(x)  # at 1 never fed back, in sampling too
        emb = self.drop(self.inp(x))  # (B, T, E)
        cols = [] if resets is None else resets.any(0).nonzero().flatten().tolist()
        bounds = sorted(set([0, *cols, x.shape[1]]))
        outs = []
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if resets is not None and a in cols:
                keep = (~resets[:, a]).to(emb.dtype).view(1, B, 1)  # (1, B, 1)
                state = (state[0] * keep, state[1] * keep)
            out, state = self._stack(emb[:, a:b], state)
            outs.append(out)
        feats = outs[0] if len(outs) == 1 else torch.cat(outs, 1)  # (B, T, F)
        return self.head(self.drop(feats)), state

    def _drop_feedback(self, x: torch.Tensor) -> torch.Tensor:
        """Zero the fed-back columns of random steps (the known ones stay): (B, T, D)."""
        keep = torch.rand(x.shape[0], x.shape[1], 1, device=x.device) >= \
            self.cfg.feedback_dropout  # (B, T, 1)
        own = x[..., :-self.known] * keep.to(x.dtype)  # (B, T, D - C)
        return torch.cat([own, x[..., -self.known:]], -1)

    def _stack(self, emb: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        if not self.cfg.skip:
            out, (h, c) = self.rnns[0](emb, state)  # (B, T, H)
            return out, (h, c)
        hs, cs, outs = [], [], []
        below: torch.Tensor | None = None
        for i, rnn in enumerate(self.rnns):
            inp = emb if below is None else torch.cat([emb, self.drop(below)], -1)  # (B, T, E+H)
            below, (h, c) = rnn(inp, (state[0][i:i + 1].contiguous(),
                                      state[1][i:i + 1].contiguous()))
            outs.append(below)
            hs.append(h)
            cs.append(c)
        return torch.cat(outs, -1), (torch.cat(hs), torch.cat(cs))  # (B, T, L*H)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
