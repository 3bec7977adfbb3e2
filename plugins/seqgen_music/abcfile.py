"""ABC files split into their tunes here, before music21 reads each one.

music21 finds a tune by the number of its ``X:`` line and fails on ``X:1 % tune no 1`` (so every
tune of such a file was lost); it reads named voices (``V:S``, ``V:A``) one after another instead
of together, and the words of a ``%%begintext`` block as notes. So: the file header (the fields
and ``%%`` directives before the first ``X:``) goes in front of every tune; a tune ends at its
first empty line, as ABC 2.1 and abc2midi have it; each tune is given ``X:1``; the voices of a
tune are gathered into numbered blocks, which music21 reads as parts that sound together. The
``%%MIDI`` directives that change what sounds are honoured for the whole tune: ``transpose`` and
``rtranspose`` (and ``transpose=`` on the K: line), and ``channel 10`` (the notes are General
MIDI drum keys, as abc2midi plays them). The rest (program, gchord, ...) change nothing here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

FIELD = re.compile(r"[A-Za-z+]:")
VOICE = re.compile(r"V:\s*(\S+)(.*)")
INLINE_VOICE = re.compile(r"\[V:\s*([^\]\s]+)[^\]]*\]\s*(.*)")
MIDI = re.compile(r"(?:%%|I:)\s*MIDI\s*=?\s*(\w+)\s*(-?\d+)?", re.IGNORECASE)
KEY_TRANSPOSE = re.compile(r"K:.*\btranspose\s*=\s*(-?\d+)")
BLOCK = re.compile(r"%%begin(\w+)")
DRUM_CHANNEL = 10


@dataclass(frozen=True)
class Tune:
    text: str  # what music21 is given
    transpose: int = 0  # semitones added to every pitched note
    percussion: bool = False  # %%MIDI channel 10: the notes are drum keys
    notes: tuple[str, ...] = ()  # what was not honoured, for the warning line


@functools.lru_cache(maxsize=8)
def _cached(path: str, size: int, mtime_ns: int) -> tuple[Tune, ...]:
    return tuple(split(Path(path).read_text("latin-1")))  # ABC predates Unicode


def read_tunes(path: Path) -> tuple[Tune, ...]:
    """The tunes of an ABC file, split once per process (each tune of a file is its own item)."""
    st = path.stat()
    return _cached(str(path), st.st_size, st.st_mtime_ns)


def split(text: str) -> list[Tune]:
    """The tunes of an ABC text, each with the file header in front (a text with no ``X:`` line
    is one tune)."""
    lines = _drop_blocks(text.splitlines())
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if not starts:
        first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
        return [_tune([], ["X:1", *lines[first:]])]
    header = [ln for ln in lines[:starts[0]] if FIELD.match(ln) or ln.startswith("%%")]
    ends = starts[1:] + [len(lines)]
    return [_tune(header, lines[a:b]) for a, b in zip(starts, ends, strict=True)]


def _drop_blocks(lines: list[str]) -> list[str]:
    """Without ``%%begintext`` .. ``%%endtext`` (and ps, svg, ...) blocks: words, not music."""
    out: list[str] = []
    inside: str | None = None
    for line in lines:
        if inside is not None:
            if line.strip().lower().startswith(f"%%end{inside}"):
                inside = None
        elif m := BLOCK.match(line.strip().lower()):
            inside = m.group(1)
        else:
            out.append(line)
    return out


def _tune(header: list[str], lines: list[str]) -> Tune:
    """One tune (its lines from ``X:``), ended at its first empty line, voices gathered."""
    notes: list[str] = []
    blank = next((i for i, ln in enumerate(lines) if not ln.strip()), len(lines))
    rest = [ln for ln in lines[blank:] if "|" in ln and not ln.startswith("%")]
    if rest:
        notes.append(f"the lines after the empty line that ends the tune ({rest[0][:30]!r} "
                     f"...) are not read as music (ABC 2.1: an empty line ends a tune)")
    lines = ["X:1", *lines[1:blank]]
    head = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("K:")), None)
    if head is None:  # no K: line: the header runs to the first line of music
        head = next((i for i, ln in enumerate(lines) if not _is_meta(ln)), len(lines))
    transpose, percussion = _playback([*header, *lines[:head]])
    for i, line in enumerate(lines[head:]):
        m = MIDI.match(line)
        if m and m.group(1).lower() in ("transpose", "rtranspose", "channel"):
            notes.append(f"'{line.strip()[:40]}' inside the tune body (line {head + i + 1} of "
                         f"the tune) is not applied: only the header's count, for every voice")
    body = _gather_voices(lines[:head], lines[head:])
    return Tune("\n".join([*header, *body]) + "\n", transpose, percussion, tuple(notes))


def _is_meta(line: str) -> bool:
    return not line.strip() or line.startswith("%") or bool(FIELD.match(line))


def _playback(lines: list[str]) -> tuple[int, bool]:
    """The transposition (semitones) and whether the notes are drum keys, from the headers."""
    transpose, percussion = 0, False
    for line in lines:
        if m := KEY_TRANSPOSE.match(line):
            transpose = int(m.group(1))
        m = MIDI.match(line)
        if m is None or m.group(2) is None:
            continue
        what, value = m.group(1).lower(), int(m.group(2))
        if what == "transpose":
            transpose = value
        elif what == "rtranspose":
            transpose += value
        elif what == "channel":
            percussion = value == DRUM_CHANNEL
    return transpose, percussion


def _gather_voices(head: list[str], body: list[str]) -> list[str]:
    """The tune with each voice's lines in one block ``V:1``, ``V:2``, ..., in the order the
    voices are declared (or first used): music21 reads numbered, contiguous voices as parts
    that start together, and anything else as one line of music."""
    declared: dict[str, str] = {}
    for line in head:
        if m := VOICE.match(line):
            declared.setdefault(m.group(1), m.group(2))
    blocks: dict[str | None, list[str]] = {None: []}
    current: str | None = None
    for line in body:
        if m := VOICE.match(line):
            current = m.group(1)
            declared.setdefault(current, m.group(2))
            blocks.setdefault(current, [])
            continue
        if m := INLINE_VOICE.match(line):
            current, line = m.group(1), m.group(2)
            declared.setdefault(current, "")
            if not line.strip():
                continue  # an empty line would end the tune
        blocks.setdefault(current, []).append(line)
    common = blocks.pop(None)
    music = any(not _is_meta(ln) for ln in common)
    voices = [v for v in declared if blocks.get(v)]
    if len(voices) + music < 2:
        return [*head, *body]  # one voice: music21 reads it as it is
    if music:  # music before the first V: is the first voice
        blocks = {"": common, **blocks}
        voices, common = ["", *voices], []
    out = [ln for ln in head if not VOICE.match(ln)] + common
    for k, voice in enumerate(voices, 1):
        out += [f"V:{k}{declared.get(voice, '')}", *blocks[voice]]
    return out


# ---- fermatas, which music21's ABC reader drops ------------------------------------------
_STRIP = re.compile(r'%.*$|"[^"]*"|\[[A-Za-z]:[^\]]*\]|\{[^}]*\}')
_EVENT = re.compile(r"![^!]*!|\+[^+\s]*\+|\[[^\]]*\]|[A-Ga-g]|[zZxX]|H")
FERMATA_MARKS = ("!fermata!", "!invertedfermata!", "+fermata+", "+invertedfermata+", "H")


def fermatas(text: str) -> list[bool]:
    """For each note or chord of a one-voice tune, in order (rests left out, as music21's
    ``notes`` leaves them), whether a fermata decoration (``!fermata!``, ``H``) marks it."""
    flags: list[bool] = []
    pending = False
    for line in text.splitlines():
        if FIELD.match(line) or line.startswith("%"):
            continue
        for tok in _EVENT.findall(_STRIP.sub("", line)):
            if tok in FERMATA_MARKS:
                pending = True
            elif tok[0] in "!+":
                continue  # another decoration
            elif tok in "zZxX":
                pending = False  # a fermata over a rest: not a note's
            else:
                flags.append(pending)
                pending = False
    return flags
