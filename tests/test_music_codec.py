"""The performance encoding: exact round trips, on MIDI files written here and on real chorales."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_music_helpers import DRUMS, SONG, write_song

pytest.importorskip("mido")
from seqgen_music.domain import MusicDomain, MusicOptions  # noqa: E402
from seqgen_music.encoding import (  # noqa: E402
    DUR0,
    OFF0,
    ON0,
    SEP,
    SHIFT0,
    PerformanceCodec,
    Piece,
)
from seqgen_music.midi import read_midi, write_midi  # noqa: E402


def _assert_close(got: np.ndarray, want: np.ndarray, time_tol: float, vel_tol: float) -> None:
    """Same pitches note for note; times and velocities within the tolerances."""
    assert got.shape == want.shape, (got.shape, want.shape)
    g = got[np.lexsort((got[:, 2], np.round(got[:, 0], 2)))]
    w = want[np.lexsort((want[:, 2], np.round(want[:, 0], 2)))]
    assert (g[:, 2] == w[:, 2]).all()
    assert np.abs(g[:, :2] - w[:, :2]).max() <= time_tol + 1e-9
    assert np.abs(g[:, 3] - w[:, 3]).max() <= vel_tol


def test_vocabulary_is_performance_rnn() -> None:
    codec = PerformanceCodec()
    assert codec.vocab_size == 1 + 128 + 128 + 100 + 32  # separator + PerformanceRNN's 388
    assert codec.n_shift == 100 and codec.step == 0.01


def test_events_of_a_chord_and_a_long_rest() -> None:
    codec = PerformanceCodec()
    notes = np.array([[0.0, 0.5, 60, 100], [0.0, 0.5, 64, 100], [2.0, 2.1, 67, 100]])
    toks = codec.encode(notes).tolist()
    vel = codec.vel0 + (100 - 1) * 32 // 127
    assert toks == [vel, ON0 + 60, ON0 + 64, SHIFT0 + 49, OFF0 + 60, OFF0 + 64,
                    SHIFT0 + 99, SHIFT0 + 49, ON0 + 67, SHIFT0 + 9, OFF0 + 67]
    assert SEP not in toks
    assert codec.seconds(np.array(toks)) == pytest.approx(2.1)


def test_duration_layout() -> None:
    codec = PerformanceCodec(encoding="duration")
    assert codec.vocab_size == 1 + 128 + 100 + 100 + 32
    notes = np.array([[0.0, 0.5, 60, 100], [0.0, 2.5, 64, 100], [3.0, 3.1, 67, 100]])
    toks = codec.encode(notes).tolist()
    vel, shift0 = codec.vel0 + (100 - 1) * 32 // 127, codec.shift0
    assert toks == [vel, ON0 + 60, DUR0 + 49, ON0 + 64, DUR0 + 99, DUR0 + 99, DUR0 + 49,
                    shift0 + 99, shift0 + 99, shift0 + 99, ON0 + 67, DUR0 + 9]
    assert codec.seconds(np.array(toks)) == pytest.approx(3.0)  # shifts go onset to onset
    assert np.array_equal(codec.decode(np.array(toks)), codec.normalize(notes))


@pytest.mark.parametrize("encoding", ["performance", "duration"])
def test_any_tokens_decode_to_valid_notes(encoding: str, tmp_path: Path) -> None:
    """Whatever a model samples, the notes are valid: positive length, one pitch never
    overlapping itself, so the MIDI file has a note-off for every note-on."""
    import mido

    codec = PerformanceCodec(encoding=encoding)
    rng = np.random.default_rng(1)
    for trial in range(20):
        notes = codec.decode(rng.integers(0, codec.vocab_size, 300))
        assert (notes[:, 1] > notes[:, 0]).all()
        for q in np.unique(notes[:, 2]):
            same = notes[notes[:, 2] == q]
            assert (same[1:, 0] >= same[:-1, 1] - 1e-9).all()
        if trial < 3:
            write_midi(notes, tmp_path / "x.mid")
            sounding: dict[int, int] = {}
            for msg in mido.MidiFile(str(tmp_path / "x.mid")):
                if msg.type == "note_on":
                    sounding[msg.note] = sounding.get(msg.note, 0) + 1
                    assert sounding[msg.note] == 1
                elif msg.type == "note_off":
                    sounding[msg.note] -= 1
            assert not any(sounding.values())


@pytest.mark.parametrize("encoding", ["performance", "duration"])
def test_round_trip_random_notes_exact_on_the_grid(encoding: str) -> None:
    rng = np.random.default_rng(0)
    codec = PerformanceCodec(encoding=encoding)
    n = 400
    start = rng.uniform(0, 60, n)
    notes = np.stack([start, start + rng.uniform(0.001, 4, n), rng.integers(0, 128, n),
                      rng.integers(1, 128, n)], 1)
    back = codec.decode(codec.encode(notes))
    assert np.array_equal(back, codec.normalize(notes))
    # against the raw notes: pitch exact, times within half a step, velocity within its bin
    kept = codec.normalize(notes)
    assert len(kept) >= n - 20  # only same-pitch duplicates at one onset may merge
    same = np.abs(notes[:, None, 0] - kept[None, :, 0]) <= 0.005 + 1e-9
    assert same.any(1).mean() > 0.95
    assert np.abs(codec.encode(back) - codec.encode(notes)).max() == 0


def test_same_pitch_overlap_is_resolved_like_midi() -> None:
    codec = PerformanceCodec()
    notes = np.array([[0.0, 1.0, 60, 80], [0.5, 1.5, 60, 80], [0.5, 0.7, 60, 80]])
    back = codec.decode(codec.encode(notes))
    assert back[:, :3].tolist() == [[0.0, 0.5, 60], [0.5, 1.5, 60]]


def test_decode_closes_dangling_notes_and_ignores_stray_offs() -> None:
    codec = PerformanceCodec()
    toks = np.array([OFF0 + 50, ON0 + 60, SHIFT0 + 9, ON0 + 60, ON0 + 64])
    notes = codec.decode(toks)
    assert notes[:, 2].tolist() == [60, 60, 64]
    assert (notes[:, 1] > notes[:, 0]).all()  # every note ends after it starts
    assert notes[0, 1] == pytest.approx(0.1)  # the re-struck note ends where it is struck


@pytest.mark.parametrize("bins,encoding", [(32, "performance"), (0, "performance"),
                                           (32, "duration")])
def test_midi_file_round_trip(tmp_path: Path, bins: int, encoding: str) -> None:
    path = write_song(tmp_path / "song.mid", drums=DRUMS)
    pitched, drums = read_midi(path)
    _assert_close(pitched, SONG, 0.002, 0)  # the reader: ticks are ~1 ms here
    _assert_close(drums, DRUMS, 0.002, 0)
    dom = MusicDomain(MusicOptions(velocity_bins=bins, encoding=encoding))
    back = dom.decode(dom.encode(Piece(pitched)))
    _assert_close(back.notes, SONG, 0.005 + 0.002, 4 if bins else 127)
    out = tmp_path / "back.mid"
    write_midi(back.notes, out, qpm=100)
    again, _ = read_midi(out)
    _assert_close(again, back.notes, 0.002, 0)


def test_message_timing_matches_mido_with_tempo_changes(tmp_path: Path) -> None:
    import mido

    from seqgen_music import smf

    rng = np.random.default_rng(0)
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    mid.tracks.append(mido.MidiTrack(
        [mido.MetaMessage("set_tempo", tempo=int(t), time=int(d))
         for t, d in zip(rng.integers(2e5, 9e5, 12), rng.integers(0, 300, 12), strict=True)]))
    for ch in range(3):  # three note tracks whose events interleave with the tempo changes
        mid.tracks.append(mido.MidiTrack(
            [mido.Message("note_on" if i % 2 == 0 else "note_off", channel=ch, note=60 + i,
                          velocity=64, time=int(rng.integers(0, 200))) for i in range(40)]))
    mid.save(str(tmp_path / "tempi.mid"))
    want, now = [], 0.0
    for msg in mido.MidiFile(str(tmp_path / "tempi.mid")):  # mido's merge and re-timing
        now += msg.time
        if msg.type in ("note_on", "note_off"):
            want.append((now, msg.type, msg.channel, msg.note))
    song = smf.parse((tmp_path / "tempi.mid").read_bytes())
    names = {smf.NOTE_ON: "note_on", smf.NOTE_OFF: "note_off"}
    got = [(t, names[e[1]], e[2], e[3]) for t, e in song.sequences()[0] if e[1] in names]
    assert [g[1:] for g in got] == [w[1:] for w in want] and not song.repairs
    np.testing.assert_allclose([t for t, *_ in got], [t for t, *_ in want], rtol=1e-12)


def test_sustain_pedal_extends_notes(tmp_path: Path) -> None:
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)  # 120 qpm: 960 ticks a second
    mid.tracks.append(mido.MidiTrack([
        mido.Message("control_change", control=64, value=127, time=0),
        mido.Message("note_on", note=60, velocity=90, time=0),
        mido.Message("note_off", note=60, time=480),  # key up at 0.5 s, pedal still down
        mido.Message("control_change", control=64, value=0, time=960),  # pedal up at 1.5 s
    ]))
    mid.save(str(tmp_path / "pedal.mid"))
    with_pedal, _ = read_midi(tmp_path / "pedal.mid", sustain=True)
    without, _ = read_midi(tmp_path / "pedal.mid", sustain=False)
    assert with_pedal[0, 1] == pytest.approx(1.5) and without[0, 1] == pytest.approx(0.5)


@pytest.mark.parametrize("encoding", ["performance", "duration"])
def test_real_chorales_round_trip(tmp_path: Path, encoding: str) -> None:
    pytest.importorskip("music21")
    import pretty_midi

    from seqgen_music import scores

    dom = MusicDomain(MusicOptions(encoding=encoding))
    for work in ("bach/bwv66.6", "bach/bwv269", "bach/bwv347"):
        path = scores.find_work(work)
        assert path is not None
        notes, _ = scores.to_notes(scores.parse(path), qpm=100)
        assert len(notes) > 100
        toks = dom.encode(Piece(notes))
        back = dom.decode(toks).notes
        # the chorales sit on a 150 ms sixteenth grid at 100 qpm: 10 ms steps keep them exactly,
        # except same-pitch unisons between voices, which MIDI cannot hold apart either
        norm = dom.codec.normalize(notes)
        assert np.array_equal(back, norm)
        # every attack survives (pitch exact, onset within half a step); only unisons merge
        attacks = {(round(s / 0.01), int(p)) for s, _, p, _ in notes.tolist()}
        assert attacks == {(round(s / 0.01), int(p)) for s, _, p, _ in back.tolist()}
        assert len(back) >= 0.9 * len(notes)
        assert np.abs(back[:, :2] - np.round(back[:, :2] / 0.15) * 0.15).max() < 1e-9
        # independent reader: pretty_midi sees the same notes in the rendered file
        out = tmp_path / f"{work.replace('/', '_')}.mid"
        write_midi(back, out, qpm=100)
        pm = pretty_midi.PrettyMIDI(str(out))
        got = np.array([[n.start, n.end, n.pitch, n.velocity] for n in pm.instruments[0].notes])
        _assert_close(got, back, 0.002, 0)
