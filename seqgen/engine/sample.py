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
from typing import Any

import numpy as np
import torch

from seqgen.engine.model import SeqNet
from seqgen.engine.settings import SampleSettings
from seqgen.engine.specs import LengthRule
from seqgen.engine.window import WindowNet
from seqgen.engine.window_step import NumpyWindowStepper, attention_of, numpy_ready

__all__ = ["NumpyStepper", "Plan", "SampleSettings", "Sampled", "generate"]

NUMPY_MAX_BATCH = 64


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5  # overflow-free logistic


class NumpyStepper:
    """One time step of a SeqNet in numpy, with (h, c) of shape (L, B, H) carried."""

    def __init__(self, net: SeqNet) -> None:
        cfg = net.cfg
        self.L, self.H, E = cfg.layers, cfg.hidden, cfg.embed
        self.skip, self.tokens = cfg.skip, net.tokens
        sd = {k: v.detach().float().cpu().numpy() for k, v in net.state_dict().items()}
        self.xw: list[np.ndarray | None] = []  # input-part tables or matrices, per layer
        self.rw: list[np.ndarray] = []  # recurrent matrices [below; own] (., 4H)
        self.b: list[np.ndarray] = []
        if self.tokens:
            emb = sd["inp.weight"]  # (V, E)
        else:
            emb_w, emb_b = sd["inp.weight"], sd["inp.bias"]  # (E, D), (E,)
            if net.known and cfg.feedback_dropout >= 1:  # never fed back (engine/model.py)
                emb_w = emb_w.copy()
                emb_w[:, :-net.known] = 0.0
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


StepCallback = Callable[[np.ndarray, np.ndarray], None]
StopRule = Callable[[np.ndarray], np.ndarray]


@dataclass
class Plan:
    """How one call runs, worked out by the caller from the settings and the domain."""

    rows: int | None = None  # batch rows; default settings.num
    steps: int | None = None  # the step cap; default settings.length (a whole number) or 500
    stop_token: int | None = None  # a sample ends before it (the document separator)
    stop_rule: StopRule | None = None  # (B,) done flags from each step's samples
    cond: np.ndarray | None = None  # (B, U) text ids of a text-conditioned model
    feedback: Callable[[np.ndarray], np.ndarray] | None = None  # next input from a sample
    on_step: StepCallback | None = None  # called with each step's samples and done flags
    never: tuple[int, ...] = ()  # tokens never drawn (their logits -inf): an unknown token
    #: the tokens (B, T) so far (the context, then what was drawn) -> (B, V) True where a token
    #: may not be drawn next (an illegal move, a note out of range); a row that would have
    #: nothing left is drawn unconstrained
    constraint: Callable[[np.ndarray], np.ndarray] | None = None
    #: (B, T, C) the known columns of every step (VectorInput.known), zero past a row's end;
    #: row b ends after known_len[b] steps
    known: np.ndarray | None = None
    known_len: np.ndarray | None = None
    #: (T,) a given part (``--melody``): step t draws given[t] where it is >= 0, else samples
    #: freely but not the end token; the sample is exactly T steps. The constraint rule still
    #: sees every step, so the free steps are ruled knowing the given ones.
    given: np.ndarray | None = None


@dataclass
class Sampled:
    """Per row, the steps generated; and the attention windows of a conditioned model."""

    sequences: list[np.ndarray]
    attention: np.ndarray | None = None  # (B, T, U)


Attention = tuple[np.ndarray, np.ndarray]  # a window model's phi (B, U) and stop flags (B,)
Step = Callable[[np.ndarray], tuple[np.ndarray, Attention | None]]


