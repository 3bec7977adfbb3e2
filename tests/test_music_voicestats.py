"""Voice-leading figures of seqgen stats in the voices encoding (plugins/seqgen_music/
voicestats.py): hand-built chorales whose answer is known, music21's VoiceLeadingQuartet on the
same moves of real chorales, and Bach's own figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from seqgen_music import voicestats as vs
from seqgen_music.chorale import RANGES, Chorale

Chord = Sequence[int | None]  # soprano, alto, tenor, bass; None: the voice holds its note


def block(*chords: Chord, tonic: int = 0, minor: bool = False,
          fermatas: Sequence[int] = ()) -> Chorale:
    """One frame a chord; every voice strikes its pitch, except where None (held)."""
    n = len(chords)
    pitch = np.zeros((n, 4), np.int16)
    attack = np.zeros((n, 4), bool)
    for f, chord in enumerate(chords):
        for v, p in enumerate(chord):
            pitch[f, v] = pitch[f - 1, v] if p is None else p
            attack[f, v] = p is not None and p >= 0
    fermata = np.zeros(n, bool)
    fermata[list(fermatas)] = True
    return Chorale(pitch, attack, fermata, (np.arange(n) % 16).astype(np.int16), 16, tonic,
                   minor)


def counts(*chords: Chord, **kw: Any) -> vs.Counts:
    return vs.chorale_counts(block(*chords, **kw))


# ---- known answers -------------------------------------------------------------------------
def test_parallel_fifth_between_soprano_and_bass_is_counted_once() -> None:
    # S G4->A4 and B C3->D3: a twelfth to a twelfth, both up a step; A and T elsewhere
    c = counts((67, 64, 60, 48), (69, 65, 57, 50))
    assert (c.moves, c.fifths, c.octaves) == (1, 1, 0)
    assert c.hidden_fifths == c.hidden_octaves == 0
    st = vs.set_voice_stats([block((67, 64, 60, 48), (69, 65, 57, 50))])
    assert (st.fifths, st.octaves, st.parallels) == (100.0, 0.0, 100.0)


def test_parallel_octaves_and_unisons() -> None:
    # T-B octaves C3/C4 -> D3/D4 both up; A-T unison G3 -> A3 both up
    assert counts((72, 64, 60, 48), (71, 67, 62, 50)).octaves == 1
    assert counts((72, 55, 55, 48), (71, 57, 57, 41)).octaves == 1
    # unison to octave in similar motion: both 0 mod 12, counted
    assert counts((72, 55, 55, 43), (74, 69, 57, 41)).octaves == 1


def test_hidden_octave_between_outer_voices() -> None:
    # S G4->C5, B A2->C3 both up into a double octave; the alto holds, the tenor goes down
    c = counts((67, 64, 57, 45), (72, None, 55, 48))
    assert (c.moves, c.hidden_octaves_outer, c.hidden_octaves) == (1, 1, 1)
    assert c.fifths == c.octaves == c.hidden_fifths == 0


def test_hidden_fifths_outer_and_inner() -> None:
    # S D5->G5 and B A2->C3 both up, a fourth (compound) to a fifth; A down, T holds
    c = counts((74, 65, 53, 45), (79, 64, None, 48))
    assert (c.hidden_fifths_outer, c.hidden_fifths) == (1, 1)
    assert c.hidden_octaves == c.fifths == c.octaves == 0
    # A C4->D4 and T E3->G3 both up, a minor sixth to a fifth; S and B hold
    c = counts((72, 60, 52, 48), (None, 62, 55, None))
    assert (c.hidden_fifths_outer, c.hidden_fifths, c.moves) == (0, 1, 1)


def test_contrary_fifths_and_held_voices_are_not_parallels() -> None:
    # T-B G3/C3 -> C4/F2: fifth to twelfth in contrary motion ("antiparallel")
    c = counts((72, 64, 55, 48), (72, 65, 60, 41))
    assert c.moves == 1 and c.fifths == 0
    # the bass holds C3 while the tenor leaps G3 -> G4: a fifth to a twelfth, one voice moving
    assert counts((76, 64, 55, 48), (79, 72, 67, None)).fifths == 0
    # a re-struck note does not move either
    assert counts((76, 64, 55, 48), (79, 72, 67, 48)).fifths == 0
    # nothing changes: a struck chord again is a sonority, not a move
    c = counts((72, 64, 55, 48), (72, 64, 55, 48))
    assert (c.sonorities, c.moves) == (2, 0)


def test_a_held_chord_is_one_sonority_and_rests_break_moves() -> None:
    ch = block((67, 64, 60, 48), (None, None, None, None), (69, 65, 57, 50))
    assert len(vs.sonorities(ch)) == 2 and vs.chorale_counts(ch).fifths == 1
    ch.pitch[2, 1] = -1  # the alto rests in the second chord: no move
    c = vs.chorale_counts(ch)
    assert (c.sonorities, c.four, c.moves) == (2, 1, 0)


def test_crossing_and_overlap() -> None:
    c = counts((64, 67, 55, 48), (72, 64, 55, 48))  # the alto above the soprano, then not
    assert (c.four, c.crossings) == (2, 1)
    assert vs.set_voice_stats([block((64, 67, 55, 48))]).crossings == 1.0
    # the tenor G3 -> F4, above the alto's previous E4: an overlap, not a crossing
    c = counts((72, 64, 55, 48), (72, 69, 65, 53))
    assert (c.crossings, c.overlaps) == (0, 1)


def test_triads_sevenths_and_fermatas() -> None:
    c = counts((72, 64, 55, 48), (71, 65, 62, 55), (72, 64, 55, 48), (72, 67, 62, 48),
               fermatas=[1, 2, 3])  # C, G7, C, C-D-G (no chord); one run of fermatas, at G7
    assert (c.four, c.triads, c.sevenths) == (4, 2, 1)
    assert (c.fermatas, c.fermata_triads) == (1, 0)
    c = counts((72, 64, 55, 48), (71, 65, 62, 55), (72, 64, 55, 48), fermatas=[0, 2])
    assert (c.fermatas, c.fermata_triads) == (2, 2)


@pytest.mark.parametrize(("last", "tonic", "minor", "want"), [
    ((72, 64, 55, 48), 0, False, (1, 1, 1)),  # C major in C: a tonic triad
    ((72, 63, 55, 48), 0, False, (1, 0, 0)),  # c minor ending a C major piece
    ((72, 63, 55, 48), 0, True, (1, 1, 0)),  # c minor in c minor
    ((72, 64, 55, 48), 0, True, (1, 1, 1)),  # a Picardy third
    ((71, 62, 55, 43), 0, False, (0, 0, 1)),  # G major: a half cadence
    ((72, 67, 60, 48), 0, False, (1, 0, 0)),  # bare fifth C-G: the root is C, no triad
    ((74, 65, 60, 47), 0, False, (0, 0, 0)),  # B D F and C: no chord, no root
])
def test_final_chord(last: Chord, tonic: int, minor: bool, want: tuple[int, int, int]) -> None:
    c = counts((67, 62, 59, 43), last, (-1, -1, -1, -1), tonic=tonic, minor=minor)
    assert (c.finals, c.final_root, c.final_tonic, c.final_major) == (1, *want)


def test_ranges_and_empty_sets() -> None:
    st = vs.set_voice_stats([block((72, 64, 55, 48), (74, 65, 55, 30))])
    assert st.lowest[3] == 30 and st.highest[0] == 74
    assert st.outside[3] == 0.5 and st.outside_all == 1 / 8  # the tenor struck twice
    empty = vs.set_voice_stats([])
    assert empty.pieces == 0 and math.isnan(empty.parallels) and math.isnan(empty.lowest[0])
    rows = dict(vs.rows({"a": st, "b": empty}))
    assert rows["bass lowest-highest (p5-p95)"][1] == "-"
    assert rows["parallel 5ths per 100 moves"] == ["0.00", "-"]


# ---- real chorales --------------------------------------------------------------------------
CROSS = ("bach/bwv66.6", "bach/bwv26.6", "bach/bwv268", "bach/bwv40.8", "bach/bwv183.5",
         "bach/bwv348")  # with parallels (bwv268: 5), antiparallels (bwv348: 2), spelling cases


def _read(path: Any, name: str) -> Chorale | None:
    from seqgen_music import chorale, scores

    return chorale.from_score(scores.parse(path), name)[0]


@pytest.fixture(scope="module")
def crossed() -> list[Chorale]:
    pytest.importorskip("music21")
    from seqgen_music import scores

    out = [_read(scores.find_work(n), n) for n in CROSS]
    return [c for c in out if c is not None]


@pytest.fixture(scope="module")
def bach() -> list[Chorale]:
    """Every sixth of music21's chorales (about 55 in four parts; all 331 take ~30 s)."""
    pytest.importorskip("music21")
    from seqgen_music import scores

    out = [_read(p, p.stem) for p in scores.chorale_files()[::6]]
    return [c for c in out if c is not None]


