"""Every music renderer, read back by a library that did not write it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_music_helpers import DRUMS, SONG

pytest.importorskip("mido")
pytest.importorskip("pretty_midi")
from seqgen.errors import SeqgenError  # noqa: E402
from seqgen.render import render  # noqa: E402
from seqgen_music import render as mrender  # noqa: E402
from seqgen_music.domain import MusicDomain, MusicOptions  # noqa: E402
from seqgen_music.encoding import Piece  # noqa: E402


@pytest.fixture
def piece() -> Piece:
    dom = MusicDomain()
    return dom.decode(dom.encode(Piece(SONG)))  # a sample as sampling returns it


def test_mid_read_by_mido_pretty_midi_and_music21(piece: Piece, tmp_path: Path) -> None:
    import mido
    import pretty_midi

    (path,) = render(MusicDomain(), [piece], tmp_path / "out.mid")
    mid = mido.MidiFile(str(path))
    assert mid.length == pytest.approx(piece.duration, abs=0.01)
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [(i.program, i.is_drum) for i in pm.instruments] == [(0, False)]
    got = np.array(mrender.read_mid(path))
    assert np.array_equal(got[:, 2:], piece.notes[np.lexsort((piece.notes[:, 2],
                                                              piece.notes[:, 0]))][:, 2:])
    assert np.abs(got[:, :2] - piece.notes[np.lexsort((piece.notes[:, 2],
                                                       piece.notes[:, 0]))][:, :2]).max() < 0.002
    assert pm.estimate_tempo() > 0 and pm.get_tempo_changes()[1][0] == pytest.approx(100)
    pytest.importorskip("music21")
    from music21 import converter

    score = converter.parse(str(path))  # music21 splits notes at barlines: compare pitch sets
    assert {p.midi for n in score.flatten().notes for p in n.pitches} == \
        set(piece.notes[:, 2].astype(int).tolist())
    quarters = piece.duration * 100 / 60  # 100 qpm; music21 fills the last bar
    assert quarters - 0.05 <= float(score.highestTime) <= quarters + 4


def test_drums_go_to_channel_10(tmp_path: Path) -> None:
    import pretty_midi

    dom = MusicDomain(MusicOptions(drums="only"))
    sample = dom.decode(dom.encode(Piece(DRUMS, drums=True)))
    (path,) = render(dom, [sample], tmp_path / "drums.mid")
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [i.is_drum for i in pm.instruments] == [True]
    assert sorted(n.pitch for n in pm.instruments[0].notes) == [36, 38, 42]


def test_musicxml_read_by_music21(piece: Piece, tmp_path: Path) -> None:
    pytest.importorskip("music21")
    (path,) = render(MusicDomain(), [piece], tmp_path / "out.musicxml")
    pitches = mrender.read_musicxml(path)
    assert set(pitches) == set(piece.notes[:, 2].astype(int).tolist())
    from music21 import converter

    score = converter.parse(str(path))
    assert len(score.parts) == 2  # piano: treble and bass staves
    first = score.parts[0].flatten().notes[0]  # the opening chord, right hand
    assert sorted(p.midi for p in first.pitches) == [60, 64, 67]


def test_png_piano_roll(piece: Piece, tmp_path: Path) -> None:
    from PIL import Image

    (path,) = render(MusicDomain(), [piece], tmp_path / "roll.png")
    assert mrender.read_png(path) == mrender.ROLL_SIZE
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    colourful = np.abs(pixels - pixels.mean(2, keepdims=True)).sum(2) > 60
    assert colourful.mean() > 0.005  # the notes are drawn (coloured by velocity)


def test_wav_duration_loudness_and_pitch(piece: Piece, tmp_path: Path) -> None:
    (path,) = render(MusicDomain(), [piece], tmp_path / "out.wav")
    audio, rate = mrender.read_wav(path)
    assert rate == mrender.SAMPLE_RATE
    assert len(audio) / rate == pytest.approx(piece.duration + mrender.RELEASE, abs=0.01)
    assert np.sqrt(np.mean(audio ** 2)) > 0.02 and np.abs(audio).max() <= 1.0
    # from 5.1 to 5.9 s only E5 (76, 659 Hz) sounds: the spectrum peaks there
    seg = audio[int(5.1 * rate):int(5.9 * rate)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    peak = np.fft.rfftfreq(len(seg), 1 / rate)[spec.argmax()]
    assert peak == pytest.approx(440 * 2 ** ((76 - 69) / 12), rel=0.01)
    silent = render(MusicDomain(), [Piece(np.zeros((0, 4)))], tmp_path / "empty.wav")[0]
    assert mrender.read_wav(silent)[0].size > 0  # an empty sample is short silence, not a crash


def test_soundfont_without_fluidsynth_is_one_line(piece: Piece, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQGEN_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(SeqgenError) as err:
        render(MusicDomain(), [piece], tmp_path / "fs.wav")
    assert "SEQGEN_SOUNDFONT" in str(err.value) and "\n" not in str(err.value)


def test_fluidsynth_with_a_soundfont(piece: Piece, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The optional path: runs where fluidsynth and a General MIDI SoundFont are installed
    (apt-get install fluidsynth timgm6mb-soundfont)."""
    import shutil

    fonts = sorted(Path("/usr/share/sounds/sf2").glob("*.sf2"))
    if shutil.which("fluidsynth") is None or not fonts:
        pytest.skip("fluidsynth or a SoundFont is not installed")
    monkeypatch.setenv("SEQGEN_SOUNDFONT", str(min(fonts, key=lambda f: f.stat().st_size)))
    (path,) = render(MusicDomain(), [piece], tmp_path / "fs.wav")
    audio, rate = mrender.read_wav(path)
    assert rate == 44100
    assert piece.duration <= len(audio) / rate <= piece.duration + 5
    assert np.sqrt(np.mean(audio ** 2)) > 0.003
