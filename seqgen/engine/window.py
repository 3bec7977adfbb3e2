"""Conditioning on a text: the soft attention window of Graves 2013, section 5.1.

The first LSTM layer emits, at every step, the parameters of K Gaussians over character
positions: phi(t, u) = sum_k alpha_k exp(-beta_k (kappa_k - u)^2), alpha = exp(a), beta = exp(b),
kappa_t = kappa_{t-1} + exp(k) (eq. 46-51). The window vector w_t = sum_u phi(t, u) c_u mixes the
one-hot characters c; it feeds the upper layers at step t and the first layer at step t + 1.
Because layer 1 needs w_{t-1}, it runs as a step loop (engine/window_kernel.py: the weights of
an ``nn.LSTMCell``, a hand-written backward); the upper layers see the whole sequence at once
and keep the fused ``nn.LSTM`` kernel. Any domain can condition on text:
it answers ``Domain.conditioned()`` and ``Domain.text_of(document)``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from seqgen.config import ModelConfig
from seqgen.engine.heads import Head
from seqgen.engine.specs import InputSpec, TokenInput
from seqgen.engine.window_kernel import CLAMP, WindowRecurrence
from seqgen.errors import SeqgenError

State = tuple[torch.Tensor, ...]  # h (L, B, H), c (L, B, H), kappa (B, K), w (B, V)


class Window(NamedTuple):
    """The window at a model's last step: what the sampler reads (and plots)."""

    phi: torch.Tensor  # (B, U) attention over the text's characters
    done: torch.Tensor  # (B,) Graves's stop test: the window has passed the last character


class WindowNet(nn.Module):
    """Input -> LSTMCell layer 1 + soft window -> fused upper layers -> head (skip-connected)."""

    def __init__(self, cfg: ModelConfig, input_spec: InputSpec, head: Head, vocab_size: int,
                 mixtures: int = 10) -> None:
        super().__init__()
        self.cfg, self.V, self.K = cfg, vocab_size, mixtures
        self.tokens = isinstance(input_spec, TokenInput)
        E, H = cfg.embed, cfg.hidden
        self.inp: nn.Module = nn.Embedding(input_spec.vocab_size, E) if isinstance(
            input_spec, TokenInput) else nn.Linear(input_spec.dim, E)
        self.drop: nn.Module = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        self.cell = nn.LSTMCell(E + vocab_size, H)
        self.window = nn.Linear(H, 3 * mixtures)
        with torch.no_grad():  # start slow: exp(-3) ~ 0.05 characters per step
            self.window.bias[2 * mixtures:].fill_(-3.0)
        self.rnns = nn.ModuleList(nn.LSTM(E + H + vocab_size, H, batch_first=True)
                                  for _ in range(cfg.layers - 1))
        self.head = head

    @property
    def feature_size(self) -> int:
        return self.cfg.hidden * self.cfg.layers

    def zero_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        L, H = self.cfg.layers, self.cfg.hidden
        z = torch.zeros(L, batch, H, device=device)
        return (z, z.clone(), torch.zeros(batch, self.K, device=device),
                torch.zeros(batch, self.V, device=device))

    def forward(self, x: torch.Tensor, state: State | None = None,
                resets: torch.Tensor | None = None,
                cond: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
        """x (B, T[, D]), cond ids (B, U) -> head params (B, T, P) and the new state."""
        params, new_state, _ = self._run(x, state, cond)
        return params, new_state

    def step(self, x: torch.Tensor, state: State,
             cond: torch.Tensor) -> tuple[torch.Tensor, State, Window]:
        """One sampling step x (B, 1[, D]) -> params (B, P), the new state and its window."""
        params, new_state, window = self._run(x, state, cond)
        return params[:, -1], new_state, window

    def _run(self, x: torch.Tensor, state: State | None,
             cond: torch.Tensor | None) -> tuple[torch.Tensor, State, Window]:
        if cond is None:
            raise SeqgenError("this model is conditioned on text: give it a text")
        B = x.shape[0]
        h, c, kappa, w = state if state is not None else self.zero_state(B, x.device)
        idx = (cond - 1).clamp(min=0)  # (B, U) each position's character (0 where padded)
        umask = (cond > 0).to(w.dtype)  # (B, U)
        emb = self.drop(self.inp(x))  # (B, T, E)
        E, cell = emb.shape[-1], self.cell
        w_rec = torch.cat([cell.weight_ih[:, E:], cell.weight_hh], 1).t()  # (V + H, 4H)
        below, wins, c1, kappa, phi = WindowRecurrence.apply(
            emb.transpose(0, 1).to(w_rec.dtype), cell.weight_ih[:, :E].t(),
            cell.bias_ih + cell.bias_hh, w_rec, self.window.weight.t(), self.window.bias,
            h[0], c[0], kappa, w, idx, umask)  # (B, T, H), (B, T, V), (B, H), (B, K), (B, U)
        h1, w = below[:, -1], wins[:, -1]  # (B, H), (B, V)
        window = self._window(phi, h1, kappa, umask)
        outs, hs, cs = [below], [h1], [c1]
        for i, rnn in enumerate(self.rnns):
            below, (hi, ci) = rnn(torch.cat([emb, self.drop(below), wins], -1),
                                  (h[i + 1:i + 2].contiguous(), c[i + 1:i + 2].contiguous()))
            outs.append(below)
            hs.append(hi[0])
            cs.append(ci[0])
        feats = torch.cat(outs, -1)  # (B, T, L*H)
        state_out = (torch.stack(hs), torch.stack(cs), kappa, w)
        return self.head(self.drop(feats)), state_out, window

    @torch.no_grad()
    def _window(self, phi: torch.Tensor, h1: torch.Tensor, kappa: torch.Tensor,
                umask: torch.Tensor) -> Window:
        """The last step's window and Graves's stop test: phi(t, U+1) > phi(t, u) for all u <= U
        (alpha and beta of that step again from its h, eq. 48-50)."""
        alpha, beta, _ = torch.exp(self.window(h1).clamp(max=CLAMP)).chunk(3, -1)  # (B, K) each
        end = umask.sum(1, keepdim=True) + 1  # (B, 1) position just past each text
        phi_end = (alpha * torch.exp(-beta * (kappa - end) ** 2)).sum(1)  # (B,)
        return Window(phi.detach(), (phi_end > phi.max(1).values).detach())
