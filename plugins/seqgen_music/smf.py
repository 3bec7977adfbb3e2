"""Standard MIDI Files read byte by byte: the events the music domain needs, and what was wrong.

mido refuses a damaged file or, with ``clip=True``, mends it without a word, and pretty_midi
refuses it. Real collections hold such files (data bytes over 127, tracks cut short, track lengths
that do not match the bytes), so this reader reads on where the damage allows and lists every
repair, for one warning line per file. It also reads two things mido reads wrongly: SMPTE time
division (a negative division: frames a second and ticks a frame; tempo events do not apply),
and the tracks of a type 2 file, which are independent sequences, not parts to merge. Only notes,
the sustain pedal and tempo are kept; every other event is skipped by its length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

NOTE_OFF, NOTE_ON, CONTROL, TEMPO, END = 0x80, 0x90, 0xB0, 0x51, 0x2F
SUSTAIN = 64
DATA_BYTES = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
SYSTEM_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0,
                0xFE: 0}  # system common and real-time messages: mido accepts them in files
DEFAULT_TEMPO = 500_000  # microseconds a beat: MIDI's 120 quarter notes a minute
SMPTE_RATES = {24: 24.0, 25: 25.0, 29: 29.97, 30: 30.0}  # 29 is 30 drop-frame: 29.97 a second

#: (tick, kind, channel, data1, data2); kind is NOTE_ON, NOTE_OFF, CONTROL, TEMPO (data1 the
#: microseconds a beat) or END (where the track ends: its last event, or its end-of-track)
Event = tuple[int, int, int, int, int]


class MidiError(ValueError):
    """A file that cannot be read at all (no MIDI header, format 3, a time division of 0)."""


class _Damage(Exception):
    """Where a track cannot be read on, and why."""


@dataclass
class Smf:
    format: int
    ticks_per_beat: int  # 0 with SMPTE division
    ticks_per_second: float  # SMPTE division: frames a second times ticks a frame; else 0
    tracks: list[list[Event]] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    def sequences(self) -> list[list[tuple[float, Event]]]:
        """Every event with its time in seconds, in playing order: the tracks merged (type 0
        and 1), or each track on its own (type 2). Ties keep track order, as mido's merge."""
        groups = [list(range(len(self.tracks)))] if self.format < 2 else \
            [[t] for t in range(len(self.tracks))]
        return [self._timed(g) for g in groups]

    def _timed(self, group: list[int]) -> list[tuple[float, Event]]:
        merged = sorted(((ev, t) for t in group for ev in self.tracks[t]),
                        key=lambda e: (e[0][0], e[1]))
        if self.ticks_per_second:
            return [(ev[0] / self.ticks_per_second, ev) for ev, _ in merged]
        out: list[tuple[float, Event]] = []
        tempo, last, now = DEFAULT_TEMPO, 0, 0.0
        scale = 1e-6 / self.ticks_per_beat
        for ev, _ in merged:
            now += (ev[0] - last) * tempo * scale
            last = ev[0]
            if ev[1] == TEMPO:
                tempo = ev[3]
            out.append((now, ev))
        return out


def parse(data: bytes) -> Smf:
    """Read a MIDI file's bytes; raise MidiError where there is no file to read."""
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":  # an .rmi: the SMF is its data chunk
        at = data.find(b"data", 12)
        data = data[at + 8:] if at >= 0 else b""
    if data[:4] != b"MThd":
        raise MidiError("no MThd header: not a MIDI file")
    if len(data) < 14:
        raise MidiError("the header is cut short")
    size, fmt, count, division = struct.unpack(">IHHH", data[4:14])
    if fmt > 2:
        raise MidiError(f"format {fmt}: not a MIDI file of type 0, 1 or 2")
    if size < 6:
        raise MidiError(f"a header of {size} bytes (6 at least): not a MIDI file")
    smf = Smf(fmt, *_division(division))
    pos = 8 + size
    while len(smf.tracks) < count and pos + 8 <= len(data):
        chunk, length = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        if chunk != b"MTrk":
            if chunk.isalpha():  # another kind of chunk: the standard says to skip it
                pos += 8 + length
                continue
            found = data.find(b"MTrk", pos)
            if found < 0:
                break
            smf.repairs.append(f"{found - pos} stray bytes before track {len(smf.tracks) + 1} "
                               f"skipped")
            pos = found
            continue
        events, pos = _track(data, pos + 8, pos + 8 + length, len(smf.tracks) + 1, smf.repairs)
        smf.tracks.append(events)
    if len(smf.tracks) < count:
        smf.repairs.append(f"the header announces {count} tracks, the file holds "
                           f"{len(smf.tracks)}")
    return smf


