"""The voices encoding's renderers: a chorale as four named parts (MusicXML), four tracks (MIDI),
a piano roll coloured by voice and audio, each read back by a library that did not write it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("music21")
pytest.importorskip("mido")
pytest.importorskip("pretty_midi")
from seqgen.render import render  # noqa: E402
from seqgen_music import chorale, render_voices, satb, scores  # noqa: E402
from seqgen_music import render as mrender  # noqa: E402
from seqgen_music.chorale import GRID, VOICES, Chorale  # noqa: E402
from seqgen_music.domain import MusicDomain, MusicOptions  # noqa: E402

QPM = 100.0


@pytest.fixture(scope="module")
def bach() -> Chorale:
    """BWV 66.6 in F# minor, 4/4, with a quarter-note pickup (its first frame is at pos 12)."""
    work = scores.find_work("bach/bwv66.6")
    assert work is not None
    ch, _ = chorale.from_score(scores.parse(work), "bwv66.6")
    assert ch is not None and int(ch.pos[0]) == 12
    return ch


def _voices() -> MusicDomain:
    return MusicDomain(MusicOptions(encoding="voices", qpm=QPM))


def _parse(path: Path) -> Any:
    from music21 import converter

    return converter.parse(str(path), format="musicxml")


def _part_notes(part: Any) -> list[tuple[int, int, int]]:
    """(first frame, frames, pitch) of a parsed part, ties merged. The score's offset 0 is the
    chorale's first frame: a pickup bar is padded on the left, not shifted."""
    return [(round(float(n.offset) / GRID), round(float(n.quarterLength) / GRID), n.pitch.midi)
            for n in part.flatten().stripTies().notes]


def _fermatas(part: Any) -> int:
    from music21 import expressions

    return sum(isinstance(e, expressions.Fermata)
               for n in part.flatten().notes for e in n.expressions)


def test_musicxml_four_named_parts_in_key_and_metre(bach: Chorale, tmp_path: Path) -> None:
    from music21 import clef

    (path,) = render(_voices(), [bach], tmp_path / "out.musicxml")
    score = _parse(path)
    parts = list(score.parts)
    assert [p.partName for p in parts] == list(VOICES)
    assert [p.partAbbreviation for p in parts] == ["S", "A", "T", "B"]
    assert [type(p.flatten().getElementsByClass("Clef")[0]) for p in parts] == [
        clef.TrebleClef, clef.TrebleClef, clef.Treble8vbClef, clef.BassClef]
    assert score.metadata.bestTitle == "bwv66.6"
    for v, part in enumerate(parts):
        ks = part.flatten().getElementsByClass("KeySignature")[0]
        assert ks.sharps == 3  # F# minor
        assert part.flatten().getElementsByClass("TimeSignature")[0].ratioString == "4/4"
        assert _part_notes(part) == bach.line(v)
    marks = parts[0].flatten().getElementsByClass("MetronomeMark")
    assert [m.number for m in marks] == [QPM]
    assert set(mrender.read_musicxml(path)) == {p for v in range(4) for *_, p in bach.line(v)}


def test_musicxml_pickup_bar_lines_and_fermatas(bach: Chorale, tmp_path: Path) -> None:
    (path,) = render(_voices(), [bach], tmp_path / "out.musicxml")
    parts = list(_parse(path).parts)
    measures = list(parts[0].getElementsByClass("Measure"))
    first = measures[0]
    assert first.number == 0 and float(first.duration.quarterLength) == 1.0
    assert float(first.paddingLeft) == 3.0
    assert [m.number for m in measures[1:]] == list(range(1, len(measures)))
    for m in measures[1:]:  # every later bar line falls where the chorale's bar begins
        assert bach.pos[round(float(m.offset) / GRID)] == 0
    assert all(float(m.duration.quarterLength) == 4.0 for m in measures[1:-1])
    assert float(measures[-1].duration.quarterLength) == 3.0  # the last bar completes the pickup
    sung = sum(bool(bach.fermata[s]) for s, _, _ in bach.line(0))
    assert sung == 6 and [_fermatas(p) for p in parts] == [sung] * 4  # on all four voices
    # and the score reads back as the same chorale, frame by frame
    again, repaired = chorale.from_score(_parse(path), "again")
    assert again is not None and repaired is None
    for field in ("pitch", "attack", "fermata", "pos"):
        assert np.array_equal(getattr(again, field), getattr(bach, field)), field
    assert (again.bar, again.tonic, again.minor) == (bach.bar, bach.tonic, bach.minor)


