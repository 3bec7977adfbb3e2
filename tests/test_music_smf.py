"""MIDI files written byte by byte: running status, SMPTE division, types 0 and 2, and the damaged
files pretty_midi refuses (read on, with one warning line naming the file and the repair)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from test_fuzz_domains import FUZZ, hostile

from seqgen.errors import SeqgenError
from seqgen_music import smf
from seqgen_music.domain import MusicDomain, MusicOptions
from seqgen_music.midi import read_midi, read_sequences

pytest.importorskip("mido")
TEMPO_120 = b"\x00\xff\x51\x03\x07\xa1\x20"  # delta 0, 500000 us a beat
EOT = b"\x00\xff\x2f\x00"


def track(body: bytes, length: int | None = None) -> bytes:
    """An MTrk chunk; ``length`` writes a wrong length field."""
    return b"MTrk" + struct.pack(">I", len(body) if length is None else length) + body


def midi_file(fmt: int, division: int, *tracks: bytes, count: int | None = None) -> bytes:
    header = struct.pack(">HHH", fmt, len(tracks) if count is None else count, division)
    return b"MThd" + struct.pack(">I", 6) + header + b"".join(tracks)


def smpte(fps: int, per_frame: int) -> int:
    """The division field of SMPTE timing: minus the frame rate, then ticks a frame."""
    return ((256 - fps) << 8) | per_frame


# two notes and a chord: ticks at 480 a beat (120 qpm: 960 ticks a second) or SMPTE
MELODY = (b"\x00\x90\x3c\x64"      # C4 on at 0 (status 0x90 stated)
          b"\x83\x60\x3c\x00"      # 480 ticks later: running status, velocity 0 = off
          b"\x00\x40\x50"          # E4 on, running status again
          b"\x00\xff\x01\x02hi"    # a text event between: running status survives it
          b"\x83\x60\x40\x00"      # E4 off at 960
          b"\x00\x80\x43\x40"      # a real note-off of a note never struck: ignored
          b"\x00\x99\x24\x70"      # bass drum on channel 10
          b"\x00\x43\x60"          # running status on channel 10: 67 (a drum key)
          b"\x81\x70\x24\x00\x00\x43\x00")  # both off at 1200
SOUND = midi_file(1, 480, track(TEMPO_120 + EOT), track(MELODY + EOT))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _mido_notes(path: Path) -> list[tuple[float, int]]:
    """Onsets (s) and pitches in mido's own play order: the reference reader."""
    import mido

    now, out = 0.0, []
    for msg in mido.MidiFile(str(path)):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            out.append((round(now, 9), msg.note))
    return sorted(out)


