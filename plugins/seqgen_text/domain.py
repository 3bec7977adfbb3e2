"""Text as a sequence of Unicode characters (vocabulary from the corpus) or of bytes."""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqgen import plugins
from seqgen.datasets import fetch
from seqgen.domain import Batching, Corpus, Domain, HeadSpec, Renderer, TokenInput
from seqgen.engine.files import discover, names_files
from seqgen.errors import SeqgenError, closest
from seqgen.plugins import datasets, find_dataset

SEP, UNK = 0, 1  # document separator (start and end of every document), unknown character
DEFAULT_NAME = "python-docs"


@dataclass
class TextOptions:
    level: str = field(default="char", metadata={
        "help": "char: Unicode characters, vocabulary from the corpus; byte: the 256 byte values",
        "choices": ("char", "byte")})
    min_count: int = field(default=1, metadata={
        "help": "characters seen fewer times than this in the corpus become <unk> (char level)"})


def _write_txt(samples: list[str], path: Path) -> None:
    if len(samples) == 1:
        path.write_text(samples[0] + ("" if samples[0].endswith("\n") else "\n"), "utf-8")
        return
    parts = [f"=== sample {i + 1} ===\n{s.rstrip()}\n" for i, s in enumerate(samples)]
    path.write_text("\n".join(parts), encoding="utf-8")


