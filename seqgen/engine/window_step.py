"""One sampling step of the window model (Graves 2013 section 5) in numpy, on prepared weights.

At batch 1 a torch step of WindowNet is some 60 small kernel launches; here it is about 35 numpy
calls of ~1 us on weights prepared once, and only the results and one (B,) maximum are new
arrays. The whole state lives in one row per batch entry, z = [x, w_t, 1, h_1, ..., h_L]
(B, D + V + 1 + L H): the input's embedding is folded into every layer's input weights (rows
for x, or a table lookup for tokens) and the constant 1 carries every bias, so layer 1's and
layer 2's gates are one product of a slice of z each (input, window, bias and recurrence
together), the window reads [1, h_1] and the head [1, h_1, ..., h_L]; nothing is concatenated
or added per step. Every buffer, and every slice of one, is made once in __init__.
benchmarks/bench_window.py measures it against a plain ``nn.LSTMCell`` loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from seqgen.engine.heads import Head
from seqgen.engine.window import WindowNet
from seqgen.engine.window_kernel import CLAMP, FLOOR


def _rows(blocks: list[np.ndarray], H: int = 0) -> np.ndarray:
    """Blocks (N, n_i) in torch's layout side by side, as the rows (sum n_i, N) that multiply z;
    with H, the i, f, o gates' columns halved: sigmoid(x) = (tanh(x / 2) + 1) / 2, so one tanh
    over all four gates serves the whole cell. One pass of transposed copies into the result:
    concatenating, halving and transposing in turn took 10 ms of each sample's setup."""
    out = np.empty((sum(b.shape[1] for b in blocks), blocks[0].shape[0]), np.float32)  # (K, N)
    scale = np.ones(out.shape[1], np.float32)  # (N,)
    if H:
        scale[:2 * H] = scale[3 * H:] = 0.5
    r = 0
    for b in blocks:
        np.multiply(b.T, scale, out=out[r:r + b.shape[1]])
        r += b.shape[1]
    return out


def numpy_ready(net: WindowNet) -> bool:
    """Whether the numpy step covers this network: a head that is its projection alone."""
    return type(net.head).forward is Head.forward and not net.training


