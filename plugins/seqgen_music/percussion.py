"""Unpitched percussion of MusicXML, read from the XML itself.

music21 keeps an unpitched note's place on the staff but not the instrument it sounds: it drops
each note's ``<instrument id>`` and the parts' ``<midi-unpitched>`` keys, so every drum of a
MusicXML score was lost, even with ``-o drums=only``. Here each unpitched note is timed as music21
times notes (divisions, chords, backup and forward, ties merged, measures one after another,
repeats not expanded) and given a General MIDI drum key, from the first of: the
``<midi-unpitched>`` of its instrument; the name of its instrument, or of the part ("Snare
Drum", "Hi-Hat", ...); its drum-set staff position (display step and octave on a five-line
staff: F4 bass drum, C5 snare, G5 hi-hat, ...); the acoustic snare, 38.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # the Element type; parsing is defusedxml's
import zipfile
from pathlib import Path

from defusedxml.ElementTree import fromstring

DEFAULT_KEY = 38  # acoustic snare: the drum a part of unknown percussion most likely holds
DEFAULT_VELOCITY = 80
FORTE = 90  # MusicXML's dynamics="100" is this MIDI velocity

#: (words of an instrument name, key); the most specific first (more words, then this order)
_NAMES = [(tuple(words.split()), key) for words, key in [
    ("side stick", 37), ("cross stick", 37), ("rim", 37), ("acoustic bass drum", 35),
    ("bass drum", 36), ("kick", 36), ("electric snare", 40), ("snare", 38), ("clap", 39),
    ("low floor tom", 41), ("high floor tom", 43), ("floor tom", 43), ("hi hat pedal", 44),
    ("hi hat foot", 44), ("hi hat open", 46), ("hi hat", 42), ("hihat", 42), ("high hat", 42),
    ("low mid tom", 47), ("hi mid tom", 48), ("high mid tom", 48), ("mid tom", 47),
    ("low tom", 45), ("high tom", 50), ("tom", 47), ("crash", 49), ("ride bell", 53),
    ("ride", 51), ("china", 52), ("chinese", 52), ("splash", 55), ("tambourine", 54),
    ("cowbell", 56), ("vibraslap", 58), ("low bongo", 61), ("bongo", 60), ("mute conga", 62),
    ("low conga", 64), ("conga", 63), ("low timbale", 66), ("timbale", 65), ("low agogo", 68),
    ("agogo", 67), ("cabasa", 69), ("maracas", 70), ("shaker", 70), ("long whistle", 72),
    ("whistle", 71), ("short guiro", 73), ("guiro", 74), ("claves", 75),
    ("low wood block", 77), ("wood block", 76), ("woodblock", 76), ("mute cuica", 78),
    ("cuica", 79), ("mute triangle", 80), ("triangle", 81), ("cymbal", 49)]]
_NAMES.sort(key=lambda entry: -len(entry[0]))

#: the drum-set staff (five lines, the percussion clef) as notation guides and notation
#: programs lay it out
POSITIONS = {("D", 4): 44, ("E", 4): 35, ("F", 4): 36, ("G", 4): 41, ("A", 4): 43,
             ("B", 4): 45, ("C", 5): 38, ("D", 5): 47, ("E", 5): 50, ("F", 5): 51,
             ("G", 5): 42, ("A", 5): 49, ("B", 5): 57}


def key_for_name(name: str) -> int | None:
    """The General MIDI drum key an instrument name calls for (None: no drum named)."""
    words = set(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())
    return next((key for need, key in _NAMES if words.issuperset(need)), None)


def xml_bytes(path: Path) -> bytes:
    """The score document of a .musicxml/.xml file or of a compressed .mxl."""
    if path.suffix.lower() != ".mxl":
        return path.read_bytes()
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.lower().endswith((".xml", ".musicxml"))
                 and not n.startswith("META-INF/")]
        if "META-INF/container.xml" in z.namelist():
            root = fromstring(z.read("META-INF/container.xml"))
            first = root.find(".//rootfile")
            if first is not None and first.get("full-path") in z.namelist():
                names.insert(0, str(first.get("full-path")))
        return z.read(names[0]) if names else b""


def unpitched_notes(data: bytes, qpm: float) -> list[tuple[float, float, int, int]]:
    """(start s, end s, drum key, velocity) of every unpitched note of a MusicXML document.

    The document has been checked for entity declarations (scores.check_safe) before."""
    if b"<unpitched" not in data:
        return []
    try:
        root = fromstring(data)
    except LookupError as exc:  # an XML declaration naming an encoding Python lacks
        raise ET.ParseError(f"unknown encoding: {exc}") from None
    parts: dict[str, list[ET.Element]] = {}
    if root.tag == "score-timewise":  # measures of parts, not parts of measures
        for measure in root.iter("measure"):
            for part in measure.findall("part"):
                parts.setdefault(part.get("id", ""), []).append(part)
    else:
        for part in root.findall("part"):
            parts[part.get("id", "")] = part.findall("measure")
    rows: list[tuple[float, float, int, int]] = []
    for score_part in root.iter("score-part"):
        kit = _Kit(score_part)
        rows += [(s * 60 / qpm, e * 60 / qpm, k, v)
                 for s, e, k, v in _part(parts.get(kit.id, []), kit)]
    return rows


class _Kit:
    """A part's instruments: names and MIDI keys by instrument id."""

    def __init__(self, score_part: ET.Element) -> None:
        self.id = score_part.get("id", "")
        self.part_name = score_part.findtext("part-name") or ""
        self.names = {i.get("id", ""): i.findtext("instrument-name") or ""
                      for i in score_part.findall("score-instrument")}
        self.midi: dict[str, int] = {}
        for m in score_part.findall("midi-instrument"):
            text = (m.findtext("midi-unpitched") or "").strip()
            if text.isdigit() and 1 <= int(text) <= 128:  # counted from 1
                self.midi[m.get("id", "")] = int(text) - 1
        self.staff_lines = 5

    def key(self, note: ET.Element, unpitched: ET.Element) -> int:
        ref = note.find("instrument")
        ident = ref.get("id", "") if ref is not None else \
            next(iter(self.names)) if len(self.names) == 1 else ""
        if ident in self.midi:
            return self.midi[ident]
        for name in (self.names.get(ident, ""), self.part_name):
            if (key := key_for_name(name)) is not None:
                return key
        step = (unpitched.findtext("display-step") or "").strip().upper()
        octave = (unpitched.findtext("display-octave") or "").strip()
        if self.staff_lines == 5 and octave.isdigit():
            return POSITIONS.get((step, int(octave)), DEFAULT_KEY)
        return DEFAULT_KEY


