"""Score layouts of real collections: multi-tune ABC files with commented X: lines, a file
header, %%MIDI directives and named voices; unpitched percussion in MusicXML."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from test_fuzz_domains import FUZZ, hostile
from typer.testing import CliRunner

from seqgen_music import abcfile, percussion, scores
from seqgen_music.domain import MusicDomain, MusicOptions

from conftest import TINY, cli

pytest.importorskip("music21")
QUARTER = 0.6  # seconds at the default 100 qpm

# fields before the first X: are the file header: L:1/4 applies to every tune (under M:2/4
# music21's default would be a sixteenth)
MULTI = """%abc-2.1
% a collection
M:2/4
L:1/4
%%MIDI program 1

X:1 % tune no 1
T:First
K:C
CD|EF|

X:2 % tune no 2
T:Second
%%MIDI program 40
%%MIDI transpose -12
K:G
GA|B2|

X:3
T:Third
%%MIDI gchord fzfz
K:D
%%MIDI drone 70 45 33 80 80
DF|A2|
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _warned(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]


def test_every_tune_of_a_file_with_commented_x_lines(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "tunes.abc", MULTI)
    docs = MusicDomain().load_corpus(str(path)).documents
    assert [d.name for d in docs] == ["tunes#1", "tunes#2", "tunes#3"]
    assert [d.notes[:, 2].tolist() for d in docs] == [
        [60, 62, 64, 65],
        [55, 57, 59],  # G A B an octave down: %%MIDI transpose -12
        [62, 66, 69]]
    for d in docs:  # the header's L:1/4: quarter notes, the last of tunes 2 and 3 a half note
        assert d.notes[0, 1] - d.notes[0, 0] == pytest.approx(QUARTER)
    assert docs[1].notes[-1, 1] - docs[1].notes[-1, 0] == pytest.approx(2 * QUARTER)
    assert not _warned(capsys)  # the other %%MIDI lines change nothing: nothing to say