def _music21(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """music21 on every move and pair: (M, 6, 4) parallelFifth, parallelUnisonOrOctave,
    hiddenFifth, hiddenOctave; and (M, 6) whether music21's spelling of the MIDI pitches
    (G# and E-flat 7 semitones apart are a diminished sixth to it, an augmented fifth moving to
    a fifth is a 'parallel' fifth) matches the semitones that voicestats reads."""
    from music21 import note, pitch, voiceLeading

    def n(p: int) -> Any:
        return note.Note(pitch.Pitch(midi=int(p)))

    got = np.zeros((len(a), 6, 4), bool)
    spelled = np.ones((len(a), 6), bool)
    for m in range(len(a)):
        for k, (i, j) in enumerate(zip(vs.UPPER, vs.LOWER, strict=True)):
            q = voiceLeading.VoiceLeadingQuartet(n(a[m, i]), n(b[m, i]), n(a[m, j]), n(b[m, j]))
            got[m, k] = (q.parallelFifth(), q.parallelUnisonOrOctave(), q.hiddenFifth(),
                         q.hiddenOctave())
            cls = [abs(a[m, i] - a[m, j]) % 12, abs(b[m, i] - b[m, j]) % 12]
            names = [iv.simpleName for iv in q.vIntervals]
            generic = [iv.generic.semiSimpleUndirected for iv in q.vIntervals]
            spelled[m, k] = (all((c == 7) == (s == "P5") and (c == 0) == (s == "P1")
                                 for c, s in zip(cls, names, strict=True))
                             and not (cls[1] in (0, 7) and cls[0] != cls[1]
                                      and generic[0] == generic[1]))
    return got, spelled


def _mine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """voicestats' flags in music21's terms: its parallels include contrary motion
    (antiparallel) and exclude a unison moving to an octave."""
    f = vs.flags(a, b)
    moving = f.similar | f.contrary
    kind = (np.abs(a[:, vs.UPPER] - a[:, vs.LOWER]) == 0) == (
        np.abs(b[:, vs.UPPER] - b[:, vs.LOWER]) == 0)
    return np.stack([moving & (f.before == 7) & (f.after == 7),
                     moving & (f.before == 0) & (f.after == 0) & (kind | f.contrary),
                     f.similar & (f.before != 7) & (f.after == 7),
                     f.similar & (f.before != 0) & (f.after == 0)], axis=-1)


def test_agrees_with_music21_voice_leading(crossed: list[Chorale]) -> None:
    assert len(crossed) == len(CROSS)
    unspelled = 0
    for ch in crossed:
        a, b = vs.moves(vs.sonorities(ch))
        theirs, spelled = _music21(a, b)
        mine, f = _mine(a, b), vs.flags(a, b)
        assert (theirs[spelled] == mine[spelled]).all(), ch.name
        unspelled += int((theirs != mine).any(axis=-1).sum())
        anti = f.contrary & (f.before == f.after)
        c = vs.chorale_counts(ch)
        # the parallels: music21's count is ours plus the antiparallels, on every piece
        assert theirs[..., 0].sum() == c.fifths + (anti & (f.after == 7)).sum(), ch.name
        assert theirs[..., 1].sum() == c.octaves + (anti & (f.after == 0)).sum(), ch.name
    assert unspelled == 4  # bwv40.8: three hidden fifths, one hidden octave, spelled otherwise


def test_injected_parallel_fifths_agree_with_music21(crossed: list[Chorale]) -> None:
    ch = crossed[0]
    ch = Chorale(ch.pitch.copy(), ch.attack.copy(), ch.fermata, ch.pos, ch.bar, ch.tonic,
                 ch.minor)
    ch.pitch[:, 2] = np.where(ch.pitch[:, 3] >= 0, ch.pitch[:, 3] + 19, -1)  # T a 12th above B
    ch.attack[:, 2] = ch.attack[:, 3]
    a, b = vs.moves(vs.sonorities(ch))
    bass_moves = int((a[:, 3] != b[:, 3]).sum())
    c = vs.chorale_counts(ch)
    theirs, spelled = _music21(a, b)
    assert c.fifths >= bass_moves > 20
    assert (_mine(a, b)[:, 5, 0] == (a[:, 3] != b[:, 3])).all()  # T-B: wherever B moves
    # music21 finds them all but where it spells the fifth G#-E-flat (f# minor: G#2 in the bass)
    assert (theirs[..., 0] == _mine(a, b)[..., 0] & spelled).all()
    assert 0 < (~spelled[:, 5]).sum() < bass_moves / 3
    assert theirs[..., 0].sum() == c.fifths - (~spelled[:, 5] & (a[:, 3] != b[:, 3])).sum()


def test_sonorities_are_the_scores_onsets(crossed: list[Chorale]) -> None:
    from seqgen_music import scores

    score = scores.parse(scores.find_work(CROSS[0]))
    onsets = {float(n.offset) for p in score.parts for n in p.flatten().stripTies().notes}
    assert len(vs.sonorities(crossed[0])) == len(onsets)


def test_bach_sounds_like_bach(bach: list[Chorale]) -> None:
    st = vs.set_voice_stats(bach)
    assert st.pieces >= 50 and st.moves > 3000 and st.four_voices > 0.99
    assert st.parallels < 1.0 and st.fifths < 0.6 and st.octaves < 0.6
    assert st.hidden_fifths_outer < 5 and st.hidden_octaves_outer < 5
    assert st.crossings < 0.05 and st.overlaps < 10
    assert 0.45 < st.triads < 0.70 and 0.12 < st.sevenths < 0.30
    assert st.fermata_triads > 0.8 and st.fermatas > 300
    assert st.final_tonic > 0.7 and st.final_major > 0.85
    assert st.outside_all == 0.0
    assert all(lo <= st.lowest[v] and st.highest[v] <= hi for v, (lo, hi) in enumerate(RANGES))
    assert (np.diff(st.p95) < 0).all()  # soprano above alto above tenor above bass


def test_chords_in_random_order_are_full_of_parallels(bach: list[Chorale]) -> None:
    rng = np.random.default_rng(0)
    shuffled = []
    for ch in bach:
        son = vs.sonorities(ch)
        son = son[(son >= 0).all(axis=1)]
        shuffled.append(block(*son[rng.permutation(len(son))].tolist()))
    real, mixed = vs.set_voice_stats(bach), vs.set_voice_stats(shuffled)
    assert mixed.triads == pytest.approx(real.triads)  # the same chords
    assert mixed.parallels > 5 and mixed.parallels > 20 * real.parallels
