"""MIDI files the music tests write themselves with mido (and a check that they are valid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

TPB = 480
TEMPO = 500_000  # 120 quarter notes a minute: 960 ticks a second

# start s, end s, pitch, velocity: a chord, overlapping notes, several velocities, a rest > 1 s
SONG = np.array([
    [0.00, 1.00, 60, 100], [0.00, 1.00, 64, 100], [0.00, 1.00, 67, 100],  # C major chord
    [0.50, 1.75, 72, 40],   # overlaps the chord, soft
    [1.00, 1.25, 62, 127],  # loud
    [1.20, 2.00, 65, 70],   # overlaps the previous note
    [3.60, 4.10, 48, 90],   # after a 1.6 s rest
    [3.60, 5.00, 55, 20], [3.85, 4.30, 79, 64], [4.30, 6.00, 76, 110],
], dtype=np.float64)

DRUMS = np.array([[0.0, 0.1, 36, 100], [0.5, 0.6, 38, 90], [1.0, 1.1, 42, 80]])


def write_song(path: Path, notes: np.ndarray = SONG, drums: np.ndarray | None = None,
               transpose: int = 0, tempo: int = TEMPO) -> Path:
    """A type 1 MIDI file: a tempo track, a piano track (and a drum track on channel 10)."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=tempo, time=0)])
    mid.tracks.append(meta)
    ticks_per_s = TPB * 1_000_000 / tempo
    for channel, part in ((0, notes), (9, drums)):
        if part is None:
            continue
        events = []
        for s, e, p, v in part.tolist():
            events += [(round(s * ticks_per_s), 1, int(p) + (transpose if channel == 0 else 0),
                        int(v)), (round(e * ticks_per_s), 0, int(p) + (
                            transpose if channel == 0 else 0), 0)]
        events.sort()
        track, last = mido.MidiTrack(), 0
        for tick, kind, p, v in events:
            # note-offs written as note-on velocity 0 half the time: both are common in the wild
            off = mido.Message("note_off", channel=channel, note=p, velocity=0, time=tick - last) \
                if p % 2 else mido.Message("note_on", channel=channel, note=p, velocity=0,
                                           time=tick - last)
            track.append(mido.Message("note_on", channel=channel, note=p, velocity=v,
                                      time=tick - last) if kind else off)
            last = tick
        mid.tracks.append(track)
    mid.save(str(path))
    return path


def write_corpus(folder: Path, n: int = 6) -> Path:
    """n small pieces (the song played twice, in several keys, with drums) in a folder."""
    folder.mkdir(parents=True, exist_ok=True)
    again = SONG.copy()
    again[:, :2] += 6.5
    for k in range(n):
        write_song(folder / f"song{k}.mid", notes=np.concatenate([SONG, again]), drums=DRUMS,
                   transpose=k - n // 2)
    return folder


def test_the_written_files_are_valid_midi(tmp_path: Path) -> None:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(write_song(tmp_path / "a.mid", drums=DRUMS)))
    piano = [i for i in pm.instruments if not i.is_drum][0]
    got = sorted((round(n.start, 3), round(n.end, 3), n.pitch, n.velocity) for n in piano.notes)
    assert got == sorted(tuple(x) for x in SONG.tolist())
    assert [len(i.notes) for i in pm.instruments if i.is_drum] == [3]