def test_running_status_matches_mido_and_pretty_midi(tmp_path: Path) -> None:
    import pretty_midi

    path = _write(tmp_path, "running.mid", SOUND)
    pitched, drums = read_midi(path)
    assert pitched[:, :3].tolist() == [[0.0, 0.5, 60], [0.5, 1.0, 64]]
    assert drums[:, :3].tolist() == [[1.0, 1.25, 36], [1.0, 1.25, 67]]
    ours = sorted((round(s, 9), int(p)) for s, _, p, _ in np.concatenate([pitched, drums]))
    assert ours == _mido_notes(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    theirs = sorted((round(n.start, 9), round(n.end, 9), n.pitch) for i in pm.instruments
                    for n in i.notes)
    assert theirs == sorted((s, e, int(p)) for s, e, p, _ in
                            np.concatenate([pitched, drums]).tolist())


@pytest.mark.parametrize("fps,per_frame,ticks_per_second", [(25, 40, 1000), (30, 80, 2400),
                                                            (24, 4, 96), (29, 100, 2997)])
def test_smpte_division_counts_ticks_in_seconds(tmp_path: Path, fps: int, per_frame: int,
                                                ticks_per_second: float) -> None:
    """-25/40 is 1000 ticks a second whatever the tempo says (mido takes the field for ticks a
    beat, negative, and pretty_midi with it)."""
    tempo_60 = b"\x00\xff\x51\x03\x0f\x42\x40"  # a tempo event: SMPTE timing ignores it
    body = tempo_60 + b"\x00\x90\x3c\x64\x87\x68\x3c\x00\x00\x40\x50\x8f\x50\x40\x00" + EOT
    path = _write(tmp_path, "smpte.mid", midi_file(0, smpte(fps, per_frame), track(body)))
    pitched, _ = read_midi(path)
    # note 60 from tick 0 to 1000, note 64 from 1000 to 3000
    want = np.array([[0, 1000, 60], [1000, 3000, 64]], dtype=float)
    want[:, :2] /= ticks_per_second
    np.testing.assert_allclose(pitched[:, :3], want, rtol=1e-12)


def test_type_0_reads_as_mido_does(tmp_path: Path) -> None:
    body = TEMPO_120 + b"\x00\xff\x51\x03\x0f\x42\x40" + MELODY + EOT  # 60 qpm from the start
    path = _write(tmp_path, "type0.mid", midi_file(0, 96, track(body)))
    pitched, drums = read_midi(path)
    ours = sorted((round(s, 9), int(p)) for s, _, p, _ in np.concatenate([pitched, drums]))
    assert ours == _mido_notes(path) and len(ours) == 4
    assert pitched[1, 0] == pytest.approx(480 / 96)  # five beats at 60 qpm


def test_type_2_tracks_are_separate_pieces(tmp_path: Path) -> None:
    """A type 2 file holds independent sequences, each with its own tempo: one piece each,
    not one merged piece (mido refuses to play such a file at all)."""
    fast = track(b"\x00\xff\x51\x03\x03\xd0\x90" + MELODY + EOT)  # 250000 us: 240 qpm
    slow = track(b"\x00\xff\x51\x03\x0f\x42\x40\x00\x90\x30\x40\x83\x60\x30\x00" + EOT)
    path = _write(tmp_path, "patterns.mid", midi_file(2, 480, fast, slow))
    sequences, repairs = read_sequences(path)
    assert len(sequences) == 2 and not repairs
    assert sequences[0][0][:, :3].tolist() == [[0.0, 0.25, 60], [0.25, 0.5, 64]]
    assert sequences[1][0][:, :3].tolist() == [[0.0, 1.0, 48]]  # 480 ticks at 60 qpm
    pieces = MusicDomain().load_corpus(str(path)).documents
    assert [len(p.notes) for p in pieces] == [2, 1]


def _warnings(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]


def test_data_bytes_over_127_are_clipped_and_said(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import pretty_midi

    bad = SOUND.replace(b"\x00\x40\x50", b"\x00\x40\xd0")  # E4's velocity byte: 0xD0
    path = _write(tmp_path, "clipped.mid", bad)
    with pytest.raises(OSError, match="data byte must be in range"):
        pretty_midi.PrettyMIDI(str(path))  # the file of the issue: pretty_midi refuses it
    docs = MusicDomain().load_corpus(str(path)).documents
    assert docs[0].notes[:, 2:].tolist() == [[60, 100], [64, 127]]
    lines = _warnings(capsys)
    assert len(lines) == 1
    assert str(path) in lines[0] and "1 data bytes over 127 in track 2 clipped to 127" in lines[0]
    assert lines[0].endswith("read anyway")
    # from the parse cache the next time: the same notes, and the same warning again
    from seqgen import plugins

    plugins._warned.clear()
    again = MusicDomain().load_corpus(str(path)).documents
    assert np.array_equal(again[0].notes, docs[0].notes) and _warnings(capsys) == lines


def test_truncated_track_keeps_what_is_there(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cut = SOUND[:SOUND.index(b"\x00\x99")]  # the file ends before the drums
    path = _write(tmp_path, "cut.mid", cut)
    pitched, drums = read_midi(path)
    assert pitched[:, :3].tolist() == [[0.0, 0.5, 60], [0.5, 1.0, 64]] and len(drums) == 0
    (line,) = _warnings(capsys)
    assert str(path) in line and f"track 2 is cut short: the file ends {len(SOUND) - len(cut)} " \
                                 f"bytes before its declared end" in line


@pytest.mark.parametrize("wrong", [-9, +5])
def test_wrong_track_length_read_to_the_end_of_track(tmp_path: Path, wrong: int,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A length field too small or too large: the end-of-track event says where the track
    ends; every note of both tracks is read, as from the sound file."""
    first = MELODY + EOT
    second = b"\x00\x91\x30\x40\x83\x60\x30\x00" + EOT
    data = midi_file(1, 480, track(TEMPO_120 + EOT), track(first, len(first) + wrong),
                     track(second))
    path = _write(tmp_path, "length.mid", data)
    good = _write(tmp_path, "good.mid", midi_file(1, 480, track(TEMPO_120 + EOT), track(first),
                                                  track(second)))
    got, want = read_midi(path), read_midi(good)
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
    assert len(got[0]) == 3
    (line,) = _warnings(capsys)
    assert str(path) in line and f"track 2's length says {len(first) + wrong} bytes, its " \
                                 f"end-of-track comes after {len(first)}" in line


def test_undefined_status_skips_the_rest_of_the_track(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    broken = MELODY.replace(b"\x00\x99\x24\x70", b"\x00\xf4\x24\x70")
    path = _write(tmp_path, "status.mid", midi_file(1, 480, track(TEMPO_120 + EOT),
                                                    track(broken + EOT)))
    pitched, drums = read_midi(path)
    assert pitched[:, 2].tolist() == [60, 64] and len(drums) == 0
    (line,) = _warnings(capsys)
    assert "track 2 is unreadable from byte" in line and "undefined status byte 0xF4" in line


def test_several_repairs_make_one_line_and_a_folder_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "midi"
    folder.mkdir()
    bad = SOUND.replace(b"\x00\x40\x50", b"\x00\x90\xc0\xd0")  # two bad data bytes
    _write(folder, "a.mid", bad[:-6])  # and cut short
    _write(folder, "b.mid", SOUND)
    _write(folder, "c.mid", b"MThd\x00\x00\x00\x06\x00\x05\x00\x01\x01\xe0")  # format 5
    docs = MusicDomain().load_corpus(str(folder)).documents
    assert len(docs) == 2
    lines = _warnings(capsys)
    assert len(lines) == 2
    a = next(ln for ln in lines if "a.mid" in ln)
    assert "2 data bytes over 127" in a and "cut short" in a and a.endswith("read anyway")
    c = next(ln for ln in lines if "c.mid" in ln)
    assert "format 5" in c and c.endswith("skipped")


def test_files_with_nothing_to_read_are_refused(tmp_path: Path) -> None:
    for name, data, why in [
        ("zero.mid", midi_file(1, 0, track(EOT)), "time division of 0"),
        ("frames.mid", midi_file(1, smpte(25, 0), track(EOT)), "0 ticks a frame"),
        ("short.mid", b"MThd\x00\x00", "header is cut short"),
    ]:
        path = _write(tmp_path, name, data)
        with pytest.raises(SeqgenError, match=why) as caught:
            MusicDomain().load_corpus(str(path))
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_rmi_wrapped_midi_and_unknown_chunks(tmp_path: Path) -> None:
    """RIFF .rmi files hold the MIDI file in a data chunk; chunks of unknown kind are skipped."""
    odd = midi_file(1, 480, track(TEMPO_120 + EOT), b"XFIH\x00\x00\x00\x03abc",
                    track(MELODY + EOT), count=2)
    riff = b"RIFF" + struct.pack("<I", len(odd) + 12) + b"RMIDdata" + struct.pack(
        "<I", len(odd)) + odd
    path = _write(tmp_path, "song.mid", riff)
    song = smf.parse(path.read_bytes())
    assert not song.repairs and len(song.tracks) == 2
    assert read_midi(path)[0][:, 2].tolist() == [60, 64]


def test_drums_only_from_a_corrupt_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "drums.mid", SOUND.replace(b"\x00\x43\x60", b"\x00\x43\xe0"))
    docs = MusicDomain(MusicOptions(drums="only")).load_corpus(str(path)).documents
    assert docs[0].drums and docs[0].notes[:, 2:].tolist() == [[36, 112], [67, 127]]


def test_a_damaged_time_of_years_is_refused_not_encoded(tmp_path: Path) -> None:
    """A delta of 0x0FFFFFFF ticks at 1 tick a beat and the slowest tempo: 143 years of rest,
    which the codec would spell out in billions of time shifts."""
    body = b"\x00\xff\x51\x03\xff\xff\xff\x00\x90\x3c\x64\xff\xff\xff\x7f\x3c\x00" + EOT
    path = _write(tmp_path, "years.mid", midi_file(0, 1, track(body)))
    with pytest.raises(SeqgenError, match=r"its notes run to 4.5e\+09 s, over 24 hours"):
        MusicDomain().load_corpus(str(path))


@FUZZ
@given(blob=hostile(SOUND))
def test_fuzz_the_reader_reads_or_refuses(blob: bytes) -> None:
    """Damaged copies of the hand-written file: read (valid notes, repairs said) or MidiError."""
    try:
        song = smf.parse(blob)
    except smf.MidiError:
        return
    for events in song.sequences():
        times = [t for t, _ in events]
        assert times == sorted(times) and all(np.isfinite(times)) and min(times, default=0) >= 0