@torch.inference_mode()
def generate(net: SeqNet | WindowNet, context: np.ndarray, settings: SampleSettings,
             plan: Plan | None = None, device: str = "cpu",
             use_numpy: bool | None = None) -> Sampled:
    """Sample continuations of ``context`` (the start token or frame, then the prime).

    A row ends before ``plan.stop_token``, at the step where ``plan.stop_rule`` first says
    done (that step included), when a conditioned model's window has passed the end of its
    text (Graves 2013 section 5.2), or after ``plan.steps`` steps.
    """
    plan = plan or Plan()
    rows = plan.rows or settings.num
    cap = plan.steps or (settings.length if isinstance(settings.length, int) else 500)
    if plan.given is not None:
        cap = len(plan.given)
    net.eval()
    step, last = _prime(net, context, rows, plan.cond, device, use_numpy)
    if plan.known is not None:  # the first step's known columns, row by row
        cap = min(cap, plan.known.shape[1])
        last = np.concatenate([last[:, :-plan.known.shape[2]], plan.known[:, 0]], 1)
    seen = None
    if plan.constraint is not None and context.ndim == 1:  # tokens so far, for the rule
        seen = np.zeros((rows, len(context) + cap), np.int64)  # (B, T0 + cap)
        seen[:, :len(context)] = context
    out, ends, windows = _run(step, last, net.head, settings, plan, rows, cap, seen)
    return Sampled(_trim(out, ends, plan.stop_token),
                   np.stack(windows, 1) if windows else None)


def _prime(net: SeqNet | WindowNet, context: np.ndarray, B: int, cond: np.ndarray | None,
           device: str, use_numpy: bool | None) -> tuple[Step, np.ndarray]:
    """Run the prime through the network in one fused call; return a one-step function and the
    last context step (the first input of sampling)."""
    ctx = torch.as_tensor(context).unsqueeze(0).expand(B, *context.shape).to(device)
    ct = None if cond is None else torch.as_tensor(cond, dtype=torch.long, device=device)
    state = net.zero_state(B, device)
    if len(context) > 1:
        _, state = net(ctx[:, :-1], state, None, ct)
    last = ctx[:, -1].cpu().numpy()  # (B,) or (B, D)
    if use_numpy is None:
        # numpy wins on the CPU while per-call overhead dominates (small batches); torch's
        # multi-threaded kernels win on big batches and on GPUs (benchmarks/bench_sample.py)
        use_numpy = torch.device(device).type == "cpu" and B <= NUMPY_MAX_BATCH
    if use_numpy and isinstance(net, SeqNet):
        stepper = NumpyStepper(net)
        h, c = (s.float().cpu().numpy().copy() for s in state[:2])
        return (lambda x: (stepper.step(x, h, c), None)), last
    if use_numpy and isinstance(net, WindowNet) and cond is not None and numpy_ready(net):
        ws = NumpyWindowStepper(net, cond, state)

        def window_step(x: np.ndarray) -> tuple[np.ndarray, Attention | None]:
            params, phi, done = ws.step(x if net.tokens else np.asarray(x, np.float32))
            return params, (phi, done)
        return window_step, last
    return _torch_step(net, state, ct, device), last


def _torch_step(net: SeqNet | WindowNet, state: tuple[torch.Tensor, ...],
                cond: torch.Tensor | None, device: str) -> Step:
    carried = [state]

    def step(x: np.ndarray) -> tuple[np.ndarray, Attention | None]:
        xt = torch.as_tensor(x, device=device)
        xt = (xt if net.tokens else xt.float()).unsqueeze(1)  # (B, 1[, D])
        if isinstance(net, WindowNet):
            assert cond is not None
            params, carried[0], window = net.step(xt, carried[0], cond)  # (B, P)
            return params.float().cpu().numpy(), attention_of(*window)
        p, carried[0] = net(xt, carried[0])
        return p[:, -1].float().cpu().numpy(), None
    return step


