"""MIDI files in and out with mido (3 to 17 times faster than music21 for MIDI, and music21's
reader mangles tied chords)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_music.encoding import NO_NOTES

DRUM_CHANNEL = 9  # channel 10, counted from 1
TICKS_PER_BEAT = 480


def _mido() -> Any:
    """Import mido, or say in one line how to install it."""
    try:
        import mido
    except ImportError:
        raise SeqgenError('the music domain needs mido: pip install "seqgen[music]"') from None
    return mido


def _array(rows: list[tuple[float, float, int, int]]) -> np.ndarray:
    if not rows:
        return NO_NOTES.copy()
    notes = np.asarray(rows, dtype=np.float64)
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


def _timed(mid: Any) -> list[tuple[float, Any]]:
    """Every message of every track with its time in seconds, in playing order.

    What iterating a ``mido.MidiFile`` gives, without its two copies of every message (merge
    and re-time), which took half the reading time: absolute ticks per track, one stable sort
    (ties keep track order, as ``mido.merge_tracks``), then the tempo map applied.
    """
    ticked: list[tuple[int, int, Any]] = []
    for t, track in enumerate(mid.tracks):
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type != "end_of_track":  # mido drops them too (and adds one at the end)
                ticked.append((tick, t, msg))
    ticked.sort(key=lambda e: (e[0], e[1]))
    out: list[tuple[float, Any]] = []
    tempo, last, now = 500000, 0, 0.0  # microseconds per beat: MIDI's default 120 bpm
    scale = 1e-6 / mid.ticks_per_beat
    for tick, _, msg in ticked:
        now += (tick - last) * tempo * scale
        last = tick
        if msg.type == "set_tempo":
            tempo = msg.tempo
        out.append((now, msg))
    return out


def read_midi(path: str | Path, sustain: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Pitched notes and percussion notes (channel 10) of a MIDI file, times in seconds.

    Every track is merged and the tempo map applied (mido). A note-on with velocity 0 is a
    note-off; notes of one pitch on one channel pair first in, first out. With ``sustain``, a
    note released while the sustain pedal (CC 64) is down sounds until the pedal lifts or the
    key is struck again, as PerformanceRNN reads piano performances. Raises on a corrupt file.
    """
    mido = _mido()
    mid = mido.MidiFile(str(path), clip=True)
    now = 0.0
    pitched: list[tuple[float, float, int, int]] = []
    drums: list[tuple[float, float, int, int]] = []
    sounding: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    held: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    pedal = [False] * 16

    def close(ch: int, note: int, start: float, vel: int, end: float) -> None:
        (drums if ch == DRUM_CHANNEL else pitched).append((start, end, note, vel))

    for now, msg in _timed(mid):
        kind = msg.type
        if kind == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            for start, vel in held.pop(key, []):  # striking a pedal-held key ends it
                close(msg.channel, msg.note, start, vel, now)
            sounding[key].append((now, msg.velocity))
        elif kind == "note_off" or kind == "note_on":
            key = (msg.channel, msg.note)
            if sounding.get(key):
                start, vel = sounding[key].pop(0)
                if sustain and pedal[msg.channel] and msg.channel != DRUM_CHANNEL:
                    held[key].append((start, vel))
                else:
                    close(msg.channel, msg.note, start, vel, now)
        elif kind == "control_change" and msg.control == 64:
            down = msg.value >= 64
            if pedal[msg.channel] and not down:
                for key in [k for k in held if k[0] == msg.channel]:
                    for start, vel in held.pop(key):
                        close(key[0], key[1], start, vel, now)
            pedal[msg.channel] = down
    for table in (sounding, held):  # notes never released end with the file
        for (ch, note), items in table.items():
            for start, vel in items:
                close(ch, note, start, vel, max(now, start + 0.1))
    return _array(pitched), _array(drums)


def write_midi(notes: np.ndarray, path: str | Path, qpm: float = 100.0, drums: bool = False,
               name: str = "seqgen") -> None:
    """Write notes as a type 1 MIDI file: a tempo track, then one piano track (program 0) or a
    percussion track on channel 10. Every note-on gets its note-off."""
    mido = _mido()

    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("track_name", name=name, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=0))
    track = mido.MidiTrack()
    channel = DRUM_CHANNEL if drums else 0
    track.append(mido.MetaMessage("track_name", name="Drums" if drums else "Piano", time=0))
    if not drums:
        track.append(mido.Message("program_change", channel=channel, program=0, time=0))
    ticks_per_s = TICKS_PER_BEAT * qpm / 60.0
    events: list[tuple[int, int, int, int]] = []  # tick, 0 off / 1 on, pitch, velocity
    for start, end, pitch, vel in np.asarray(notes, dtype=np.float64).reshape(-1, 4).tolist():
        on = round(start * ticks_per_s)
        off = max(round(end * ticks_per_s), on + 1)
        p, v = int(pitch), int(min(max(round(vel), 1), 127))
        events += [(on, 1, p, v), (off, 0, p, 0)]
    events.sort()
    last = 0
    for tick, kind, pitch, vel in events:
        msg_type = "note_on" if kind else "note_off"
        track.append(mido.Message(msg_type, channel=channel, note=pitch,
                                  velocity=vel if kind else 64, time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    mid.tracks += [meta, track]
    mid.save(str(path))
