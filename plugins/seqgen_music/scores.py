"""Scores through music21: MusicXML, ABC, Humdrum **kern, and music21's own corpus.

ABC files are split into tunes by abcfile.py first, and MusicXML drums read by percussion.py.
Scores are read at a fixed tempo (``qpm``, the domain option) so that every piece of a corpus
shares one time grid: with the default 100 quarter notes a minute a sixteenth note is 150 ms,
15 steps of 10 ms. Ties are merged (``stripTies``) so a tied note is one note, not two attacks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_music import abcfile, percussion
from seqgen_music.encoding import NO_NOTES, note_array

SCORE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".abc", ".krn")
INSTALL_HINT = 'the music domain needs music21: pip install "seqgen[music]"'
DEFAULT_VELOCITY = percussion.DEFAULT_VELOCITY


def music21() -> Any:
    """Import music21, or say in one line how to install it."""
    try:
        import music21 as m21
    except ImportError:
        raise SeqgenError(INSTALL_HINT) from None
    return m21


def music21_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("music21")
    except PackageNotFoundError:
        raise SeqgenError(INSTALL_HINT) from None


def corpus_root() -> Path:
    from music21.common.pathTools import getCorpusFilePath

    music21()
    return Path(getCorpusFilePath())


def corpus_names() -> list[str]:
    """The collections of music21's corpus (``music21:NAME``): bach, essenFolksong, ..."""
    root = corpus_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")
                  and any(p.rglob("*.*")))


def collection_files(name: str) -> list[Path]:
    root = corpus_root() / name
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in SCORE_SUFFIXES + (".mid",)
                  and p.is_file())


def chorale_files() -> list[Path]:
    """The unique Bach chorales of music21's corpus, in music21's catalogue order."""
    m21 = music21()
    seen: dict[str, Path] = {}
    for name in m21.corpus.chorales.Iterator(returnType="filename"):
        if name not in seen:
            found = m21.corpus.getWork(name)
            if found:
                seen[name] = Path(found if isinstance(found, str | Path) else found[0])
    return list(seen.values())


def find_work(name: str) -> Path | None:
    """A music21 corpus work such as ``bach/bwv66.6``, or None."""
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)+", name):
        return None
    m21 = music21()
    try:
        found = m21.corpus.getWork(name)
    except Exception:  # noqa: BLE001 - music21 raises several kinds for unknown names
        return None
    if not found:
        return None
    return Path(found if isinstance(found, str | Path) else found[0])


MAX_UNPACKED = 64 << 20  # a compressed .mxl may not unpack to more than this


def check_safe(path: Path) -> None:
    """Refuse hostile score files before music21 sees them (issue 8).

    XML with entity declarations (billion laughs, external entities) is refused outright:
    MusicXML never needs them. A ``.mxl`` (a zip) may not unpack beyond MAX_UNPACKED, nor hold
    member names that climb out of their folder.
    """
    import zipfile

    suffix = path.suffix.lower()
    if suffix == ".mxl":
        try:
            with zipfile.ZipFile(path) as z:
                infos = z.infolist()
                total = sum(i.file_size for i in infos)
                if total > MAX_UNPACKED:
                    raise SeqgenError(f"{path}: unpacks to {total >> 20} MB, over the "
                                      f"{MAX_UNPACKED >> 20} MB cap for a compressed score")
                for info in infos:
                    parts = Path(info.filename).parts
                    if info.filename.startswith(("/", "\\")) or ".." in parts:
                        raise SeqgenError(f"{path}: archive member {info.filename!r} points "
                                          f"outside the archive")
                    if info.filename.lower().endswith((".xml", ".musicxml")):
                        _refuse_entities(z.read(info), path)
        except zipfile.BadZipFile as exc:
            raise SeqgenError(f"{path}: not a valid .mxl (zip) file: {exc}") from None
    elif suffix in (".xml", ".musicxml"):
        if path.stat().st_size > MAX_UNPACKED:
            raise SeqgenError(f"{path}: over the {MAX_UNPACKED >> 20} MB cap for a score")
        _refuse_entities(path.read_bytes(), path)


