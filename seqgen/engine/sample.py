"""Stateful sampling: one step per token with the hidden state carried, never re-fed.

On the CPU the LSTM step runs in numpy on weights prepared once: the embedding is folded into
the first layer's input weights (a table lookup instead of a matmul) and each layer does one
matmul over [below; own hidden]. A torch step costs ~10 small kernel launches of ~5 us each;
numpy's overhead per call is ~1 us, which is what makes batch-1 sampling fast
(benchmarks/bench_sample.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from seqgen.engine.model import SeqModel
from seqgen.engine.window import WindowModel

NUMPY_MAX_BATCH = 64


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5  # overflow-free logistic


class NumpyStepper:
    """One time step of a SeqModel in numpy, with (h, c) of shape (L, B, H) carried."""

    def __init__(self, model: SeqModel) -> None:
        cfg = model.cfg
        self.L, self.H, E = cfg.layers, cfg.hidden, cfg.embed
        self.skip, self.tokens = cfg.skip, model.tokens
        sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
        self.xw: list[np.ndarray | None] = []  # input-part tables or matrices, per layer
        self.rw: list[np.ndarray] = []  # recurrent matrices [below; own] (., 4H)
        self.b: list[np.ndarray] = []
        if self.tokens:
            emb = sd["inp.weight"]  # (V, E)
        else:
            emb_w, emb_b = sd["inp.weight"], sd["inp.bias"]  # (E, D), (E,)
        for i in range(self.L):
            p = f"rnns.{i}." if self.skip else "rnns.0."
            sfx = "l0" if self.skip else f"l{i}"
            w_ih, w_hh = sd[p + f"weight_ih_{sfx}"], sd[p + f"weight_hh_{sfx}"]  # (4H, in), (4H, H)
            bias = sd[p + f"bias_ih_{sfx}"] + sd[p + f"bias_hh_{sfx}"]  # (4H,)
            gets_input = i == 0 or self.skip
            if gets_input:
                wx = w_ih[:, :E]  # (4H, E)
                if self.tokens:
                    self.xw.append(emb @ wx.T + bias)  # (V, 4H): embedding folded in
                else:
                    self.xw.append(np.concatenate([(wx @ emb_w).T, (wx @ emb_b + bias)[None]]))
                below = w_ih[:, E:]  # (4H, H) or empty for layer 0
                self.b.append(np.zeros_like(bias))
            else:
                self.xw.append(None)
                below = w_ih
                self.b.append(bias)
            self.rw.append(np.ascontiguousarray(np.concatenate([below.T, w_hh.T])))  # (., 4H)
        self.head_w = np.ascontiguousarray(sd["head.proj.weight"].T)  # (F, P)
        self.head_b = sd["head.proj.bias"]

    def step(self, x: np.ndarray, h: np.ndarray, c: np.ndarray) -> np.ndarray:
        """x: (B,) tokens or (B, D) vectors; h, c (L, B, H) updated in place -> params (B, P)."""
        H = self.H
        outs = []
        below: np.ndarray | None = None
        for i in range(self.L):
            xw = self.xw[i]
            if xw is None:
                gates = np.concatenate([below, h[i]], 1) @ self.rw[i] + self.b[i]  # (B, 4H)
            else:
                if self.tokens:
                    gates = xw[x]  # (B, 4H)
                else:
                    gates = x @ xw[:-1] + xw[-1]
                own = h[i] if below is None else np.concatenate([below, h[i]], 1)
                gates = gates + own @ self.rw[i]
            s = _sigmoid(gates)  # gate order i, f, g, o as in torch.nn.LSTM
            c[i] = s[:, H:2 * H] * c[i] + s[:, :H] * np.tanh(gates[:, 2 * H:3 * H])
            h[i] = s[:, 3 * H:] * np.tanh(c[i])
            below = h[i]
            outs.append(below)
        feats = np.concatenate(outs, 1) if self.skip else below  # (B, F)
        return feats @ self.head_w + self.head_b  # (B, P)


@dataclass
class SampleSettings:
    """Options shared by the CLI and the Python API."""

    num: int = 1
    length: int = 500
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    bias: float = 0.0
    seed: int | None = None
    keep_prime: bool = True


StepCallback = Callable[[np.ndarray, np.ndarray], None]


@torch.inference_mode()
def generate(model: SeqModel | WindowModel, context: np.ndarray, settings: SampleSettings,
             stop_token: int | None = None, on_step: StepCallback | None = None,
             device: str = "cpu", use_numpy: bool | None = None,
             stop_rule: Callable[[np.ndarray], np.ndarray] | None = None,
             cond: np.ndarray | None = None,
             attention: list[np.ndarray] | None = None,
             feedback: Callable[[np.ndarray], np.ndarray] | None = None) -> list[np.ndarray]:
    """Sample ``settings.num`` continuations of ``context`` (start token or frame, then prime).

    Returns, per sample, the generated steps up to (not including) the stop token, or up to
    and including the step where ``stop_rule`` first said done. For text-conditioned models
    ``cond`` (B, U) holds each row's text ids; a row also ends when the window has passed its
    last character (Graves 2013 section 5.2), and ``attention`` receives the window (B, U) of
    every step. ``feedback`` makes the next input from a sampled step (default: the step).
    """
    model.eval()
    B = settings.num
    rng = np.random.default_rng(settings.seed)
    ctx = torch.as_tensor(context).unsqueeze(0).expand(B, *context.shape).to(device)
    state = model.zero_state(B, device)
    ct = None if cond is None else torch.as_tensor(cond, dtype=torch.long, device=device)
    if len(context) > 1:  # prime in one fused call, then step
        _, state = model(ctx[:, :-1], state, None, ct)
    last = ctx[:, -1].cpu().numpy()  # (B,) or (B, D)
    if use_numpy is None:
        # numpy wins on the CPU while per-call overhead dominates (small batches); torch's
        # multi-threaded kernels win on big batches and on GPUs (benchmarks/bench_sample.py)
        use_numpy = torch.device(device).type == "cpu" and ct is None and B <= NUMPY_MAX_BATCH
    stepper = NumpyStepper(model) if use_numpy and isinstance(model, SeqModel) else None
    h, c = (s.float().cpu().numpy().copy() for s in state[:2])
    tstate = state
    done = np.zeros(B, dtype=bool)
    ends = np.full(B, settings.length)  # where a stop rule ended each sample
    steps: list[np.ndarray] = []
    for _ in range(settings.length):
        if stepper is not None:
            params = stepper.step(last, h, c)  # (B, P)
        else:
            xt = torch.as_tensor(last, device=device)
            p, tstate = model((xt if model.tokens else xt.float()).unsqueeze(1), tstate, None, ct)
            params = p[:, -1].float().cpu().numpy()
        nxt = model.head.sample(params, rng, temperature=settings.temperature,
                                top_k=settings.top_k, top_p=settings.top_p, bias=settings.bias)
        if stop_token is not None:
            done = done | (nxt == stop_token)
        ruled = np.zeros(B, dtype=bool)
        if stop_rule is not None:
            ruled |= np.asarray(stop_rule(nxt), dtype=bool)
        if isinstance(model, WindowModel) and model.last_done is not None:
            ruled |= model.last_done.cpu().numpy()
            if attention is not None and model.last_phi is not None:
                attention.append(model.last_phi.cpu().numpy())
        ruled &= ~done
        ends[ruled] = len(steps) + 1
        done = done | ruled
        steps.append(nxt)
        if on_step is not None:
            on_step(nxt, done)
        if done.all():
            break
        last = nxt if feedback is None else feedback(nxt)
    out = np.stack(steps, 1) if steps else np.zeros((B, 0), dtype=np.int64)  # (B, T, ...)
    results = []
    for b in range(B):
        seq = out[b][: ends[b]]
        if stop_token is not None:
            hits = np.flatnonzero(seq == stop_token)
            seq = seq[: hits[0]] if len(hits) else seq
        results.append(seq)
    return results