def test_decoded_sample_renders_the_same_score(bach: Chorale, tmp_path: Path) -> None:
    sample = satb.decode(satb.encode(bach))  # as sampling hands it to the renderers
    (path,) = render(_voices(), [sample], tmp_path / "sample.musicxml")
    parts = list(_parse(path).parts)
    assert [_part_notes(p) for p in parts] == [bach.line(v) for v in range(4)]


def test_ties_rests_odd_values_and_three_four(tmp_path: Path) -> None:
    """A note held over two bar lines, a voice that rests, values that take two notes to write
    (5 and 11 sixteenths), a fermata on one of them: the score reads back as the chorale."""
    ch = chorale.empty(40, bar=12, tonic=9, minor=False, name="made")  # 3/4 in A major
    ch.pos[:] = (np.arange(40) + 8) % 12  # a pickup of 4 sixteenths
    for v, (p, spans) in enumerate([(76, [(0, 5), (5, 16), (16, 40)]), (69, [(0, 40)]),
                                    (64, [(4, 9), (20, 31)]), (45, [(0, 4), (4, 40)])]):
        for a, b in spans:
            ch.pitch[a:b, v], ch.attack[a, v] = p + a % 3, True
    ch.fermata[5:16] = True
    render_voices.write_musicxml(ch, tmp_path / "made.musicxml", QPM)
    score = _parse(tmp_path / "made.musicxml")
    assert score.parts[0].flatten().getElementsByClass("TimeSignature")[0].ratioString == "3/4"
    assert [_part_notes(p) for p in score.parts] == [ch.line(v) for v in range(4)]
    again, _ = chorale.from_score(score, "again")
    assert again is not None
    for field in ("pitch", "attack", "fermata", "pos"):
        assert np.array_equal(getattr(again, field), getattr(ch, field)), field


def test_midi_four_tracks_read_by_pretty_midi(bach: Chorale, tmp_path: Path) -> None:
    import mido
    import pretty_midi

    (path,) = render(_voices(), [bach], tmp_path / "out.mid")
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [i.name for i in pm.instruments] == list(VOICES)
    assert {i.program for i in pm.instruments} == {render_voices.PROGRAM}
    sec = 15.0 / QPM
    for v, inst in enumerate(pm.instruments):
        got = sorted((n.start, n.end, n.pitch) for n in inst.notes)
        want = [(s * sec, (s + n) * sec, p) for s, n, p in bach.line(v)]
        assert [g[2] for g in got] == [w[2] for w in want]
        assert np.allclose([g[:2] for g in got], [w[:2] for w in want], atol=1e-6)
    meta = mido.MidiFile(str(path)).tracks[0]
    assert [(m.numerator, m.denominator) for m in meta if m.type == "time_signature"] == [(4, 4)]
    assert [m.key for m in meta if m.type == "key_signature"] == ["F#m"]
    piece = render_voices.to_piece(bach, QPM)  # the piano renderers' reader sees every note
    read = np.array(mrender.read_mid(path))  # sorted by start, end, pitch
    notes = np.array(sorted(map(tuple, piece.notes.tolist())))
    assert np.array_equal(read[:, 2:], notes[:, 2:])
    assert np.abs(read[:, :2] - notes[:, :2]).max() < 1e-6


