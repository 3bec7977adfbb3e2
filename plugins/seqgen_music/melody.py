"""``seqgen sample --melody FILE``: a tune to harmonize, read as the soprano of a chorale.

A MusicXML, ABC or kern score (music21) or a MIDI file (pretty_midi; music21's MIDI reader
mangles tied chords) gives its top voice on the sixteenth grid, its fermatas (scores), bar
lines, metre and key. A file of several parts or chords gives its top line, and says so; a file
with no notes is refused in one line. The tune keeps its key, moved by octaves into the
soprano's range where it lies outside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgen import plugins
from seqgen.errors import SeqgenError
from seqgen_music import chorale, satb, scores
from seqgen_music.chorale import GRID, RANGES, REST, Chorale

MIDI_SUFFIXES = (".mid", ".midi")
#: what ``--melody FILE`` reads (the domain's ``melody_formats``)
FORMATS = MIDI_SUFFIXES + scores.SCORE_SUFFIXES
#: hymn and folk tunes that ship with the plugin (``--melody old-hundredth``); none is a Bach
#: chorale melody, so that a harmonization of one is a tune the model never saw
TUNES = Path(__file__).parent / "tunes"


def tune_names() -> list[str]:
    return sorted(p.stem for p in TUNES.glob("*.abc"))


def _skyline(rows: list[tuple[float, float, int, bool]], frames: int,
             ch: Chorale) -> bool:
    """Write the highest note sounding at each frame into the soprano; rows are (start, end in
    quarter notes, pitch, fermata). True where two notes ever sounded at once."""
    top = np.full(frames, REST, np.int64)
    start = np.full(frames, -1, np.int64)  # the frame the sounding top note began
    several = False
    for a, b, p, fermata in sorted(rows, key=lambda r: (r[0], -r[2])):
        i, j = round(a / GRID), min(round(b / GRID), frames)
        if j <= i:
            continue
        over = top[i:j] != REST
        several |= bool(over.any())
        mine = ~over | (p > top[i:j])
        top[i:j] = np.where(mine, p, top[i:j])
        start[i:j] = np.where(mine, i, start[i:j])
        if fermata:
            ch.fermata[i:j] |= mine
    ch.pitch[:, 0] = top
    ch.attack[:, 0] = (top != REST) & (start == np.arange(frames))
    return several


def _abc_fermatas(path: Path, part: Any) -> None:
    """Put the fermatas of an ABC tune on its notes: music21's ABC reader drops them."""
    from music21 import expressions

    from seqgen_music import abcfile

    flags = abcfile.fermatas(abcfile.read_tunes(path)[0].text)
    notes = list(part.flatten().notes)
    if len(flags) != len(notes):
        if any(flags):
            plugins.warn(f"--melody {path}: its fermatas could not be matched to its notes "
                         f"({len(flags)} against music21's {len(notes)}): none read")
        return
    for note, flag in zip(notes, flags, strict=True):
        if flag:
            note.expressions.append(expressions.Fermata())


def _from_score(path: Path) -> tuple[Chorale, bool]:
    from music21 import expressions

    score = scores.parse(path)
    parts = list(getattr(score, "parts", [])) or [score]
    if path.suffix.lower() == ".abc":
        _abc_fermatas(path, parts[0])
    several = len([p for p in parts if p.flatten().notes]) > 1
    rows = [(float(n.offset), float(n.offset + n.quarterLength), max(q.midi for q in n.pitches),
             any(isinstance(e, expressions.Fermata) for e in n.expressions))
            for n in parts[0].flatten().stripTies().notes]
    sigs = list(score.recurse().getElementsByClass("TimeSignature"))
    bar = round(float(sigs[0].barDuration.quarterLength) / GRID) if sigs else 16
    frames = round(max((r[1] for r in rows), default=0.0) / GRID)
    key = score.analyze("key") if rows else None
    ch = chorale.empty(frames, bar, int(key.tonic.pitchClass) if key else 0,
                       bool(key and key.mode == "minor"), path.stem)
    several |= _skyline(rows, frames, ch) or any(len(n.pitches) > 1 for n in
                                                  parts[0].flatten().notes)
    chorale.positions(ch, parts[0])
    return ch, several


def _from_midi(path: Path) -> tuple[Chorale, bool]:
    from seqgen_music import fourmidi

    pm = fourmidi.load(path)
    tracks = [i for i in pm.instruments if not i.is_drum and i.notes]
    rows = [(a, b, p, False) for t in tracks[:1] for a, b, p in fourmidi.quarter_rows(pm, t)]
    frames = round(max((r[1] for r in rows), default=0.0) / GRID)
    tonic, minor = fourmidi.key_of([r[2] for r in rows])
    ch = chorale.empty(frames, fourmidi.bar_of(pm), tonic, minor, path.stem)
    several = _skyline(rows, frames, ch) or len(tracks) > 1
    return ch, several


def _into_range(ch: Chorale, source: str) -> Chorale:
    sung = ch.pitch[:, 0][ch.pitch[:, 0] >= 0]
    lo, hi = RANGES[0]
    best = min(range(-36, 37, 12), key=lambda k: (np.clip(sung + k, lo, hi) != sung + k).sum()
               * 100 + abs(k))
    if best:
        plugins.warn(f"--melody {source}: moved {best // 12:+d} octave(s) into the soprano's "
                     f"range (MIDI {lo}-{hi})")
        return ch.transposed(best)
    return ch


def read_melody(source: str) -> Chorale:
    """The tune as a chorale whose soprano alone sounds."""
    # a shipped name first: a name has no suffix, so a file of that name could not be read
    # anyway, and `seqgen serve` passes a name it listed expecting the tune, never a file
    path = TUNES / f"{source}.abc" if source in tune_names() else Path(source)
    if not path.is_file():
        raise SeqgenError(f"--melody {source}: no such file, nor a shipped tune "
                          f"({', '.join(tune_names())})")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise SeqgenError(f"--melody {source}: not a MusicXML, ABC, kern or MIDI file")
    try:
        ch, several = (_from_midi if suffix in MIDI_SUFFIXES else _from_score)(path)
    except SeqgenError:
        raise
    except Exception as exc:  # noqa: BLE001 - parsers raise every kind of error on bad files
        first = (str(exc).strip().splitlines() or ["no detail"])[0][:120]
        raise SeqgenError(f"--melody {source}: not readable ({type(exc).__name__}: "
                          f"{first})") from None
    if not (ch.pitch[:, 0] >= 0).any():
        raise SeqgenError(f"--melody {source}: no notes")
    if several:
        plugins.warn(f"--melody {source}: several voices sound at once; its top voice is the "
                     f"tune")
    return _into_range(ch, source)


def given(source: str, relative: bool = False) -> np.ndarray:
    """The steps of a harmonization: the header, each frame's POS and soprano given (>= 0),
    alto, tenor and bass to sample (-1)."""
    ch = read_melody(source)
    tokens = satb.encode(ch, relative).copy()
    frames = tokens[satb.HEADER:].reshape(-1, satb.FRAME)  # (F, 5) a view
    frames[:, 2:] = -1
    return tokens


def soprano_of(piece: Any) -> np.ndarray:
    """(F,) the soprano's pitches of a decoded harmonization (REST where it rests)."""
    return np.asarray(piece.pitch[:, 0])