class TextDomain(Domain):
    name = "text"
    version = "1.0"
    description = "Text, one character (or byte) per step, as in char-rnn"
    input_formats = ("text file", "directory", "glob", "dataset name")
    default_corpus = (f"{DEFAULT_NAME}: the Python reference manual's help topics that every "
                      "Python ships (pydoc_data, ~460 KB of English)")
    batching = Batching.STREAMS
    unit = "char"
    default_render = ".txt"
    default_length = 1000
    Options = TextOptions
    # batch 16 beat the small preset's 32 on Tiny Shakespeare at the same characters (held-out
    # 1.475 against 1.507 nats/char; batch 8 1.473 at fewer tokens/s): twice the updates
    # (docs/domains/text.md, the 10-minute recipe search of issue 15)
    preset_tuning = {"small": {"batch_size": 16}}

    def __init__(self, options: Any = None, state: dict[str, Any] | None = None) -> None:
        self.chars = ""
        self._codes = np.zeros(0, np.uint32)
        super().__init__(options, state)

    # ---- corpus ---------------------------------------------------------------------------
    def load_corpus(self, source: str | None) -> Corpus:
        if source is None or source == DEFAULT_NAME:
            return _default_corpus()
        if not names_files(source):
            ds = find_dataset(source, "text")
            if ds is None:
                names = [n for n, d in datasets().items() if d.domain == "text"]
                raise SeqgenError(f"{source}: no such file, directory or dataset"
                                  f"{closest(source, names)}; datasets: {', '.join(names)}")
            source_path = str(fetch(ds))
            docs, key = self._read_files([Path(source_path)], source)
            return Corpus(source, key, docs)
        return self._read_source(source)

    def _read_source(self, source: str) -> Corpus:
        files = discover(source)
        docs, key = self._read_files(files, source)
        return Corpus(source, key, docs)

    def _read_files(self, files: Sequence[Path], source: str) -> tuple[list[Any], str]:
        """Every file's text. One file given is read or refused; of several (a folder, a
        glob), one that is not text (a PNG among notes) is skipped with a warning line, as
        the music domain does, and only a source with nothing readable left is refused."""
        h = hashlib.sha256()
        docs: list[Any] = []
        skipped = 0
        for f in files:
            try:
                doc, digest = self._read_file(f)
            except SeqgenError as exc:
                if len(files) == 1:
                    raise
                plugins.warn(f"{exc}: skipped")
                skipped += 1
                continue
            h.update(digest)
            if doc is not None:
                docs.append(doc)
        if not docs:
            why = f" ({skipped} of {len(files)} files skipped: not text)" if skipped else ""
            raise SeqgenError(f"{source}: corpus is empty{why}")
        return docs, h.hexdigest()

    def _read_file(self, f: Path) -> tuple[Any, bytes]:
        """One file's document (None when empty) and the digest of its name and contents."""
        h = hashlib.sha256()
        size = f.stat().st_size
        h.update(f"{f.name}\0{size}\0".encode())
        if size > BIG_FILE:  # checked and hashed block by block, read again when encoded
            _scan(f, h, self.options.level == "char")
            return TextFile(f, size), h.digest()
        raw = f.read_bytes()
        h.update(raw)
        if not raw:
            return None, h.digest()
        return (raw if self.options.level == "byte" else _as_text(raw, f)), h.digest()

    # ---- codec ----------------------------------------------------------------------------
    def fit(self, documents: Sequence[Any]) -> None:
        if self.options.level == "byte":
            return
        counts = np.zeros(0, np.int64)  # per code point, by bincount: O(n), no sort
        for piece in (p for doc in documents for p in _pieces(doc, "char")):
            got = np.bincount(_codepoints(piece))
            if len(got) > len(counts):
                got[:len(counts)] += counts
                counts = got
            else:
                counts[:len(got)] += got
        keep = np.flatnonzero(counts >= max(self.options.min_count, 1))
        self.set_state({"level": "char", "chars": "".join(map(chr, keep.tolist()))})

    def grow(self, documents: Sequence[Any]) -> list[str]:
        """Characters of ``documents`` (seen ``min_count`` times) the vocabulary lacks, appended
        at its end; byte level has every byte already."""
        if self.options.level == "byte":
            return []
        fresh = TextDomain(self.options)
        fresh.fit(documents)
        added = sorted(set(fresh.chars) - set(self.chars))
        if added:
            self.set_state({"level": "char", "chars": self.chars + "".join(added)})
        return added

    def get_state(self) -> dict[str, Any]:
        return {"level": self.options.level, "chars": self.chars}

    def set_state(self, state: dict[str, Any]) -> None:
        self.chars = state.get("chars", "")
        self._codes = np.array([ord(c) for c in self.chars], dtype=np.uint32)
        self._table = np.array(["", "\ufffd", *self.chars], dtype=object)
        # code point -> token, a dense lookup table: O(n) encoding (at most 4.4 MB of int32)
        self._lut = np.full(int(self._codes.max()) + 1 if len(self._codes) else 1, UNK, np.int32)
        self._lut[self._codes] = np.arange(2, len(self._codes) + 2, dtype=np.int32)

    def input_spec(self) -> TokenInput:
        return TokenInput(257 if self.options.level == "byte" else len(self.chars) + 2)

    def head_spec(self) -> HeadSpec:
        return HeadSpec("categorical", {"num_classes": self.input_spec().vocab_size})

    def separator(self) -> int:
        return SEP

    def encode(self, document: Any) -> np.ndarray:
        if self.options.level == "byte":
            data = document if isinstance(document, bytes) else str(document).encode("utf-8")
            return np.frombuffer(data, dtype=np.uint8).astype(np.int64) + 1
        cps = _codepoints(document)
        top = len(self._lut) - 1
        return np.where(cps <= top, self._lut[np.minimum(cps, top)], UNK).astype(np.int64)

    def encode_chunks(self, document: Any) -> Iterator[np.ndarray]:
        for piece in _pieces(document, self.options.level):
            yield self.encode(piece)

    def decode(self, array: np.ndarray) -> str:
        ids = np.asarray(array, dtype=np.int64)
        ids = ids[ids != SEP]
        if self.options.level == "byte":
            return bytes((ids - 1).astype(np.uint8).tolist()).decode("utf-8", errors="replace")
        return "".join(self._table[ids].tolist())

    # ---- sampling and output --------------------------------------------------------------
    def encode_prime(self, prime: str) -> np.ndarray:
        if self.options.level == "char":
            unseen = sorted({c for c in prime if c not in set(self.chars)})
            if unseen:
                shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unseen[:8])
                raise SeqgenError(f"--prime has characters the model never saw: {shown}")
        return self.encode(prime)

    def start_prime(self) -> np.ndarray | None:
        """A newline: samples start where a line does (Tiny Shakespeare is one document, so
        after its separator alone a model writes junk until it finds a line)."""
        if self.options.level == "byte":
            return self.encode(b"\n")
        return self.encode("\n") if "\n" in self.chars else None

    def never_sampled(self) -> tuple[int, ...]:
        return (UNK,) if self.options.level == "char" else ()  # at byte level id 1 is byte 0

    def stream_decoder(self) -> Callable[[int], str]:
        if self.options.level == "byte":
            dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
            return lambda t: dec.decode(bytes([t - 1])) if t != SEP else ""
        table = self._table
        return lambda t: table[t] if t != SEP else ""

    def renderers(self) -> dict[str, Renderer]:
        return {".txt": Renderer(".txt", _write_txt, "samples as UTF-8 text", multi=True),
                **super().renderers()}

    def metrics(self, nll: float, extra: dict[str, float] | None = None) -> dict[str, float]:
        unit = "byte" if self.options.level == "byte" else "char"
        return {f"bits/{unit}": nll / float(np.log(2)), f"nats/{unit}": nll}