def _refuse_entities(data: bytes, path: Path) -> None:
    if b"<!ENTITY" in data:
        raise SeqgenError(f"{path}: XML declares entities (an entity-expansion or external-"
                          f"entity attack?): refused")


def parse(path: Path, number: int | None = None) -> Any:
    """Parse a score file with music21; of an ABC file, tune ``number`` (counted from 1; the
    first when None), as abcfile.py splits the file."""
    check_safe(path)
    m21 = music21()
    if path.suffix.lower() == ".abc":
        return m21.converter.parseData(_tune(path, number).text, format="abc")
    return m21.converter.parse(str(path))


def _tune(path: Path, number: int | None) -> abcfile.Tune:
    tunes = abcfile.read_tunes(path)
    if not 1 <= (number or 1) <= len(tunes):
        # the file changed since its tunes were counted: skipped (a ValueError), not fatal
        raise ValueError(f"no tune {number}: the file now holds {len(tunes)}")
    return tunes[(number or 1) - 1]


def read(path: Path, number: int | None, qpm: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Pitched and percussion notes of a score file (one tune of an ABC file), and what of the
    file could not be honoured (for a warning line)."""
    pitched, drums = to_notes(parse(path, number), qpm)
    suffix, notes = path.suffix.lower(), []
    if suffix == ".abc":
        tune = _tune(path, number)
        notes = list(tune.notes)
        if tune.percussion:  # abc2midi plays the notes of channel 10 as these drum keys
            pitched, drums = NO_NOTES.copy(), note_array(np.concatenate([drums, pitched]))
        elif tune.transpose:
            pitched = pitched.copy()
            pitched[:, 2] += tune.transpose
            pitched = pitched[(pitched[:, 2] >= 0) & (pitched[:, 2] <= 127)]
    elif suffix in (".xml", ".musicxml", ".mxl"):  # music21 loses the drums' instruments
        drums = note_array(percussion.unpitched_notes(percussion.xml_bytes(path), qpm))
    return pitched, drums, notes


def to_notes(score: Any, qpm: float, bars: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pitched and unpitched notes of a parsed score (N, 4), in seconds at ``qpm``.

    With ``bars``, only the first bars (after any pickup measure) are kept, notes cut there.
    """
    m21 = music21()
    if isinstance(score, m21.stream.Opus):
        score = score.scores[0] if score.scores else m21.stream.Score()
    cut = None
    if bars is not None:
        part = score.parts[0] if score.parts else score
        measures = list(part.getElementsByClass(m21.stream.Measure))
        if measures:
            pickup = 1 if measures[0].number == 0 or measures[0].paddingLeft > 0 else 0
            last = measures[min(len(measures), bars + pickup) - 1]
            cut = float(last.getOffsetBySite(part) + last.duration.quarterLength)
    score.stripTies(inPlace=True)
    parts = list(score.parts) if score.parts else [score]
    sec = 60.0 / qpm
    pitched: list[tuple[float, float, int, int]] = []
    drums: list[tuple[float, float, int, int]] = []
    for part in parts:
        for el in part.flatten().notesAndRests:
            ql = float(el.quarterLength)
            if el.isRest or ql <= 0:  # rests; grace notes have no duration
                continue
            start = float(el.offset)
            end = start + ql
            if cut is not None:
                if start >= cut:
                    continue
                end = min(end, cut)
            vel = el.volume.velocity if el.volume.velocity else DEFAULT_VELOCITY
            if isinstance(el, m21.note.Unpitched | m21.percussion.PercussionChord):
                for u in getattr(el, "notes", [el]):
                    inst = getattr(u, "storedInstrument", None)
                    midi = getattr(inst, "percMapPitch", None)
                    if midi is not None:
                        drums.append((start * sec, end * sec, int(midi), int(vel)))
                continue
            for p in el.pitches:
                if 0 <= p.midi <= 127:
                    pitched.append((start * sec, end * sec, int(p.midi), int(vel)))
    return note_array(pitched), note_array(drums)
