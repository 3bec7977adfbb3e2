"""Encoded corpora (cached on disk, memory-mapped) and the two batching modes.

Streams (pytorch/examples word_language_model, char-rnn): the corpus is one long array cut into
B parallel streams read in chunks of T, hidden state carried from chunk to chunk and reset where
a document starts. Sequences: one sample per row, bucketed by length, padded and masked.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.engine.holdout import held_out, stream_cut
from seqgen.engine.specs import Codec, Corpus, TokenInput, Transcribed
from seqgen.engine.vocab import TextVocab
from seqgen.errors import SeqgenError


@dataclass
class Encoded:
    """A corpus as one flat array (N,) or (N, D) and the start offset of each document.

    For token domains each document is stored as [sep, tokens...] and one final sep closes the
    array, so the model learns where documents end (the stop rule) and where they begin.
    """

    flat: np.ndarray
    offsets: np.ndarray  # (n_docs,) int64, start of each document in flat
    key: str
    cond: np.ndarray | None = None  # conditioning text ids of every document, concatenated
    cond_offsets: np.ndarray | None = None  # (n_docs + 1,) bounds of each document's text

    def __len__(self) -> int:
        return int(self.flat.shape[0])

    def documents(self) -> list[np.ndarray]:
        ends = [*self.offsets[1:].tolist(), len(self.flat)]
        return [self.flat[a:b] for a, b in zip(self.offsets.tolist(), ends, strict=True)]

    def conditions(self) -> list[np.ndarray] | None:
        if self.cond is None or self.cond_offsets is None:
            return None
        b = self.cond_offsets.tolist()
        return [self.cond[b[i]:b[i + 1]] for i in range(len(b) - 1)]


def codec_key(domain: Codec, corpus: Corpus, vocab: TextVocab | None = None) -> str:
    """Cache key: the corpus contents, the domain and version, its options and codec state."""
    blob = json.dumps([domain.name, domain.version, corpus.key, domain.get_state(),
                       repr(domain.options), vocab.chars if vocab else None],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class _Sink:
    """Appends encoded chunks to a raw file (or to memory), so a large corpus never sits in RAM."""

    def __init__(self, path: Path | None, dtype: np.dtype[Any], width: int | None) -> None:
        self.dtype, self.width, self.pos = dtype, width, 0
        self.parts: list[np.ndarray] = []
        self.file = open(path, "wb") if path is not None else None  # noqa: SIM115

    def write(self, arr: np.ndarray) -> None:
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        if self.file is not None:
            self.file.write(arr.tobytes())
        else:
            self.parts.append(arr)
        self.pos += len(arr)

    def rewind(self, pos: int) -> None:
        """Drop what was written after ``pos`` (an empty document)."""
        if self.file is not None:
            self.file.seek(pos * self.dtype.itemsize * (self.width or 1))
            self.file.truncate()
        else:
            self.parts = [np.concatenate(self.parts)[:pos]] if self.parts else []
        self.pos = pos

    def close(self) -> np.ndarray | None:
        if self.file is not None:
            self.file.close()
            return None
        shape = (0, self.width) if self.width else (0,)
        return np.concatenate(self.parts) if self.parts else np.zeros(shape, self.dtype)


def _dtype(domain: Codec) -> tuple[np.dtype[Any], int | None]:
    spec = domain.input_spec()
    if isinstance(spec, TokenInput):
        return np.dtype(np.uint16 if spec.vocab_size < 65535 else np.int32), None
    return np.dtype(np.float32), spec.dim


def encode_corpus(domain: Codec, corpus: Corpus, cache: Path | None,
                  vocab: TextVocab | None = None) -> Encoded:
    """Encode every document (or load the memory-mapped cache of an earlier run).

    Documents are encoded chunk by chunk (``Domain.encode_chunks``) straight into the cache
    file, which is then memory-mapped: memory stays flat however large the corpus. With a
    ``vocab`` (text-conditioned models) each document's ``text_of`` is encoded too, and
    documents without a text are left out.
    """
    key = codec_key(domain, corpus, vocab)
    where = cache / "encoded" / key if cache is not None else None
    if where is not None and (where / "meta.json").exists():
        return _load(where, key)
    tmp = None
    if where is not None:
        where.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=where.parent))
    try:
        enc, length = _encode_into(domain, corpus, vocab, tmp, key)
        if where is None or tmp is None:
            return enc
        _finish(enc, length, _dtype(domain), tmp, where)
        return _load(where, key)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _encode_into(domain: Codec, corpus: Corpus, vocab: TextVocab | None, tmp: Path | None,
                 key: str) -> tuple[Encoded, int]:
    sep = domain.separator()
    dtype, width = _dtype(domain)
    sink = _Sink(tmp / "flat.bin" if tmp is not None else None, dtype, width)
    offsets: list[int] = []
    texts: list[np.ndarray] = []
    try:
        for i, doc in enumerate(corpus.documents):
            ids = None
            if vocab is not None:
                assert isinstance(domain, Transcribed), "a text vocabulary needs text_of"
                text = domain.text_of(doc)
                if not text:
                    continue
                ids = vocab.encode(text, f"{corpus.source}: the text of document {i}")
            start = sink.pos
            if sep is not None:
                sink.write(np.array([sep]))
            for chunk in domain.encode_chunks(doc):
                sink.write(np.asarray(chunk))
            if sink.pos - start <= (sep is not None):
                sink.rewind(start)  # an empty document
                continue
            offsets.append(start)
            if ids is not None:
                texts.append(ids)
        if not offsets:
            raise SeqgenError(f"corpus {corpus.source} has no usable documents")
        if sep is not None:
            sink.write(np.array([sep]))
    finally:
        flat = sink.close()
    enc = Encoded(flat if flat is not None else np.zeros(0, dtype), np.asarray(offsets, np.int64),
                  key)
    if vocab is not None:
        enc.cond = np.concatenate(texts).astype(np.int16)
        enc.cond_offsets = np.cumsum([0] + [len(t) for t in texts]).astype(np.int64)
    return enc, sink.pos


def _finish(enc: Encoded, length: int, kind: tuple[np.dtype[Any], int | None], tmp: Path,
            where: Path) -> None:
    """Write the small arrays and meta.json beside flat.bin, then rename the folder into place."""
    dtype, width = kind
    shape = [length] + ([width] if width else [])
    np.save(tmp / "offsets.npy", enc.offsets)
    if enc.cond is not None and enc.cond_offsets is not None:
        np.save(tmp / "cond.npy", enc.cond)
        np.save(tmp / "cond_offsets.npy", enc.cond_offsets)
    (tmp / "meta.json").write_text(json.dumps({"dtype": dtype.str, "shape": shape}))
    if where.exists() and not (where / "meta.json").exists():
        shutil.rmtree(where, ignore_errors=True)  # an unfinished or older-format cache entry
    try:
        os.replace(tmp, where)
    except OSError:
        if not (where / "meta.json").exists():  # another process finished first: keep theirs
            raise


def _load(where: Path, key: str) -> Encoded:
    meta = json.loads((where / "meta.json").read_text())
    shape = tuple(meta["shape"])
    flat = np.memmap(where / "flat.bin", dtype=np.dtype(meta["dtype"]), mode="r", shape=shape) \
        if shape[0] else np.zeros(shape, np.dtype(meta["dtype"]))
    enc = Encoded(flat, np.load(where / "offsets.npy"), key)
    if (where / "cond.npy").exists():
        enc.cond = np.load(where / "cond.npy")
        enc.cond_offsets = np.load(where / "cond_offsets.npy")
    return enc


def split(enc: Encoded, val_fraction: float, sequences: bool) -> tuple[Encoded, Encoded]:
    """Hold out the tail of the stream (streams) or every k-th document (sequences)."""
    if val_fraction <= 0:
        return enc, Encoded(enc.flat[:0], np.zeros(0, np.int64), enc.key)
    if sequences:
        docs, conds = enc.documents(), enc.conditions()

        def part(held: bool) -> Encoded:
            keep = [i for i in range(len(docs)) if held_out(i, val_fraction) == held]
            return _from_docs([docs[i] for i in keep], enc.key,
                              None if conds is None else [conds[i] for i in keep])
        return part(False), part(True)
    cut = stream_cut(len(enc), val_fraction)
    tr_off = enc.offsets[enc.offsets < cut]
    va_off = enc.offsets[enc.offsets >= cut] - cut
    return (Encoded(enc.flat[:cut], tr_off, enc.key),
            Encoded(enc.flat[cut:], np.concatenate([[0], va_off]).astype(np.int64), enc.key))


def pad_ids(rows: Sequence[np.ndarray | Sequence[int]]) -> np.ndarray:
    """Id lists (the texts of a batch) as one (B, U) int64 array, zero-padded on the right:
    0 is no character, so the soft window reads nothing there."""
    out = np.zeros((len(rows), max(len(r) for r in rows)), dtype=np.int64)  # (B, U)
    for b, r in enumerate(rows):
        out[b, :len(r)] = r
    return out


def _from_docs(docs: list[np.ndarray], key: str,
               conds: list[np.ndarray] | None = None) -> Encoded:
    if not docs:
        return Encoded(np.zeros(0, np.float32), np.zeros(0, np.int64), key)
    offsets = np.cumsum([0] + [len(d) for d in docs[:-1]]).astype(np.int64)
    enc = Encoded(np.concatenate(docs), offsets, key)
    if conds is not None:
        enc.cond = np.concatenate(conds) if conds else np.zeros(0, np.int16)
        enc.cond_offsets = np.cumsum([0] + [len(c) for c in conds]).astype(np.int64)
    return enc


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
                 start: np.ndarray | int | None, stop: int | None, what: str = "corpus") -> None:
        docs, conds = enc.documents(), enc.conditions()
        keep = [i for i, d in enumerate(docs) if len(d) >= 2 or start is not None]
        self.docs = [docs[i] for i in keep]
        self.conds = None if conds is None else [conds[i] for i in keep]
        if not self.docs:
            raise SeqgenError(f"{what} has no sequences to train on")
        self.max_len, self.seed, self.start, self.stop = max_len, seed, start, stop
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
        if crop and len(x) > self.max_len:  # a random window: long documents seen whole over time
            a = int(rng.integers(0, len(x) - self.max_len + 1))
            x, y = x[a:a + self.max_len], y[a:a + self.max_len]
        return x, y

    def new_epoch(self, step: int) -> bool:
        return True  # every batch starts from zero state
