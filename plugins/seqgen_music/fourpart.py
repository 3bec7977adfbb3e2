"""The music domain's ``voices`` encoding: four-part corpora read as chorales, cached.

``-o encoding=auto`` (the default) takes this encoding for a corpus of four-voice scores (the
chorales, or a folder of them: at least half its scores in exactly four parts) and the event
encoding for anything else: piano music, MIDI files. Every piece is kept in each key that holds
its voices in Bach's ranges (``-o transpose=auto``), a piece's keys next to each other so that
the held-out tail of the stream holds whole chorales, not transpositions of training ones.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from seqgen.datasets import cache_dir
from seqgen.domain import Corpus
from seqgen.engine.files import cached_npz, content_key
from seqgen.engine.status import counted
from seqgen_music import chorale, corpus, scores
from seqgen_music.chorale import Chorale

PARSER_VERSION = 2  # 2: MIDI files of four tracks; sources with none cached too
Read = tuple[Chorale | None, str | None]


def read_item(item: corpus.Item) -> Read:
    """One score as a chorale, or None and why not (not four parts, unreadable); a MIDI file of
    four pitched tracks too (fourmidi.py), as a four-voice sequencer writes a chorale."""
    path = Path(item.path)
    if path.suffix.lower() in corpus.MIDI_SUFFIXES:
        from seqgen_music.fourmidi import read_four_tracks

        return read_four_tracks(path)
    if path.suffix.lower() not in scores.SCORE_SUFFIXES:
        return None, "not a score or MIDI file"
    try:
        score = scores.parse(path, item.number)
        name = path.stem + ("" if item.number is None else f"#{item.number}")
        return chorale.from_score(score, name)
    except Exception as exc:  # noqa: BLE001 - parsers raise every kind of error on bad files
        first = (str(exc).strip().splitlines() or ["no detail"])[0][:120]
        return None, f"not a readable score ({type(exc).__name__}: {first})"


def _read_all(items: list[corpus.Item], label: str) -> list[Read]:
    what = f"reading {len(items)} scores in four voices (first use; cached after)"
    if len(items) < corpus.POOL_MIN_ITEMS or (os.cpu_count() or 1) < 2 or os.name != "posix":
        return list(counted((read_item(it) for it in items), what, len(items)))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return list(counted(pool.imap(read_item, items, chunksize=4), what, len(items),
                            at_once=True))


Parsed = tuple[list[Chorale], list[tuple[str, str]]]


def _to_arrays(parsed: Parsed) -> dict | None:
    import json

    import numpy as np

    pieces, said = parsed
    if not pieces:  # kept too: a MIDI folder is not read again to learn it has no four voices
        return {"said": np.array(json.dumps(said))}
    return {**chorale.pack(pieces), "said": np.array(json.dumps(said))}


def _from_arrays(z: dict) -> Parsed:
    import json

    said = [(str(a), str(b)) for a, b in json.loads(str(z["said"]))]
    return (chorale.unpack(z) if "meta" in z else []), said


def load(source: str | None, limit: int = 0) -> tuple[str, Parsed, int]:
    """The four-voice pieces of a source (cached), what was said of the others, and how many
    items the source holds."""
    src = corpus.resolve(source)
    items = src.items()
    if limit > 0:
        items = items[:limit]

    def parse() -> Parsed:
        pieces: list[Chorale] = []
        said: list[tuple[str, str]] = []
        for item, (ch, note) in zip(items, _read_all(items, src.label), strict=True):
            if ch is not None:
                pieces.append(ch)
            if note is not None:
                said.append((item.label, note))
        return pieces, said
    key = content_key(PARSER_VERSION, src.identity, limit, "voices")
    parsed = cached_npz(cache_dir() / "music" / f"{key}.npz", parse, _to_arrays, _from_arrays)
    return src.label, parsed, len(items)


def as_corpus(label: str, pieces: list[Chorale], transpose: str) -> Corpus:
    """The pieces in every key in range (``auto``), or as written (``0``), or shifted by the
    semitones of an explicit range (kept only where every voice stays in MIDI)."""
    from seqgen_music import augment

    out: list[Chorale] = []
    for ch in pieces:
        if transpose == "auto":
            out += chorale.keys_in_range(ch)
        else:
            shifts = augment.parse_transpose(transpose)
            out += [ch.transposed(k) for k in shifts
                    if (ch.pitch < 0).all() or 0 <= ch.pitch.max() + k <= 127
                    and ch.pitch[ch.pitch >= 0].min() + k >= 0]
    return Corpus(label, _digest(out), out)


def _digest(pieces: list[Chorale]) -> str:
    import hashlib

    h = hashlib.sha256()
    for c in pieces:
        h.update(f"{c.name}\0{c.bar}\0{c.tonic}\0{c.minor}\0".encode())
        for a in (c.pitch, c.attack, c.fermata, c.pos):
            h.update(a.tobytes())
    return h.hexdigest()