def _number(el: ET.Element, tag: str) -> float:
    try:
        value = float(el.findtext(tag) or 0)
    except ValueError:
        return 0.0
    return value if 0 <= value < 1e9 else 0.0  # NaN, negative and absurd lengths: none


def _part(measures: list[ET.Element], kit: _Kit) -> list[tuple[float, float, int, int]]:
    """The unpitched notes of one part, in quarter notes from its start."""
    rows: list[tuple[float, float, int, int]] = []
    tied: dict[int, int] = {}  # key -> the row a tie from it continues
    divisions, start = 1.0, 0.0
    for measure in measures:
        pos = onset = longest = 0.0
        for el in measure:
            if el.tag == "attributes":
                given = _number(el, "divisions")  # a positive whole number by the standard
                divisions = given if given >= 1 else divisions
                lines = el.findtext("staff-details/staff-lines")
                kit.staff_lines = int(lines) if lines and lines.isdigit() else kit.staff_lines
            elif el.tag in ("backup", "forward"):
                step = _number(el, "duration") / divisions
                pos = max(pos - step, 0.0) if el.tag == "backup" else pos + step
            elif el.tag == "note":
                length = 0.0 if el.find("grace") is not None else \
                    _number(el, "duration") / divisions
                if el.find("chord") is None:
                    onset, pos = pos, pos + length
                unpitched = el.find("unpitched")
                if unpitched is not None and length > 0 and el.find("cue") is None:
                    _add(rows, tied, el, kit.key(el, unpitched), start + onset, length)
            longest = max(longest, pos)
        start += longest
    return rows


def _add(rows: list[tuple[float, float, int, int]], tied: dict[int, int], note: ET.Element,
         key: int, onset: float, length: float) -> None:
    """One note, or the continuation of the tied note it ends (a tie is one attack)."""
    ties = {t.get("type") for t in note.findall("tie")}
    at = tied.pop(key, None)
    if "stop" in ties and at is not None and abs(rows[at][1] - onset) < 1e-6:
        s, _, k, v = rows[at]
        rows[at] = (s, onset + length, k, v)
    else:
        dynamics = note.get("dynamics")
        try:
            vel = round(float(dynamics) * FORTE / 100) if dynamics else DEFAULT_VELOCITY
        except ValueError:
            vel = DEFAULT_VELOCITY
        rows.append((onset, onset + length, key, min(max(vel, 1), 127)))
        at = len(rows) - 1
    if "start" in ties:
        tied[key] = at
