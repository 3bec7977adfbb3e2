"""MIDI files in (the plugin's own reader, smf.py) and out (mido).

Not music21's MIDI reader: it is several times slower and mangles tied chords. Not mido's either:
it refuses damaged files or mends them without a word, and misreads SMPTE time division.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from seqgen import plugins
from seqgen.errors import SeqgenError
from seqgen_music import smf
from seqgen_music.encoding import NO_NOTES, note_array

DRUM_CHANNEL = 9  # channel 10, counted from 1
TICKS_PER_BEAT = 480


def _mido() -> Any:
    """Import mido, or say in one line how to install it."""
    try:
        import mido
    except ImportError:
        raise SeqgenError('the music domain needs mido: pip install "seqgen[music]"') from None
    return mido


def read_sequences(path: str | Path, sustain: bool = True
                   ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """The pitched and percussion notes of each sequence of a MIDI file (one; a type 2 file
    has one per track), and the repairs a damaged file needed (empty for a sound one).

    Raises ``smf.MidiError`` (or OSError) where there is no MIDI file to read.
    """
    song = smf.parse(Path(path).read_bytes())
    return [_notes(seq, sustain) for seq in song.sequences()], song.repairs


def read_midi(path: str | Path, sustain: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Pitched notes and percussion notes (channel 10) of a type 0 or 1 MIDI file (of a type 2
    file, its first sequence), times in seconds; a repaired file is said in one warning."""
    sequences, repairs = read_sequences(path, sustain)
    if repairs:
        plugins.warn(f"{path}: {'; '.join(repairs)}: read anyway")
    return sequences[0] if sequences else (NO_NOTES.copy(), NO_NOTES.copy())


def _notes(events: list[tuple[float, smf.Event]], sustain: bool
           ) -> tuple[np.ndarray, np.ndarray]:
    """Notes from timed events. A note-on with velocity 0 is a note-off; notes of one pitch on
    one channel pair first in, first out. With ``sustain``, a note released while the sustain
    pedal (CC 64) is down sounds until the pedal lifts or the key is struck again, as
    PerformanceRNN reads piano performances."""
    now = 0.0
    pitched: list[tuple[float, float, int, int]] = []
    drums: list[tuple[float, float, int, int]] = []
    sounding: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    held: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    pedal = [False] * 16

    def close(ch: int, note: int, start: float, vel: int, end: float) -> None:
        (drums if ch == DRUM_CHANNEL else pitched).append((start, end, note, vel))

    for now, (_, kind, ch, a, b) in events:
        if kind == smf.NOTE_ON and b > 0:
            for start, vel in held.pop((ch, a), []):  # striking a pedal-held key ends it
                close(ch, a, start, vel, now)
            sounding[(ch, a)].append((now, b))
        elif kind in (smf.NOTE_ON, smf.NOTE_OFF):
            if sounding.get((ch, a)):
                start, vel = sounding[(ch, a)].pop(0)
                if sustain and pedal[ch] and ch != DRUM_CHANNEL:
                    held[(ch, a)].append((start, vel))
                else:
                    close(ch, a, start, vel, now)
        elif kind == smf.CONTROL:  # only the sustain pedal is kept
            if pedal[ch] and b < 64:
                for key in [k for k in held if k[0] == ch]:
                    for start, vel in held.pop(key):
                        close(ch, key[1], start, vel, now)
            pedal[ch] = b >= 64
    for table in (sounding, held):  # notes never released end with the file
        for (ch, note), items in table.items():
            for start, vel in items:
                close(ch, note, start, vel, max(now, start + 0.1))
    return note_array(pitched), note_array(drums)


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