def test_transpositions_percussion_and_what_is_not_applied(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("X:1\nL:1/4\nK:C transpose=2\nCD|\n\n"
            "X:2\nL:1/4\n%%MIDI transpose 12\nI:MIDI rtranspose -1\nK:C\nCD|\n\n"
            "X:3\nL:1/4\n%%MIDI channel 10\nK:C\nC,,D,,|F,,^F,,|\n\n"
            "X:4\nL:1/4\nK:C\nCD|\n%%MIDI transpose 5\nEF|\n")
    path = _write(tmp_path, "play.abc", text)
    pitched = MusicDomain().load_corpus(str(path)).documents
    assert [d.name for d in pitched] == ["play#1", "play#2", "play#4"]
    assert [d.notes[:, 2].tolist() for d in pitched] == [[62, 64], [71, 73], [60, 62, 64, 65]]
    lines = _warned(capsys)
    assert any("play.abc#3: no pitched notes: skipped" in ln for ln in lines)
    (body,) = [ln for ln in lines if "#4" in ln]
    assert "'%%MIDI transpose 5' inside the tune body" in body and "read anyway" in body
    drums = MusicDomain(MusicOptions(drums="only")).load_corpus(str(path)).documents
    assert [d.name for d in drums] == ["play#3"]
    assert drums[0].notes[:, 2].tolist() == [36, 38, 41, 42]  # General MIDI drum keys


def test_voices_sound_together(tmp_path: Path) -> None:
    """Named voices, declared in the header and interleaved line by line (SATB collections):
    music21 alone reads them one after another; gathered, they start together."""
    text = ("X:1\nT:Chorale\nM:4/4\nL:1/4\n%%score (S A)\nV:S clef=treble name=\"Soprano\"\n"
            "V:A clef=treble name=\"Alto\"\nK:C\nV:S\nGABc|\nV:A\nEFGA|\nV:S\nd4|\n[V:A] B4|\n")
    notes = MusicDomain().load_corpus(str(_write(tmp_path, "satb.abc", text))).documents[0].notes
    onsets = sorted({round(s / QUARTER, 6) for s in notes[:, 0]})
    assert onsets == [0, 1, 2, 3, 4] and len(notes) == 10
    assert notes[notes[:, 0] == 0][:, 2].tolist() == [64, 67]
    assert notes[-2:, 2].tolist() == [71, 74] and notes[-1, 1] == pytest.approx(8 * QUARTER)
    tune = abcfile.split(text)[0]
    assert "V:1 clef=treble name=\"Soprano\"" in tune.text and "V:2" in tune.text


def test_music_with_no_voice_line_first_is_the_first_voice() -> None:
    text = "X:1\nL:1/4\nK:C\nCDEF|\nV:2\nC,D,E,F,|\n"
    body = abcfile.split(text)[0].text.splitlines()
    assert body[body.index("V:1") + 1] == "CDEF|" and "V:2" in body


def test_text_blocks_and_free_text_are_not_music(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = ("X:1\nL:1/4\nK:C\n%%begintext\nA Bee Cee: words, not notes\n%%endtext\nCD|EF|\n\n"
            "Collected in 1850. Sung | slowly\n\nX:2\nL:1/4\nK:C\nGA|\n\nabc notes by someone\n")
    path = _write(tmp_path, "text.abc", text)
    docs = MusicDomain().load_corpus(str(path)).documents
    assert [d.notes[:, 2].tolist() for d in docs] == [[60, 62, 64, 65], [67, 69]]
    (line,) = _warned(capsys)  # the free text with a bar line in it is said, once
    assert "text.abc#1" in line and "('Collected in 1850. Sung | slow' ...)" in line
    assert "not read as music" in line


def test_one_bad_tune_is_skipped_the_others_read(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = "X:1\nL:1/4\nK:C\nCD|\n\nX:x\nK:C\n\nX:3\nL:1/4\nK:C\nEF|\n"
    path = _write(tmp_path, "some.abc", text)
    docs = MusicDomain().load_corpus(str(path)).documents
    assert [d.name for d in docs] == ["some#1", "some#3"]
    assert any("some.abc#2: no pitched notes: skipped" in ln for ln in _warned(capsys))


def test_multi_tune_abc_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    """Before: 'X:1 % tune no 1' made music21 fail on every tune, so no music to train on."""
    path = _write(tmp_path, "tunes.abc", MULTI)
    out = cli(runner, "train", "--domain", "music", "--data", path, *TINY, "--max-steps", "1",
              "--batch-size", "2", "--seq-len", "4", "--run", tmp_path / "run")
    assert out.exit_code == 0, out.output  # type: ignore[attr-defined]
    err = out.stderr  # type: ignore[attr-defined]
    assert "(3 pieces" in err and "skipped" not in err


# ---- MusicXML percussion --------------------------------------------------------------------
PART_LIST = """<part-list>
<score-part id="P1"><part-name>Drum Set</part-name>
<score-instrument id="P1-I36"><instrument-name>Bass Drum 1</instrument-name></score-instrument>
<score-instrument id="P1-I39"><instrument-name>Acoustic Snare</instrument-name></score-instrument>
<score-instrument id="P1-I43"><instrument-name>Closed Hi-Hat</instrument-name></score-instrument>
<score-instrument id="P1-I50"><instrument-name>Tambourine</instrument-name></score-instrument>
{midi}</score-part>
<score-part id="P2"><part-name>Percussion</part-name></score-part>
<score-part id="P3"><part-name>Snare Drum</part-name></score-part>
</part-list>"""
ATTRIBUTES = ("<attributes><divisions>2</divisions><time><beats>4</beats><beat-type>4</beat-type>"
              "</time><clef><sign>percussion</sign></clef>{lines}</attributes>")


def _hit(step: str, octave: int, duration: int = 2, inst: str = "", extra: str = "",
         attrs: str = "") -> str:
    ref = f'<instrument id="{inst}"/>' if inst else ""
    return (f"<note{attrs}>{extra}<unpitched><display-step>{step}</display-step><display-octave>"
            f"{octave}</display-octave></unpitched><duration>{duration}</duration>{ref}</note>")


def drum_score(midi: str = "") -> str:
    """Three percussion parts, none with <midi-unpitched> unless ``midi`` adds one."""
    kit = [  # measure 1: kick and hi-hat together, snare with a grace note, two voices
        _hit("F", 4, inst="P1-I36"), _hit("G", 5, inst="P1-I43", extra="<chord/>"),
        _hit("C", 5, 0, inst="P1-I39", extra="<grace/>"), _hit("C", 5, inst="P1-I39"),
        _hit("F", 4, 4, inst="P1-I36"), "<backup><duration>8</duration></backup>",
        _hit("G", 5, 1, inst="P1-I43"), _hit("G", 5, 1, inst="P1-I43"),
        "<forward><duration>6</duration></forward>"]
    kit2 = [_hit("E", 5, 8, inst="P1-I50", attrs=' dynamics="50"')]  # measure 2
    plain = [_hit("F", 4, 2), _hit("C", 5, 2), _hit("A", 5, 2), _hit("E", 4, 2),
             _hit("D", 4, 4), _hit("B", 5, 4)]
    snare = [_hit("E", 4, 4).replace("</note>", '<tie type="start"/></note>'),
             _hit("E", 4, 4).replace("</note>", '<tie type="stop"/></note>'), _hit("E", 4, 8)]
    lines = "<staff-details><staff-lines>1</staff-lines></staff-details>"

    def part(pid: str, bars: list[list[str]], staff: str = "") -> str:
        measures = "".join(f'<measure number="{i}">' + (ATTRIBUTES.format(lines=staff) if i == 1
                           else "") + "".join(notes) + "</measure>"
                           for i, notes in enumerate(bars, 1))
        return f'<part id="{pid}">{measures}</part>'

    return ('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="4.0">'
            + PART_LIST.format(midi=midi) + part("P1", [kit, kit2])
            + part("P2", [plain[:4], plain[4:]]) + part("P3", [snare[:2], snare[2:]], lines)
            + "</score-partwise>")


EIGHTH = QUARTER / 2


def _drums(path: Path) -> np.ndarray:
    return MusicDomain(MusicOptions(drums="only")).load_corpus(str(path)).documents[0].notes


def test_unpitched_percussion_without_midi_unpitched(tmp_path: Path) -> None:
    notes = _drums(_write(tmp_path, "drums.musicxml", drum_score()))
    got = sorted((round(s / EIGHTH, 6), round(e / EIGHTH, 6), int(k), int(v))
                 for s, e, k, v in notes.tolist())
    kit = [(0, 2, 36, 80), (0, 2, 42, 80), (2, 4, 38, 80), (4, 8, 36, 80),  # by name
           (0, 1, 42, 80), (1, 2, 42, 80),  # the second voice, after <backup>
           (8, 16, 54, 45)]  # tambourine at dynamics 50: velocity 45
    plain = [(0, 2, 36, 80), (2, 4, 38, 80), (4, 6, 49, 80), (6, 8, 35, 80),  # by position
             (8, 12, 44, 80), (12, 16, 57, 80)]
    snare = [(0, 8, 38, 80), (8, 16, 38, 80)]  # the part's name; the tie is one note
    assert got == sorted(kit + plain + snare)
    none = MusicDomain().load_corpus  # without drums=only: no pitched notes, one line
    with pytest.raises(Exception, match="no pitched notes"):
        none(str(tmp_path / "drums.musicxml"))


def test_midi_unpitched_comes_first(tmp_path: Path) -> None:
    midi = ('<midi-instrument id="P1-I39"><midi-channel>10</midi-channel>'
            '<midi-unpitched>41</midi-unpitched></midi-instrument>')  # counted from 1: key 40
    notes = _drums(_write(tmp_path, "drums.musicxml", drum_score(midi)))
    assert sorted(set(notes[np.isclose(notes[:, 0], 2 * EIGHTH), 2].tolist())) == [38, 40]


def test_drum_timing_matches_music21_for_the_same_rhythm(tmp_path: Path) -> None:
    """The drum reader times notes as music21 times pitched ones: the same score with pitches
    in place of the unpitched notes gives the same onsets and lengths."""
    text = drum_score()
    pitched = text.replace("<unpitched><display-step>", "<pitch><step>").replace(
        "</display-step><display-octave>", "</step><octave>").replace(
        "</display-octave></unpitched>", "</octave></pitch>")
    drums = _drums(_write(tmp_path, "drums.musicxml", text))
    notes = MusicDomain().load_corpus(str(_write(tmp_path, "pitched.musicxml", pitched)))
    want = sorted((round(s, 6), round(e, 6)) for s, e, *_ in notes.documents[0].notes.tolist())
    assert sorted((round(s, 6), round(e, 6)) for s, e, *_ in drums.tolist()) == want


def test_compressed_mxl_drums_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "drums.mxl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("META-INF/container.xml", '<?xml version="1.0"?><container><rootfiles>'
                   '<rootfile full-path="score/drums.xml"/></rootfiles></container>')
        z.writestr("score/drums.xml", drum_score())
    plain = _write(tmp_path, "drums.musicxml", drum_score())
    want = _drums(plain)
    assert np.array_equal(scores.read(path, None, 100.0)[1], want) and len(want) == 15
    out = cli(runner, "train", "--domain", "music", "--data", path, "-o", "drums=only", *TINY,
              "--max-steps", "1", "--batch-size", "2", "--seq-len", "4", "--run",
              tmp_path / "run")
    assert out.exit_code == 0, out.output  # type: ignore[attr-defined]


@FUZZ
@given(blob=hostile(drum_score().encode()))
def test_fuzz_the_drum_reader_reads_or_refuses(blob: bytes) -> None:
    """Damaged drum scores: valid notes or an XML error (which the corpus reports in one line)."""
    from xml.etree.ElementTree import ParseError

    try:
        rows = percussion.unpitched_notes(blob, 100.0)
    except ParseError:
        return
    for start, end, key, vel in rows:
        assert 0 <= start <= end < 1e12 and 0 <= key <= 127 and 1 <= vel <= 127
