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
    """Cache key: the corpus contents, the domain and version, its options and codec state, and
    its code (issue 28: an edited ``encode`` with the same version was silently not called)."""
    blob = json.dumps([domain.name, domain.version, corpus.key, domain.get_state(),
                       repr(domain.options), vocab.chars if vocab else None,
                       code_digest(type(domain))], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _source_files(cls: type) -> list[Path]:
    """The files whose code can change what ``cls`` encodes: the module of each class it is made
    of (seqgen's or the plugin's own: not the standard library's, which another user may not
    even read), and every module of the package its own class lives in (a plugin's helpers)."""
    import sys

    top = cls.__module__.split(".")[0]
    files: set[Path] = set()
    for klass in cls.__mro__:
        path = getattr(sys.modules.get(klass.__module__), "__file__", None)
        if path and klass.__module__.split(".")[0] in (top, "seqgen"):
            files.add(Path(path))
    roots = getattr(sys.modules.get(top), "__path__", None)
    if roots and top != "seqgen":  # a plugin package: all of it, helpers included
        files.update(p for d in roots for p in Path(d).rglob("*.py"))
    return sorted(files)


def code_digest(cls: type) -> str:
    """A digest of the source of ``cls`` (``_source_files``): it changes when the code does.
    A class with no file (defined at a prompt) gives its qualified name alone."""
    h = hashlib.sha256(f"{cls.__module__}.{cls.__qualname__}".encode())
    for path in _source_files(cls):
        try:
            h.update(path.read_bytes())
        except OSError:
            continue  # a module that is gone: nothing to tell apart
    return h.hexdigest()[:16]


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
    spec = domain.input_spec()
    limit = spec.vocab_size if isinstance(spec, TokenInput) else None
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
                sink.write(_in_vocab(np.asarray(chunk), limit, domain, corpus.source, i))
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


def _in_vocab(chunk: np.ndarray, limit: int | None, domain: Codec, source: str,
              doc: int) -> np.ndarray:
    """A token chunk checked against the input's vocabulary before it is stored (a small
    dtype would wrap it silently): a codec with no token for a symbol of this corpus (a
    fine-tuning corpus, a plugin's off-by-one) is one line, not an index error in torch."""
    if limit is None or not len(chunk):
        return chunk
    low, high = int(chunk.min()), int(chunk.max())
    if low < 0 or high >= limit:
        raise SeqgenError(f"{source or 'the default corpus'}: domain {domain.name!r} encoded "
                          f"token {low if low < 0 else high}, outside its vocabulary of "
                          f"{limit} (0 to {limit - 1}), in document {doc}: its codec has no "
                          f"room for a symbol of this corpus (Domain.grow adds them when "
                          f"fine-tuning)")
    return chunk


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