BIG_FILE = 16 << 20  # larger files are streamed in blocks, never held whole in memory
BLOCK = 4 << 20


@dataclass(frozen=True)
class TextFile:
    """A document too large to hold in memory: read block by block when encoded."""

    path: Path
    size: int


def _pieces(document: Any, level: str) -> Iterator[Any]:
    """A document as str (char level) or bytes (byte level) pieces of at most BLOCK bytes."""
    if not isinstance(document, TextFile):
        yield document
        return
    dec = codecs.getincrementaldecoder("utf-8")()
    with open(document.path, "rb") as f:
        while block := f.read(BLOCK):
            yield block if level == "byte" else dec.decode(block)
    if level != "byte":
        yield dec.decode(b"", final=True)


def _scan(path: Path, h: Any, text: bool) -> None:
    """Hash a large file; at char level, refuse NUL bytes and invalid UTF-8 as _as_text does."""
    dec = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
            if text:
                nul = block.find(b"\0")
                if nul >= 0:
                    raise SeqgenError(f"{path}: binary file (NUL byte at offset {offset + nul}),"
                                      f" not text (-o level=byte trains on raw bytes)")
                try:
                    dec.decode(block)
                except UnicodeDecodeError as exc:
                    raise SeqgenError(f"{path}: not UTF-8 text (bad byte near offset "
                                      f"{offset + exc.start}; -o level=byte trains on raw "
                                      f"bytes)") from None
            offset += len(block)


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")


def _as_text(raw: bytes, path: Path) -> str:
    nul = raw.find(b"\0")
    if nul >= 0:
        raise SeqgenError(f"{path}: binary file (NUL byte at offset {nul}), not text "
                          f"(-o level=byte trains on raw bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeqgenError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}; "
                          f"-o level=byte trains on raw bytes)") from None


def _default_corpus() -> Corpus:
    """The embedded corpus: help topics from pydoc_data, part of every CPython install."""
    texts: dict[str, str]
    try:
        from pydoc_data.topics import topics

        texts = dict(topics)
    except ImportError:  # some distributions split pydoc_data out: use the stdlib's own source
        import json as stdlib_json

        base = Path(stdlib_json.__file__).parent.parent
        texts = {p.name: p.read_text("utf-8", errors="replace") for p in sorted(base.glob("*.py"))}
    docs = [texts[k] for k in sorted(texts)]
    key = hashlib.sha256("\0".join(docs).encode("utf-8", errors="surrogatepass")).hexdigest()
    return Corpus(DEFAULT_NAME, key, docs)