class NumpyWindowStepper:
    """The window model's step in numpy for the texts ``cond`` (B, U), from a torch state."""

    def __init__(self, net: WindowNet, cond: np.ndarray, state: tuple[torch.Tensor, ...]) -> None:
        sd = {k: v.detach().float().cpu().numpy() for k, v in net.state_dict().items()}
        self.L, self.H, self.V, self.K = net.cfg.layers, net.cfg.hidden, net.V, net.K
        self.tokens = net.tokens
        self.D = 0 if self.tokens else sd["inp.weight"].shape[1]
        # offsets in z: x at 0, w_t at D, the constant 1 at o1, h_1 .. h_L from oh
        self.o1 = self.D + self.V
        self.oh = self.o1 + 1
        self._set_weights(sd, net.cfg.embed)
        self._set_text(cond)
        h, c, kappa, w = (s.detach().float().cpu().numpy() for s in state)
        B = cond.shape[0]
        ones = np.ones((B, 1), np.float32)
        self.z = np.concatenate([np.zeros((B, self.D), np.float32), w, ones, *h], 1)
        self.c, self.kappa = c.copy(), kappa.copy()  # (L, B, H), (B, K)
        assert self.z.shape == (B, self.oh + self.L * self.H)
        self._set_buffers(B)

    def _set_weights(self, sd: dict[str, np.ndarray], E: int) -> None:
        """Per layer the rows that multiply z's slices; window and head with their bias as the
        row of z's 1."""
        H = self.H
        table: list[np.ndarray] = []  # tokens: (4H, vocab) per layer, the embedding folded in
        self.rw: list[np.ndarray] = []  # rows of z[:, :oh + (i+1) H] (i < 2), or [h_i-1, h_i]
        self.ww: list[np.ndarray] = []  # layers i > 1: rows of z[:, :oh], [x, w, 1]
        for i in range(self.L):
            p = "cell." if i == 0 else f"rnns.{i - 1}."
            s = "" if i == 0 else "_l0"
            w_ih, w_hh = sd[p + "weight_ih" + s], sd[p + "weight_hh" + s]  # (4H, in), (4H, H)
            bias = sd[p + "bias_ih" + s] + sd[p + "bias_hh" + s]  # (4H,)
            x_cols, bias = self._fold(sd, w_ih[:, :E], bias)  # (4H, D or vocab), (4H,)
            if self.tokens:
                table.append(x_cols)
                x_cols = x_cols[:, :0]  # z holds no input: the lookup adds it
            below = w_ih[:, E:E + H]  # (4H, H); the input is [x, w] (i = 0), [x, h_i-1, w]
            front = [x_cols, w_ih[:, E:] if i == 0 else w_ih[:, E + H:], bias[:, None]]
            # layer 1 reads [x, w, 1, h_1], layer 2 [x, w, 1, h_1, h_2], layer i > 2 [h_i-1, h_i]
            blocks = front if i == 0 else [*front, below] if i == 1 else [below]
            self.rw.append(_rows([*blocks, w_hh], H))
            if i > 1:
                self.ww.append(_rows(front, H))  # (D + V + 1, 4H)
        # tokens: every layer's input part in one lookup (vocab, L 4H)
        self.table = np.concatenate([_rows([m], H) for m in table], 1) if table else None
        self.win_w = _rows([sd["window.bias"][:, None], sd["window.weight"]])  # (1 + H, 3K)
        self.head_w = _rows([sd["head.proj.bias"][:, None], sd["head.proj.weight"]])

    def _fold(self, sd: dict[str, np.ndarray], wx: np.ndarray,
              bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The input's embedding folded into a layer's input weights wx (4H, E): the columns
        for x (4H, D) or for each token (4H, vocab), and the layer's bias (4H,)."""
        if self.tokens:
            return wx @ sd["inp.weight"].T, bias  # (4H, vocab)
        emb_w, emb_b = sd["inp.weight"], sd["inp.bias"]  # (E, D), (E,)
        return wx @ emb_w, wx @ emb_b + bias

    def _set_text(self, cond: np.ndarray) -> None:
        cond = np.asarray(cond, dtype=np.int64)  # (B, U)
        self.umask = (cond > 0).astype(np.float32)  # (B, U)
        self.onehot = np.zeros((*cond.shape, self.V), np.float32)  # (B, U, V)
        b, u = np.nonzero(cond)
        self.onehot[b, u, cond[b, u] - 1] = 1.0
        # positions 1..U + 1: phi at each text's length + 1 is Graves's stop test's phi(t, U+1)
        self.u = np.arange(1, cond.shape[1] + 2, dtype=np.float32)  # (U + 1,)
        self.rows, self.ends = np.arange(len(cond)), (cond > 0).sum(1)  # (B,), (B,)

    def _set_buffers(self, B: int) -> None:
        """Every buffer a step writes, and every slice of one, made once."""
        H, K, U, z, oh = self.H, self.K, self.onehot.shape[1], self.z, self.oh
        self.gates = np.empty((self.L, B, 4 * H), np.float32)  # per layer: pre-activations
        self.s, self.tmp = np.empty((B, 4 * H), np.float32), np.empty((B, H), np.float32)
        self.tmp4 = np.empty((B, 4 * H), np.float32)
        self.cells = [(self.gates[i], self.gates[i][:, 2 * H:3 * H], self.c[i],
                       z[:, oh + i * H:oh + (i + 1) * H]) for i in range(self.L)]
        self.s_i, self.s_f, self.s_o = self.s[:, :H], self.s[:, H:2 * H], self.s[:, 3 * H:]
        # the slice of z each layer's rw multiplies
        self.z_in = [z[:, :oh + H], z[:, :oh + 2 * H]] + [
            z[:, oh + (i - 1) * H:oh + (i + 1) * H] for i in range(2, self.L)]
        self.z_x, self.z_front = z[:, :self.D], z[:, :oh]  # [x], [x, w, 1]
        self.z_win, self.z_head = z[:, self.o1:oh + H], z[:, self.o1:]  # [1, h_1], [1, h_1..]
        self.e = np.empty((B, 3 * K), np.float32)  # exp of the window's (a, b, k) hats
        self.alpha = self.e[:, None, :K]  # (B, 1, K)
        self.beta, self.dk = self.e[:, K:2 * K, None], self.e[:, 2 * K:]  # (B, K, 1), (B, K)
        self.kappa3 = self.kappa[:, :, None]  # (B, K, 1)
        self.d = np.empty((B, K, U + 1), np.float32)
        self.every = np.empty((B, 1, U + 1), np.float32)  # eq. 46 at positions 1..U + 1
        self.every_u, self.z_w = self.every[:, :, :U], z[:, None, self.D:self.o1]  # (B, 1, U|V)
        self.phi_u = self.every[:, 0, :U]  # (B, U)
        same_end = bool((self.ends == self.ends[0]).all())
        # phi(t, U + 1) of each row: a view when every text has the same length (batch 1)
        self.every_end = self.every[:, 0, self.ends[0]] if same_end else None

    def _cell(self, i: int) -> None:
        """The LSTM cell (Graves eq. 7-11) on gates whose i, f, o columns came halved; writes
        h_i into z."""
        t, t_g, c, h = self.cells[i]  # (B, 4H), (B, H) x 3
        np.tanh(t, out=t)  # gate order i, f, g, o as in torch.nn.LSTM
        np.multiply(t, 0.5, out=self.s)
        np.add(self.s, 0.5, out=self.s)  # sigmoid of the i, f, o pre-activations
        np.multiply(c, self.s_f, out=c)
        np.multiply(self.s_i, t_g, out=self.tmp)
        np.add(c, self.tmp, out=c)
        np.multiply(self.s_o, np.tanh(c, out=self.tmp), out=h)  # (B, H) eq. 11, in place in z

    def _window(self) -> tuple[np.ndarray, np.ndarray]:
        """Eq. 46-51 from h_1; writes w_t into z and returns phi (B, U) and the stop test."""
        e, d = self.e, self.d
        np.matmul(self.z_win, self.win_w, out=e)  # (B, 3K): [1, h_1] @ [b; W]
        np.exp(np.minimum(e, CLAMP, out=e), out=e)
        np.add(self.kappa, self.dk, out=self.kappa)
        np.subtract(self.kappa3, self.u, out=d)  # (B, K, U + 1)
        np.multiply(d, d, out=d)
        np.multiply(d, self.beta, out=d)
        np.negative(np.minimum(d, FLOOR, out=d), out=d)
        np.matmul(self.alpha, np.exp(d, out=d), out=self.every)  # (B, 1, U + 1) eq. 46
        # eq. 47 on the unmasked phi: a padded position's one-hot row is zero
        np.matmul(self.every_u, self.onehot, out=self.z_w)  # (B, 1, V) into z
        phi = np.multiply(self.phi_u, self.umask)  # (B, U), a new array: callers keep it
        end = self.every[self.rows, 0, self.ends] if self.every_end is None else self.every_end
        return phi, np.greater(end, phi.max(1))

    def step(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (B,) tokens or (B, D) vectors -> params (B, P), phi (B, U), done (B,)."""
        xg = None if self.table is None else self.table[x]  # (B, L 4H) tokens
        if xg is None:
            np.copyto(self.z_x, x)  # (B, D)
        self._gates(0, xg)
        self._cell(0)
        phi, done = self._window()
        for i in range(1, self.L):
            self._gates(i, xg)
            self._cell(i)
        return self.z_head @ self.head_w, phi, done  # (B, P): [1, h_1..h_L] @ [b; W]

    def _gates(self, i: int, xg: np.ndarray | None) -> None:
        """Layer i's pre-activations into its buffer; layers 1 and 2 in one product of a slice
        of z (input, window, bias and recurrence together)."""
        g = self.cells[i][0]  # (B, 4H)
        np.matmul(self.z_in[i], self.rw[i], out=g)
        if i > 1:
            g += np.matmul(self.z_front, self.ww[i - 2], out=self.tmp4)  # [x, w, 1]
        if xg is not None:
            G = 4 * self.H
            g += xg[:, i * G:(i + 1) * G]


def attention_of(phi: Any, done: Any) -> tuple[np.ndarray, np.ndarray]:
    """A window's (phi, done) as numpy, whether it came from torch or numpy."""
    as_np = (lambda a: a.cpu().numpy()) if isinstance(phi, torch.Tensor) else np.asarray
    return as_np(phi), as_np(done)
