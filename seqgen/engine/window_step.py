"""One sampling step of the window model (Graves 2013 section 5) in numpy, on prepared weights.

At batch 1 a torch step of WindowNet is some 60 small kernel launches; here it is about 45 numpy
calls of ~1 us on weights prepared once. The input's embedding is folded into every layer's
input weights (a (D, 4H) product, or a table lookup for tokens), and the whole state lives in
one row per batch entry, z = [w_t, h_1, ..., h_L] (B, V + L H): layer 1 multiplies z[:, :V + H]
by its recurrent weights in one product, the head reads z[:, V:], and nothing is concatenated
per step. benchmarks/bench_window.py measures it against a plain ``nn.LSTMCell`` loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from seqgen.engine.heads import Head
from seqgen.engine.window import WindowNet
from seqgen.engine.window_kernel import CLAMP, FLOOR


def _halved_ifo(m: np.ndarray, H: int) -> np.ndarray:
    """Columns of the i, f, o gates halved: sigmoid(x) = (tanh(x / 2) + 1) / 2, so one tanh
    over all four gates serves the whole cell."""
    out = np.array(m, np.float32)
    out[..., :2 * H] *= 0.5
    out[..., 3 * H:] *= 0.5
    return np.ascontiguousarray(out)


def numpy_ready(net: WindowNet) -> bool:
    """Whether the numpy step covers this network: a head that is its projection alone."""
    return type(net.head).forward is Head.forward and not net.training


class NumpyWindowStepper:
    """The window model's step in numpy for the texts ``cond`` (B, U), from a torch state."""

    def __init__(self, net: WindowNet, cond: np.ndarray, state: tuple[torch.Tensor, ...]) -> None:
        sd = {k: v.detach().float().cpu().numpy() for k, v in net.state_dict().items()}
        self.L, self.H, self.V, self.K = net.cfg.layers, net.cfg.hidden, net.V, net.K
        self.tokens = net.tokens
        E, H, V = net.cfg.embed, self.H, self.V
        xw: list[np.ndarray] = []  # per layer: (D + 1, 4H) input weights and bias, or table
        # recurrent rows, in z's order: layer 1 [w, h_1] and layer 2 [w, h_1, h_2] are one
        # slice of z each; a layer i > 2 reads [h_i-1, h_i] and, in ww, w
        self.rw: list[np.ndarray] = []
        self.ww: list[np.ndarray] = []
        for i in range(self.L):
            p = "cell." if i == 0 else f"rnns.{i - 1}."
            s = "" if i == 0 else "_l0"
            w_ih, w_hh = sd[p + "weight_ih" + s], sd[p + "weight_hh" + s]  # (4H, in), (4H, H)
            bias = sd[p + "bias_ih" + s] + sd[p + "bias_hh" + s]  # (4H,)
            xw.append(self._fold(sd, w_ih[:, :E], bias))
            below, w_rows = w_ih[:, E:E + H].T, w_ih[:, E + H:].T  # input [x, h_i-1, w]
            rows = [w_ih[:, E:].T] if i == 0 else [w_rows, below] if i == 1 else [below]
            self.rw.append(_halved_ifo(np.concatenate([*rows, w_hh.T]), H))
            if i > 1:
                self.ww.append(_halved_ifo(w_rows, H))  # (V, 4H)
        # every layer's input part in one product (or one lookup): (D + 1 or vocab, L 4H)
        self.xw = np.concatenate([_halved_ifo(m, H) for m in xw], 1)
        self.win_w, self.win_b = np.ascontiguousarray(sd["window.weight"].T), sd["window.bias"]
        self.head_w = np.ascontiguousarray(sd["head.proj.weight"].T)  # (L H, P)
        self.head_b = sd["head.proj.bias"]
        self._set_text(cond)
        h, c, kappa, w = (s.detach().float().cpu().numpy() for s in state)
        B = cond.shape[0]
        self.z = np.concatenate([w, *h], 1)  # (B, V + L H) [w, h_1, ..., h_L]
        self.c, self.kappa = c.copy(), kappa.copy()  # (L, B, H), (B, K)
        self.s, self.tmp = np.empty((B, 4 * H), np.float32), np.empty((B, H), np.float32)
        assert self.z.shape == (B, V + self.L * H)

    def _fold(self, sd: dict[str, np.ndarray], wx: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The input's embedding folded into a layer's input weights wx (4H, E)."""
        if self.tokens:
            return sd["inp.weight"] @ wx.T + bias  # (vocab, 4H)
        emb_w, emb_b = sd["inp.weight"], sd["inp.bias"]  # (E, D), (E,)
        return np.concatenate([(wx @ emb_w).T, (wx @ emb_b + bias)[None]])  # (D + 1, 4H)

    def _set_text(self, cond: np.ndarray) -> None:
        cond = np.asarray(cond, dtype=np.int64)  # (B, U)
        self.umask = (cond > 0).astype(np.float32)  # (B, U)
        self.onehot = np.zeros((*cond.shape, self.V), np.float32)  # (B, U, V)
        b, u = np.nonzero(cond)
        self.onehot[b, u, cond[b, u] - 1] = 1.0
        # positions 1..U + 1: phi at each text's length + 1 is Graves's stop test's phi(t, U+1)
        self.u = np.arange(1, cond.shape[1] + 2, dtype=np.float32)  # (U + 1,)
        self.rows, self.ends = np.arange(len(cond)), (cond > 0).sum(1)  # (B,), (B,)

    def _cell(self, i: int, gates: np.ndarray) -> None:
        """The LSTM cell (Graves eq. 7-11) on gates whose i, f, o columns came halved; writes
        h_i into z."""
        H, V = self.H, self.V
        t = np.tanh(gates, out=gates)  # gate order i, f, g, o as in torch.nn.LSTM
        s = np.multiply(t, 0.5, out=self.s)
        s += 0.5  # sigmoid of the i, f, o pre-activations
        c = self.c[i]
        c *= s[:, H:2 * H]
        c += np.multiply(s[:, :H], t[:, 2 * H:3 * H], out=self.tmp)
        h = self.z[:, V + i * H:V + (i + 1) * H]  # (B, H) eq. 11, in place in z
        np.multiply(s[:, 3 * H:], np.tanh(c, out=self.tmp), out=h)

    def _window(self) -> tuple[np.ndarray, np.ndarray]:
        """Eq. 46-51 from h_1; writes w_t into z and returns phi (B, U) and the stop test."""
        K, V = self.K, self.V
        e = np.exp(np.minimum(self.z[:, V:V + self.H] @ self.win_w + self.win_b, CLAMP))
        alpha, beta = e[:, :K], e[:, K:2 * K]  # (B, K)
        self.kappa += e[:, 2 * K:]
        d = self.kappa[:, :, None] - self.u  # (B, K, U + 1)
        ek = np.exp(-np.minimum(d * d * beta[:, :, None], FLOOR))  # (B, K, U + 1)
        every = (alpha[:, None, :] @ ek)[:, 0]  # (B, U + 1) eq. 46 at every position
        phi = every[:, :-1] * self.umask  # (B, U)
        self.z[:, :V] = (phi[:, None, :] @ self.onehot)[:, 0]  # (B, V) eq. 47
        return phi, every[self.rows, self.ends] > phi.max(1)

    def step(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (B,) tokens or (B, D) vectors -> params (B, P), phi (B, U), done (B,)."""
        H, V, z, G = self.H, self.V, self.z, 4 * self.H
        xg = self.xw[x] if self.tokens else x @ self.xw[:-1] + self.xw[-1]  # (B, L 4H)
        self._cell(0, xg[:, :G] + z[:, :V + H] @ self.rw[0])
        phi, done = self._window()
        for i in range(1, self.L):
            if i == 1:
                gates = xg[:, G:2 * G] + z[:, :V + 2 * H] @ self.rw[1]
            else:
                gates = xg[:, i * G:(i + 1) * G] + z[:, :V] @ self.ww[i - 2]
                gates += z[:, V + (i - 1) * H:V + (i + 1) * H] @ self.rw[i]
            self._cell(i, gates)
        return z[:, V:] @ self.head_w + self.head_b, phi, done


def attention_of(phi: Any, done: Any) -> tuple[np.ndarray, np.ndarray]:
    """A window's (phi, done) as numpy, whether it came from torch or numpy."""
    as_np = (lambda a: a.cpu().numpy()) if isinstance(phi, torch.Tensor) else np.asarray
    return as_np(phi), as_np(done)
