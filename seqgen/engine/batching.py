"""The two batching modes (Batching in engine/specs.py).

Streams: the corpus as B parallel streams read in chunks of T steps, hidden state carried from
chunk to chunk (truncated BPTT, as char-rnn and pytorch/examples' word_language_model) and
reset where a document starts. Sequences: one document per row, bucketed by length, padded
and masked, state from zero for every batch.
"""

from __future__ import annotations

import numpy as np

from seqgen.engine.data import Encoded, pad_ids
from seqgen.errors import SeqgenError


class Streams:
    """B parallel streams over a flat array; chunk k is columns [kT, (k+1)T) of every stream."""

    def __init__(self, enc: Encoded, batch_size: int, seq_len: int, what: str = "corpus") -> None:
        self.enc, self.B, self.T = enc, batch_size, seq_len
        self.stream_len = (len(enc) - 1) // batch_size
        self.n_chunks = (self.stream_len - 1) // seq_len if self.stream_len > 0 else 0
        if self.n_chunks < 1:
            need = batch_size * (seq_len + 1) + 1
            raise SeqgenError(f"{what} has {len(enc)} steps, fewer than one batch needs "
                              f"({need} = batch size {batch_size} x (seq len {seq_len} + 1) + 1): "
                              f"add data or lower --batch-size / --seq-len")
        self.starts = np.arange(batch_size, dtype=np.int64) * self.stream_len  # (B,)

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inputs (B, T), targets (B, T) and resets (B, T) for this step's chunk."""
        k = step % self.n_chunks
        idx = self.starts[:, None] + k * self.T + np.arange(self.T)  # (B, T)
        flat, off = self.enc.flat, self.enc.offsets
        pos = np.clip(np.searchsorted(off, idx), 0, max(len(off) - 1, 0))
        resets = off[pos] == idx if len(off) else np.zeros(idx.shape, bool)  # (B, T)
        return np.asarray(flat[idx]), np.asarray(flat[idx + 1]), resets

    def new_epoch(self, step: int) -> bool:
        """True where hidden state must start from zero (the first chunk of each pass)."""
        return step % self.n_chunks == 0


class Sequences:
    """One document per row, batched with documents of similar length, padded and masked."""

    def __init__(self, enc: Encoded, batch_size: int, max_len: int, seed: int,
                 start: np.ndarray | int | None, stop: int | None, what: str = "corpus",
                 known: int = 0) -> None:
        docs, conds = enc.documents(), enc.conditions()
        keep = [i for i, d in enumerate(docs) if len(d) >= 2 or start is not None]
        self.docs = [docs[i] for i in keep]
        self.conds = None if conds is None else [conds[i] for i in keep]
        if not self.docs:
            raise SeqgenError(f"{what} has no sequences to train on")
        self.max_len, self.seed, self.start, self.stop = max_len, seed, start, stop
        self.known = known  # trailing columns known ahead (VectorInput.known)
        order = np.argsort([len(d) for d in self.docs], kind="stable")  # bucket by length
        self.batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        self.n_chunks = len(self.batches)

    def batch(self, step: int) -> tuple[np.ndarray, ...]:
        """Inputs (B, T[, D]), targets (B, T[, D]), mask (B, T) [and text ids (B, U)]."""
        epoch, j = divmod(step, len(self.batches))
        perm = np.random.default_rng([self.seed, epoch]).permutation(len(self.batches))
        rng = np.random.default_rng([self.seed, epoch, j])
        ids = self.batches[perm[j]]
        pairs = [self._pair(self.docs[i], rng, self.conds is None) for i in ids]
        T = max(len(x) for x, _ in pairs)
        first = pairs[0][0]
        x = np.zeros((len(pairs), T, *first.shape[1:]), dtype=first.dtype)
        y = np.zeros_like(x)
        mask = np.zeros((len(pairs), T), dtype=bool)
        for b, (xi, yi) in enumerate(pairs):
            x[b, :len(xi)], y[b, :len(yi)], mask[b, :len(xi)] = xi, yi, True
        if self.conds is None:
            return x, y, mask
        return x, y, mask, pad_ids([self.conds[i] for i in ids])

    def _pair(self, doc: np.ndarray, rng: np.random.Generator,
              crop: bool = True) -> tuple[np.ndarray, np.ndarray]:
        doc = np.asarray(doc)
        if self.start is None:  # token docs carry their own leading separator
            x, y = doc, np.concatenate([doc[1:], np.asarray([self.stop], dtype=doc.dtype)])
        else:  # vector docs: a start frame, then the doc shifted by one
            x = np.concatenate([np.asarray(self.start, dtype=doc.dtype)[None], doc[:-1]])
            y = doc
            if self.known:  # step t's input: step t-1's frame with step t's known columns
                x[:, -self.known:] = doc[:, -self.known:]
        if crop and len(x) > self.max_len:  # a random window: long documents seen whole over time
            a = int(rng.integers(0, len(x) - self.max_len + 1))
            x, y = x[a:a + self.max_len], y[a:a + self.max_len]
        return x, y

    def new_epoch(self, step: int) -> bool:
        return True  # every batch starts from zero state