def _masked(params: np.ndarray, plan: Plan, seen: np.ndarray | None, B: int,
            t: int = 0) -> np.ndarray:
    """Categorical logits (B, V) with what may not be drawn now at -inf: the never-sampled
    tokens, the end token while a length rule holds it, what the constraint rule forbids;
    at a given step (``plan.given``) all but the given token."""
    forbid = np.zeros(params.shape, bool)  # (B, V)
    if plan.given is not None and t < len(plan.given) and plan.given[t] >= 0:
        forbid[:] = True
        forbid[:, int(plan.given[t])] = False
        out = params.copy()
        out[forbid] = -np.inf
        return out
    if plan.given is not None and plan.stop_token is not None:
        forbid[:, plan.stop_token] = True  # the given part decides where the sample ends
    forbid[:, list(plan.never)] = True
    rule = plan.stop_rule
    if isinstance(rule, LengthRule) and rule.hold is not None and plan.stop_token is not None:
        forbid[np.broadcast_to(rule.hold(), (B,)), plan.stop_token] = True  # (B,) or (1,)
    if plan.constraint is not None and seen is not None:
        ruled = np.asarray(plan.constraint(seen), bool)  # (B, V)
        ruled = ruled & ~(forbid | ruled).all(1, keepdims=True)  # never leave a row nothing
        forbid[:, :ruled.shape[1]] |= ruled
    if not forbid.any():
        return params
    out = params.copy()
    out[forbid] = -np.inf
    return out


def _run(step: Step, last: np.ndarray, head: Any, s: SampleSettings, plan: Plan, B: int,
         cap: int, seen: np.ndarray | None = None
         ) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """The sampling loop: step, draw, test the stop conditions, feed back."""
    rng = np.random.default_rng(s.seed)
    done = np.zeros(B, dtype=bool)
    ends = np.full(B, cap)  # where a stop rule or the window ended each row
    out: list[np.ndarray] = []
    windows: list[np.ndarray] = []
    masks = bool(plan.never or plan.constraint or isinstance(plan.stop_rule, LengthRule)
                 or plan.given is not None)
    start = 0 if seen is None else seen.shape[1] - cap  # the context's length
    for _ in range(cap):
        params, window = step(last)  # (B, P)
        if masks:
            params = _masked(params, plan, None if seen is None else
                             seen[:, :start + len(out)], B, len(out))
        temp = 1.0 if s.temperature is None else s.temperature  # the engine's own default
        nxt = head.sample(params, rng, temperature=temp, top_k=s.top_k,
                          top_p=s.top_p, bias=s.bias or 0.0)
        if seen is not None:
            seen[:, start + len(out)] = nxt
        if plan.stop_token is not None:
            done = done | (nxt == plan.stop_token)
        ruled = np.zeros(B, dtype=bool)
        if plan.stop_rule is not None:
            ruled |= np.asarray(plan.stop_rule(nxt), dtype=bool)
        if plan.known_len is not None:  # a row whose known columns are spent is complete
            ruled |= plan.known_len <= len(out) + 1
        if window is not None:
            ruled |= window[1]
            windows.append(window[0])  # (B, U)
        ruled &= ~done
        ends[ruled] = len(out) + 1
        done = done | ruled
        out.append(nxt)
        if plan.on_step is not None:
            plan.on_step(nxt, done)
        if done.all():
            break
        last = nxt if plan.feedback is None else plan.feedback(nxt)
        if plan.known is not None and len(out) < plan.known.shape[1]:  # (B, D - C) + (B, C)
            last = np.concatenate([last, plan.known[:, len(out)]], 1).astype(np.float32)
    return out, ends, windows


def _trim(out: list[np.ndarray], ends: np.ndarray, stop_token: int | None) -> list[np.ndarray]:
    """Each row up to its end, and before its first stop token."""
    steps = np.stack(out, 1) if out else np.zeros((len(ends), 0), dtype=np.int64)  # (B, T, ...)
    results = []
    for b in range(len(ends)):
        seq = steps[b][: ends[b]]
        if stop_token is not None:
            hits = np.flatnonzero(seq == stop_token)
            seq = seq[: hits[0]] if len(hits) else seq
        results.append(seq)
    return results