def test_png_colours_each_voice(bach: Chorale, tmp_path: Path) -> None:
    from PIL import Image

    (path,) = render(_voices(), [bach], tmp_path / "roll.png")
    assert mrender.read_png(path) == mrender.ROLL_SIZE
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    colours = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in render_voices.COLOURS}
    found = {tuple(p) for p in np.unique(pixels, axis=0).tolist()}
    assert colours <= found  # the four voices, each in its colour
    for c in colours:  # drawn as notes, not only as legend swatches
        assert (pixels == c).all(1).sum() > 500


def test_wav_sounds_the_voices(bach: Chorale, tmp_path: Path) -> None:
    (path,) = render(_voices(), [bach], tmp_path / "out.wav")
    audio, rate = mrender.read_wav(path)
    assert len(audio) / rate == pytest.approx(bach.frames * 15 / QPM + mrender.RELEASE, abs=0.01)
    assert np.sqrt(np.mean(audio ** 2)) > 0.02


def test_empty_sample_renders_everywhere(tmp_path: Path) -> None:
    sample = satb.decode(np.zeros(0, np.int64))  # a sample that stopped at once
    for suffix in (".mid", ".musicxml", ".png", ".wav"):
        (path,) = render(_voices(), [sample], tmp_path / f"empty{suffix}")
        assert path.stat().st_size > 0
    assert len(_parse(tmp_path / "empty.musicxml").parts) == 4


def test_metre_and_key_names() -> None:
    assert [render_voices.meter(b) for b in (16, 12, 24, 8, 20, 6)] == [
        "4/4", "3/4", "3/2", "2/4", "5/4", "6/16"]
    keys = [chorale.empty(1, tonic=t, minor=m) for t, m in ((3, True), (10, False), (1, False))]
    assert [render_voices.mido_key(k) for k in keys] == ["Ebm", "Bb", "Db"]


def test_notes_are_spelled_in_the_key_as_bach_spells_them(tmp_path: Path) -> None:
    """Pitch names from the key (F sharp in D major, D sharp as f sharp minor's leading note to
    E), not music21's Note(midi) spelling with a natural sign on every white key."""
    m21 = scores.music21()
    same = total = 0
    for work in ("bach/bwv66.6", "bach/bwv269", "bach/bwv10.7"):
        ch, _ = chorale.from_score(scores.parse(scores.find_work(work)), work)
        assert ch is not None
        path = tmp_path / "spelt.musicxml"
        render_voices.write_musicxml(ch, path, QPM)
        ours, bach = m21.converter.parse(str(path)), scores.parse(scores.find_work(work))
        for a, b in zip(ours.parts, bach.parts, strict=True):
            pairs = zip(a.flatten().stripTies().notes, b.flatten().stripTies().notes, strict=True)
            for x, y in pairs:
                same += x.nameWithOctave == y.nameWithOctave
                total += 1
        naturals = [n for n in ours.flatten().notes if n.pitch.accidental is not None
                    and n.pitch.accidental.name == "natural" and n.pitch.accidental.displayStatus]
        assert len(naturals) <= 12  # a natural where the music needs one, not on every note
    assert same / total > 0.98  # 588 of 594


def test_musescore_opens_and_engraves_the_score(tmp_path: Path) -> None:
    """MuseScore 3 (Debian's musescore3, headless) reads the MusicXML and engraves it: a page
    of four staves, not an error. CI installs it (.ci/run); elsewhere the test skips."""
    import os
    import shutil
    import subprocess

    exe = shutil.which("mscore3") or shutil.which("musescore3") or shutil.which("mscore")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("MuseScore must run in CI (apt-get install musescore3)")
        pytest.skip("MuseScore is not installed (apt-get install musescore3)")
    ch, _ = chorale.from_score(scores.parse(scores.find_work("bach/bwv66.6")), "bwv66.6")
    assert ch is not None
    render_voices.write_musicxml(ch, tmp_path / "c.musicxml", QPM)
    done = subprocess.run([exe, "-o", str(tmp_path / "c.pdf"), str(tmp_path / "c.musicxml")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-400:]
    pdf = (tmp_path / "c.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
