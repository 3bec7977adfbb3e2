"""A small CTC recogniser: reads a sequence of vectors back as text, to measure whether
samples can be read (handwriting's legibility, speech's intelligibility).

Input vectors ``(B, T, D)`` are normalised per feature (statistics of the training pairs), a
strided 1-D convolution shortens T by ``stride``, a bidirectional LSTM reads the result and a
linear layer gives per-frame logits over the characters and a CTC blank (index 0), trained with
``torch.nn.CTCLoss``. Reading is greedy CTC decoding (best class per frame, repeats collapsed,
blanks dropped). The measure is the character error rate ``cer``: edits over reference
characters, summed over the set. Saved as safetensors + strict JSON, never pickle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seqgen.engine.adam import Adam
from seqgen.engine.checkpoint import load_tensors, save_tensors
from seqgen.errors import SeqgenError
from seqgen.fileio import write_json

FORMAT = "seqgen-recogniser-1"


@dataclass
class RecogniserSettings:
    hidden: int = 128  # LSTM units each way
    layers: int = 2
    stride: int = 2  # frames per recogniser step (the convolution's stride)
    batch_size: int = 32
    lr: float = 3e-3
    clip: float = 1.0  # gradient norm


@dataclass
class TrainingReport:
    steps: int = 0
    seconds: float = 0.0
    pairs: int = 0
    skipped: int = 0  # pairs too short for their text after the stride (CTC cannot align)
    loss: float = float("nan")  # mean CTC loss per character over the last 50 steps
    extra: dict[str, Any] = field(default_factory=dict)


class RecogniserNet(nn.Module):
    mean: torch.Tensor  # (D,) buffers: the training frames' statistics
    std: torch.Tensor

    def __init__(self, dim: int, classes: int, s: RecogniserSettings) -> None:
        super().__init__()
        self.stride = s.stride
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.front = nn.Conv1d(dim, s.hidden, 2 * s.stride + 1, s.stride, s.stride)
        self.rnn = nn.LSTM(s.hidden, s.hidden, s.layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * s.hidden, classes + 1)  # + the blank, index 0

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return (lengths + self.stride - 1) // self.stride  # ceil(T / stride)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor,
                                                                      torch.Tensor]:
        """Log-probabilities (B, T', C + 1) and their lengths (B,)."""
        mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)  # (B, T, 1)
        x = ((x - self.mean) / self.std) * mask  # (B, T, D); padding at the mean
        h = torch.relu(self.front(x.transpose(1, 2))).transpose(1, 2)  # (B, T', H)
        out_len = self.out_lengths(lengths).clamp(max=h.shape[1])
        packed = nn.utils.rnn.pack_padded_sequence(h, out_len, batch_first=True,
                                                   enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True,
                                                total_length=h.shape[1])  # (B, T', 2H)
        return torch.log_softmax(self.out(y), -1), out_len  # (B, T', C + 1)


def _pad(seqs: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)  # (B,)
    x = torch.zeros(len(seqs), int(lengths.max()), seqs[0].shape[1])  # (B, T, D)
    for i, s in enumerate(seqs):
        x[i, :len(s)] = torch.from_numpy(np.asarray(s, np.float32))
    return x, lengths


def greedy_decode(best: Sequence[int], chars: str) -> str:
    """Greedy CTC: collapse repeated classes, then drop blanks (class 0)."""
    out, prev = [], 0
    for c in best:
        if c != prev and c != 0:
            out.append(chars[c - 1])
        prev = c
    return "".join(out)


def edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between two strings (or
    any sequences: lists of words for a word error rate)."""
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(b)]


def cer(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Character error rate: edit distances summed over the set / reference characters."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references, {len(hyps)} hypotheses")
    chars = sum(len(r) for r in refs)
    if not chars:
        raise ValueError("the references have no characters")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps, strict=True)) / chars


class Recogniser:
    """A trained recogniser: ``read`` sequences of vectors, ``save``/``load`` it."""

    def __init__(self, net: RecogniserNet, chars: str, settings: RecogniserSettings,
                 report: TrainingReport | None = None) -> None:
        self.net, self.chars, self.settings = net.eval(), chars, settings
        self.report = report or TrainingReport()

    @torch.no_grad()
    def read(self, seqs: Sequence[np.ndarray], batch_size: int = 64) -> list[str]:
        """The text greedy CTC decoding reads in each (T, D) sequence ("" for an empty one)."""
        out: list[str] = []
        for i in range(0, len(seqs), batch_size):
            part = [np.asarray(s, np.float32) for s in seqs[i:i + batch_size]]  # (T, D) each
            keep = [j for j, s in enumerate(part) if len(s)]
            texts = [""] * len(part)
            if keep:
                x, lengths = _pad([part[j] for j in keep])
                logp, out_len = self.net(x, lengths)  # (B, T', C + 1)
                best = logp.argmax(-1)  # (B, T')
                for k, j in enumerate(keep):
                    texts[j] = greedy_decode(best[k, :int(out_len[k])].tolist(), self.chars)
            out += texts
        return out

    @torch.no_grad()
    def log_probs(self, frames: np.ndarray) -> np.ndarray:
        """(T, D) -> (ceil(T / stride), C + 1) per-step log-probabilities, blank at 0 (what
        forced alignment reads: engine/align.py)."""
        x, lengths = _pad([np.asarray(frames, np.float32)])
        logp, out_len = self.net(x, lengths)
        return logp[0, :int(out_len[0])].numpy()

    def save(self, path: Path) -> None:
        """``path`` (safetensors weights) and ``path``.json (alphabet, settings, report)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        save_tensors(dict(self.net.state_dict()), path)
        write_json(path.with_suffix(".json"), {
            "format": FORMAT, "chars": self.chars, "dim": int(self.net.mean.shape[0]),
            "settings": asdict(self.settings), "report": asdict(self.report)})

    @classmethod
    def load(cls, path: Path) -> Recogniser:
        import json

        meta_path = path.with_suffix(".json")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SeqgenError(f"{meta_path}: cannot read the recogniser's description: {exc}"
                              ) from None
        if meta.get("format") != FORMAT:
            raise SeqgenError(f"{meta_path}: not a {FORMAT} description")
        settings = RecogniserSettings(**meta["settings"])
        net = RecogniserNet(int(meta["dim"]), len(meta["chars"]), settings)
        net.load_state_dict(load_tensors(path))
        return cls(net, meta["chars"], settings, TrainingReport(**meta["report"]))