def _division(division: int) -> tuple[int, float]:
    """Ticks a beat, or (SMPTE, the top bit set) ticks a second."""
    if division & 0x8000:
        fps, per_frame = 256 - (division >> 8), division & 0xFF
        if not per_frame:
            raise MidiError("SMPTE time division with 0 ticks a frame")
        return 0, SMPTE_RATES.get(fps, float(fps)) * per_frame
    if not division:
        raise MidiError("a time division of 0 ticks a beat")
    return division, 0.0


def _track(data: bytes, start: int, end: int, number: int, repairs: list[str]
           ) -> tuple[list[Event], int]:
    """The events of track ``number`` (its header says data[start:end]), and where the next
    chunk starts: at the declared end, or after the end-of-track where the length is wrong."""
    events: list[Event] = []
    reader = _Reader(data, events)
    i, size = start, len(data)
    try:
        while not (i == end and _chunk_ends(data, end)):
            i, done = reader.event(i)
            if done:  # the end-of-track event
                if i == end or (i < end <= size and _chunk_ends(data, end)):
                    i = end  # bytes after the end-of-track but inside the track: padding
                else:
                    repairs.append(f"track {number}'s length says {end - start} bytes, its "
                                   f"end-of-track comes after {i - start}: read to that")
                break
    except IndexError:
        short = f"{end - size} bytes before its declared end" if end > size else "inside it"
        repairs.append(f"track {number} is cut short: the file ends {short}")
        i = size
    except _Damage as why:
        repairs.append(f"track {number} is unreadable from byte {i} ({why}): the rest of it "
                       f"skipped")
        found = data.find(b"MTrk", i)
        i = found if found >= 0 else size
    events.append((reader.tick, END, 0, 0, 0))
    if reader.clipped:
        repairs.append(f"{reader.clipped} data bytes over 127 in track {number} clipped to 127")
    return events, i


def _chunk_ends(data: bytes, end: int) -> bool:
    """Whether a track may end at ``end``: the file ends, a track starts, or no end-of-track
    follows before either (then what follows is junk, not the rest of a track whose length
    field is too small)."""
    if end >= len(data) or data[end:end + 4] == b"MTrk":
        return True
    following = data.find(b"MTrk", end)
    return data.find(b"\xff\x2f\x00", end, following if following >= 0 else len(data)) < 0


class _Reader:
    """One track's events, one at a time, with its running status and clip count."""

    def __init__(self, data: bytes, events: list[Event]) -> None:
        self.data, self.events = data, events
        self.tick = self.status = self.clipped = 0

    def _varint(self, i: int) -> tuple[int, int]:
        value = 0
        for k in range(4):  # the standard's longest: 4 bytes, 0x0FFFFFFF
            byte = self.data[i + k]
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                return value, i + k + 1
        raise _Damage("a number longer than 4 bytes")

    def _skip(self, i: int, length: int) -> int:
        if i + length > len(self.data):
            raise IndexError
        return i + length

    def event(self, i: int) -> tuple[int, bool]:
        """Read the event at ``i``: where the next starts, and whether it ended the track."""
        delta, i = self._varint(i)
        self.tick += delta
        byte = self.data[i]
        if byte == 0xFF:
            kind = self.data[i + 1]
            length, i = self._varint(i + 2)
            body = self.data[i:self._skip(i, length)]
            if kind == TEMPO and length == 3 and int.from_bytes(body, "big"):
                self.events.append((self.tick, TEMPO, 0, int.from_bytes(body, "big"), 0))
            return i + length, kind == END
        if byte in (0xF0, 0xF7):  # system exclusive: skipped; running status goes on
            length, i = self._varint(i + 1)
            return self._skip(i, length), False
        if byte > 0xF0:
            if byte not in SYSTEM_BYTES:
                raise _Damage(f"undefined status byte 0x{byte:02X}")
            return self._skip(i + 1, SYSTEM_BYTES[byte]), False
        if byte >= 0x80:
            self.status, i = byte, i + 1
        elif not self.status:
            raise _Damage("a data byte with no status byte before it")
        return self._channel(i), False

    def _channel(self, i: int) -> int:
        kind, channel = self.status & 0xF0, self.status & 0x0F
        need = DATA_BYTES[kind]
        raw = self.data[i:self._skip(i, need)]
        if max(raw) > 127:
            self.clipped += sum(b > 127 for b in raw)
            raw = bytes(min(b, 127) for b in raw)
        if kind in (NOTE_ON, NOTE_OFF) or (kind == CONTROL and raw[0] == SUSTAIN):
            self.events.append((self.tick, kind, channel, raw[0], raw[1]))
        return i + need
