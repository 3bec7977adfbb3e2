"""Where pieces come from: MIDI and score files, music21's corpus; parsed once, then cached.

A source is resolved to items (a file, or one tune of an ABC file), parsed (two processes when
there are many), and the note lists are stored under ``$SEQGEN_CACHE/music/<key>.npz``, keyed by
the source (paths, sizes and modification times; or music21's version and the corpus name) and
the parse settings. A second load reads that file and parses nothing.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqgen import plugins
from seqgen.datasets import cache_dir
from seqgen.engine.files import cached_npz, content_key, discover, names_files
from seqgen.engine.status import counted
from seqgen.errors import SeqgenError, closest
from seqgen_music import abcfile, scores
from seqgen_music.encoding import Piece

PARSER_VERSION = 2  # 2: smf.py's MIDI reader, ABC tunes split by abcfile.py, MusicXML drums
MIDI_SUFFIXES = (".mid", ".midi")
SUFFIXES = MIDI_SUFFIXES + scores.SCORE_SUFFIXES
DEFAULT_NAME = "bach-chorales"
POOL_MIN_ITEMS = 16
MAX_SECONDS = 24 * 3600  # one piece; longer is a damaged time, not music


@dataclass(frozen=True)
class ParseSettings:
    qpm: float = 100.0
    drums: str = "drop"  # drop: pitched notes only; only: percussion only
    sustain: bool = True
    limit: int = 0


@dataclass(frozen=True)
class Item:
    """One thing to parse: a file, or one tune (``number``, counted from 1 in file order; not
    the ``X:`` number, which need not be a number nor unique) of a multi-tune ABC file."""

    path: str
    number: int | None = None

    @property
    def label(self) -> str:
        return self.path if self.number is None else f"{self.path}#{self.number}"


@dataclass
class Source:
    label: str
    identity: str  # what the parse cache is keyed by
    items: Callable[[], list[Item]]  # resolved only on a cache miss


def _file_items(files: list[Path]) -> list[Item]:
    items: list[Item] = []
    for f in files:
        tunes = abcfile.read_tunes(f) if f.suffix.lower() == ".abc" else ()
        items += [Item(str(f), n) for n in range(1, len(tunes) + 1)] if len(tunes) > 1 \
            else [Item(str(f))]
    return items


def _stat_identity(files: list[Path]) -> str:
    rows = []
    for f in files:
        st = f.stat()
        rows.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
    return json.dumps(rows)


def resolve(source: str | None) -> Source:
    """Turn --data (None: the default chorales) into a Source; unknown names are one line."""
    if source is None or source in (DEFAULT_NAME, "music21:chorales"):
        return Source(DEFAULT_NAME, f"music21 {scores.music21_version()} chorales",
                      lambda: [Item(str(p)) for p in scores.chorale_files()])
    if source.startswith("music21:"):
        name = source.split(":", 1)[1]
        names = scores.corpus_names()
        if name not in names:
            prefixed = [f"music21:{n}" for n in names]
            raise SeqgenError(f"{source}: music21 has no corpus {name!r}"
                              f"{closest(source, prefixed)}; corpora: {', '.join(names)}")
        return Source(source, f"music21 {scores.music21_version()} {name}",
                      lambda: _file_items(scores.collection_files(name)))
    if not names_files(source):
        work = scores.find_work(source)
        if work is None:
            raise SeqgenError(_unknown(source))
        return Source(source, f"music21 {scores.music21_version()} work {source}",
                      lambda: [Item(str(work))])
    if Path(source).is_file() and Path(source).suffix.lower() not in SUFFIXES:
        raise SeqgenError(f"{source}: not a music file; the music domain reads "
                          f"{', '.join(SUFFIXES)}")
    files = discover(source, SUFFIXES, "music")
    return Source(source, _stat_identity(files), lambda: _file_items(files))


def _unknown(source: str) -> str:
    names = [f"music21:{n}" for n in scores.corpus_names()] + [DEFAULT_NAME]
    return (f"{source}: no such file, folder, glob or music21 corpus{closest(source, names)}; "
            f"corpora: {DEFAULT_NAME} (the default), music21:NAME for NAME in "
            f"{', '.join(scores.corpus_names())}, or a work such as bach/bwv66.6")


# ---- parsing ------------------------------------------------------------------------------
def parse_item(item: Item, settings: ParseSettings) -> tuple[list[np.ndarray], str | None]:
    """The note arrays of one item (pitched or percussion, by settings.drums; a type 2 MIDI
    file has one per sequence) and a note: without arrays, why the item is unusable; with
    them, what was repaired or not honoured in reading it (None: nothing)."""
    path = Path(item.path)
    try:
        if path.suffix.lower() in MIDI_SUFFIXES:
            sequences, repairs = _read_midi(path, settings.sustain)
        else:
            pitched, drums, repairs = scores.read(path, item.number, settings.qpm)
            sequences = [(pitched, drums)]
    except SeqgenError:
        raise
    except Exception as exc:  # noqa: BLE001 - parsers raise every kind of error on bad files
        kind = "MIDI" if path.suffix.lower() in MIDI_SUFFIXES else "score"
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        if not first:
            first = "the file ends early" if isinstance(exc, EOFError) else "no detail"
        return [], f"not a readable {kind} file ({type(exc).__name__}: {first})"
    arrays = [drums if settings.drums == "only" else pitched for pitched, drums in sequences]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        what = "percussion" if settings.drums == "only" else "pitched"
        return [], f"no {what} notes"
    end = max(float(a[:, 1].max()) for a in arrays)
    if not end <= MAX_SECONDS:  # (or NaN) its rests alone: millions of time-shift events
        return [], (f"its notes run to {end:.3g} s, over {MAX_SECONDS // 3600} hours (a corrupt "
                    f"time?)")
    return arrays, "; ".join(repairs) or None


def _read_midi(path: Path, sustain: bool) -> tuple[list[tuple[np.ndarray, np.ndarray]],
                                                   list[str]]:
    from seqgen_music.midi import read_sequences

    return read_sequences(path, sustain)


def _work(args: tuple[Item, ParseSettings]) -> tuple[list[np.ndarray], str | None]:
    return parse_item(*args)


def parse_items(items: list[Item], settings: ParseSettings, what: str = "parsing"
                ) -> list[tuple[list[np.ndarray], str | None]]:
    """Parse every item, with a pool of two processes when there are many; ``what`` names
    the step in the status line shown while it runs (``what: 120/371``)."""
    jobs = [(it, settings) for it in items]
    if len(items) < POOL_MIN_ITEMS or (os.cpu_count() or 1) < 2 or os.name != "posix":
        return list(counted((parse_item(it, settings) for it in items), what, len(items)))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        # imap keeps pool.map's order and chunks, and lets the status line count
        return list(counted(pool.imap(_work, jobs, chunksize=4), what, len(items),
                            at_once=True))


# ---- the parse cache ----------------------------------------------------------------------
def _cache_file(source: Source, settings: ParseSettings) -> Path:
    key = content_key(PARSER_VERSION, source.identity, asdict(settings))
    return cache_dir() / "music" / f"{key}.npz"


Parsed = tuple[list[Piece], list[tuple[str, str, bool]]]


def _to_arrays(parsed: Parsed) -> dict[str, np.ndarray] | None:
    pieces, notes = parsed
    if not pieces:
        return None  # nothing read: perhaps a missing package, so the next load tries again
    meta = json.dumps({"names": [p.name for p in pieces], "drums": [p.drums for p in pieces],
                       "notes": notes})
    return {"notes": np.concatenate([p.notes for p in pieces]),
            "counts": np.array([len(p.notes) for p in pieces], np.int64), "meta": np.array(meta)}


def _from_arrays(z: dict[str, np.ndarray]) -> Parsed:
    notes, counts, meta = z["notes"], z["counts"], json.loads(str(z["meta"]))
    said = [(str(label), str(why), bool(read)) for label, why, read in meta["notes"]]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    pieces = [Piece(notes[a:b], name, bool(d)) for a, b, name, d in
              zip(bounds[:-1], bounds[1:], meta["names"], meta["drums"], strict=True)]
    return pieces, said


def _parse(items: list[Item], settings: ParseSettings, label: str) -> Parsed:
    """The pieces of the items, and (label, note, whether it was read anyway) for each item
    that was skipped or needed a repair."""
    pieces: list[Piece] = []
    said: list[tuple[str, str, bool]] = []
    kind = "chorales" if label == DEFAULT_NAME else f"music items of {label}"
    what = f"parsing {len(items)} {kind} (first use; cached after)"
    for item, (arrays, note) in zip(items, parse_items(items, settings, what), strict=True):
        if note is not None:
            said.append((item.label, note, bool(arrays)))
        name = Path(item.path).stem + ("" if item.number is None else f"#{item.number}")
        pieces += [Piece(a, name, settings.drums == "only") for a in arrays]
    return pieces, said


def load_pieces(source: str | None, settings: ParseSettings) -> tuple[str, list[Piece]]:
    """The pieces of a source (from the parse cache when it has them) and the source label.
    What was skipped or repaired is said every time, from the cache too."""
    src = resolve(source)

    def parse() -> Parsed:
        items = src.items()
        if settings.limit > 0:
            items = items[: settings.limit]
        if not items:
            raise SeqgenError(f"{src.label}: nothing to read")
        return _parse(items, settings, src.label)
    pieces, said = cached_npz(_cache_file(src, settings), parse, _to_arrays, _from_arrays)
    skipped = [(label, why) for label, why, read in said if not read]
    if not pieces:
        label, why = skipped[0]
        more = f" (and {len(skipped) - 1} more files unusable)" if len(skipped) > 1 else ""
        raise SeqgenError(f"{label}: {why}{more}: no music to train on")
    for label, why, read in said:
        plugins.warn(f"{label}: {why}: {'read anyway' if read else 'skipped'}")
    return src.label, pieces
