"""Harmony measures of seqgen stats (plugins/seqgen_music/harmony.py) on textures whose answer is
known, on music21's own chord classification, and on a real Bach chorale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqgen_music import harmony as hm

# I - IV - V - I in C, bass first, no parallels, no overlaps
CADENCE = [(48, 55, 64, 72), (53, 57, 65, 72), (55, 59, 62, 71), (48, 55, 64, 72)]


def chords(*sonorities: tuple[int, ...], seconds: float = 1.0) -> np.ndarray:
    """Block chords, one after another, each ``seconds`` long."""
    return np.array([(i * seconds, (i + 1) * seconds, p, 80)
                     for i, chord in enumerate(sonorities) for p in chord], dtype=np.float64)


def test_cadence_in_four_voices_has_no_parallels() -> None:
    st = hm.set_harmony([chords(*CADENCE)])
    assert st.pieces == 1 and st.moves == 3
    assert st.four_voices == pytest.approx(1.0)
    assert st.triads == 1.0 and st.sevenths == 0.0
    assert st.fifths == 0.0 and st.octaves == 0.0 and st.overlaps == 0.0
    # soprano 72, 72, 71, 72: percentiles of the four sonorities, soprano first
    assert st.ranges[0] == pytest.approx(np.percentile([72, 72, 71, 72], [5, 95]))
    assert st.ranges[3] == pytest.approx(np.percentile([48, 53, 55, 48], [5, 95]))


def test_parallel_fifth_between_bass_and_tenor() -> None:
    st = hm.set_harmony([chords((48, 55, 64, 72), (50, 57, 65, 69))])  # C -> d, B-T 5ths up
    assert (st.moves, st.fifths, st.octaves) == (1, 100.0, 0.0)
    # fifths in contrary motion (bass C3 -> F2 down, tenor G3 -> C4 up) and a repeated
    # chord are not parallels
    contrary = chords((48, 55, 64, 72), (41, 60, 65, 69))
    assert hm.set_harmony([contrary]).fifths == 0.0
    static = hm.set_harmony([chords((48, 55, 64, 72), (48, 55, 64, 72))])
    assert static.moves == 0 and math.isnan(static.fifths)


def test_parallel_octaves_between_outer_voices() -> None:
    st = hm.set_harmony([chords((48, 55, 64, 72), (50, 53, 69, 74))])  # C -> d, B-S 8ves up
    assert (st.moves, st.fifths, st.octaves) == (1, 0.0, 100.0)
    assert st.triads == 1.0


def test_rates_are_pooled_over_pieces() -> None:
    pieces = [chords(*CADENCE), chords((48, 55, 64, 72), (50, 57, 65, 69))]
    st = hm.set_harmony(pieces)
    assert st.moves == 4 and st.fifths == pytest.approx(25.0)


def test_three_voices_are_not_four() -> None:
    st = hm.set_harmony([chords((48, 64, 67), (53, 69, 72), (55, 62, 71), (48, 64, 67))])
    assert st.four_voices == 0.0 and st.moves == 0
    assert st.triads == 1.0  # C E G, F A C, G B D, C E G
    assert math.isnan(st.fifths) and np.isnan(st.ranges).all()
    assert all(cells == ["-"] for name, cells in hm.rows({"x": st}) if "per 100" in name)


def test_four_voice_share_of_time_and_unison() -> None:
    # four voices for 3 s, then the alto stops: 1 s of three
    notes = np.array([(0, 4, 48, 80), (0, 4, 55, 80), (0, 3, 64, 80), (0, 4, 72, 80)], float)
    assert hm.set_harmony([notes]).four_voices == pytest.approx(0.75)
    unison = np.array([(0, 2, 48, 80), (0, 2, 55, 80), (0, 2, 55, 80), (0, 2, 72, 80)], float)
    assert hm.set_harmony([unison]).four_voices == 0.0  # three distinct pitches sound
    rest = np.vstack([notes[:, :] + [5, 5, 0, 0], notes])  # a 1 s rest does not count
    assert hm.set_harmony([rest]).four_voices == pytest.approx(0.75)


def test_overlap_a_voice_past_the_previous_pitch_of_the_voice_above() -> None:
    # tenor G3 -> F4, above the alto's previous E4 (the alto moves on to A4)
    st = hm.set_harmony([chords((48, 55, 64, 72), (53, 65, 69, 72))])
    assert st.overlaps == 100.0


CHORDS = {
    "triad": ["C E G", "C E- G", "C E- G-", "C E G#", "E G C", "G C E G", "F# A D", "B- D F"],
    "seventh": ["G B D F", "C E G B", "D F A C", "B D F A", "B D F A-", "C E- G B", "C E G# B",
                "C E G- B-", "F A C E-", "E G B D"],
    "": ["C D E", "C G", "C E", "C", "C D G", "C E- G B- D", "C C# D", "C F G"],
}


@pytest.mark.parametrize("kind", list(CHORDS))
def test_classifier_agrees_with_music21_on_spelled_chords(kind: str) -> None:
    chord = pytest.importorskip("music21").chord
    for names in CHORDS[kind]:
        c = chord.Chord(names.split())
        theirs = "triad" if c.isTriad() else "seventh" if c.isSeventh() else ""
        assert theirs == kind, names
        assert hm.chord_kind([p.midi for p in c.pitches]) == kind, names


@pytest.fixture(scope="module")
def bach() -> object:
    m21 = pytest.importorskip("music21")
    return m21.corpus.parse("bach/bwv66.6")


def test_classifier_on_a_chorale_agrees_with_music21(bach: object) -> None:
    chordified = bach.chordify()  # type: ignore[attr-defined]
    found = list(chordified.recurse().getElementsByClass("Chord"))
    same = [("triad" if c.isTriad() else "seventh" if c.isSeventh() else "")
            == hm.chord_kind([p.midi for p in c.pitches]) for c in found]
    assert len(found) > 40 and np.mean(same) >= 0.95  # music21 misses a misspelled triad


def test_a_bach_chorale_sounds_like_bach(bach: object) -> None:
    from seqgen_music.scores import to_notes

    notes, _ = to_notes(bach, 100.0)
    st = hm.set_harmony([notes])
    assert st.four_voices > 0.8 and st.moves > 25
    assert st.triads + st.sevenths > 0.8 and st.sevenths > 0.05
    assert st.fifths <= 5.0 and st.octaves <= 5.0  # one passing fifth in 33 moves
    soprano, alto, tenor, bass = st.ranges
    assert bass[1] < tenor[1] < alto[1] < soprano[1] and 60 <= soprano[0] <= 72


def test_chord_kinds_table_is_consistent() -> None:
    sizes = np.array([bin(m).count("1") for m in range(4096)])
    assert set(sizes[hm.KINDS == 1]) == {3} and set(sizes[hm.KINDS == 2]) == {4}
    assert (hm.KINDS == 1).sum() == 12 + 12 + 12 + 4  # maj, min, dim, aug (symmetric)