def _usable(pairs: Sequence[tuple[np.ndarray, str]], chars: str, stride: int
            ) -> list[tuple[np.ndarray, list[int]]]:
    """Pairs as (frames, class ids): characters outside ``chars`` dropped; pairs whose
    strided length cannot hold their text (CTC needs a frame per label and per repeat) left
    out."""
    index = {c: i + 1 for i, c in enumerate(chars)}
    out = []
    for frames, text in pairs:
        ids = [index[c] for c in text if c in index]
        repeats = sum(a == b for a, b in zip(ids, ids[1:], strict=False))
        if ids and -(-len(frames) // stride) >= len(ids) + repeats:
            out.append((np.asarray(frames, np.float32), ids))
    return out


def _stats(data: list[tuple[np.ndarray, list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
    frames = np.concatenate([f for f, _ in data]).astype(np.float64)  # (N, D)
    std = np.maximum(frames.std(0), 1e-3)
    return torch.from_numpy(frames.mean(0)).float(), torch.from_numpy(std).float()  # (D,)


def train_recogniser(pairs: Sequence[tuple[np.ndarray, str]], chars: str,
                     settings: RecogniserSettings | None = None, seconds: float | None = None,
                     steps: int | None = None, seed: int = 0) -> Recogniser:
    """Train on (frames (T, D), text) pairs until ``seconds`` or ``steps`` (whichever comes
    first; at least one of them) with Adam, batches of similar lengths."""
    s = settings or RecogniserSettings()
    if seconds is None and steps is None:
        raise ValueError("give seconds or steps")
    data = _usable(pairs, chars, s.stride)
    if not data:
        raise SeqgenError("no training pair is long enough for its text to train a recogniser")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = RecogniserNet(data[0][0].shape[1], len(chars), s)
    mean, std = _stats(data)
    net.mean.copy_(mean)
    net.std.copy_(std)
    opt = Adam(net.parameters(), lr=s.lr)  # torch.optim.Adam's steps, without torch._dynamo
    ctc = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    order = np.argsort([len(f) for f, _ in data], kind="stable")  # similar lengths together
    start, losses, step = time.monotonic(), [], 0
    while (steps is None or step < steps) and (
            seconds is None or time.monotonic() - start < seconds):
        at = int(rng.integers(0, max(1, len(order) - s.batch_size + 1)))
        batch = [data[i] for i in order[at:at + s.batch_size]]
        x, lengths = _pad([f for f, _ in batch])  # (B, T, D)
        logp, out_len = net.train()(x, lengths)  # (B, T', C + 1)
        targets = torch.tensor([c for _, ids in batch for c in ids])  # (sum of L,)
        tlen = torch.tensor([len(ids) for _, ids in batch])  # (B,)
        loss = ctc(logp.transpose(0, 1), targets, out_len, tlen) / tlen.sum()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), s.clip)
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
    report = TrainingReport(step, round(time.monotonic() - start, 1), len(data),
                            len(pairs) - len(data), float(np.mean(losses[-50:])))
    return Recogniser(net, chars, s, report)


def cached_recogniser(path: Path, train: Callable[[], Recogniser]) -> tuple[Recogniser, bool]:
    """The recogniser saved at ``path``, or ``train()``'s, saved there: (it, whether cached).
    A damaged cache entry is trained again."""
    if path.exists() and path.with_suffix(".json").exists():
        try:
            return Recogniser.load(path), True
        except (SeqgenError, RuntimeError, KeyError, TypeError):
            pass
    rec = train()
    rec.save(path)
    return rec, False
