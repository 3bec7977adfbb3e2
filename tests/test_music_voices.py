"""Four-part chorales (issue 26): the voices encoding's round trip, its corpus, the rules that
keep samples in four voices, and harmonizing a tune with ``--melody``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import TINY, cli, one_line_error

pytest.importorskip("music21")

from seqgen_music import chorale, melody, partrules, satb, scores  # noqa: E402
from seqgen_music.chorale import RANGES, REST, Chorale  # noqa: E402
from seqgen_music.domain import MusicDomain, MusicOptions  # noqa: E402


def _bach(work: str) -> Chorale:
    ch, _ = chorale.from_score(scores.parse(scores.find_work(work)), work)
    assert ch is not None
    return ch


@pytest.mark.parametrize("work", ["bach/bwv66.6", "bach/bwv269"])
def test_a_bach_chorale_encodes_and_decodes_to_the_same_notes(work: str) -> None:
    m21 = scores.music21()
    score = scores.parse(scores.find_work(work))
    ch = _bach(work)
    back = satb.decode(satb.encode(ch))
    for v, part in enumerate(score.parts):
        notes = [(round(float(n.offset) * 4), round(float(n.quarterLength) * 4), n.pitch.midi)
                 for n in part.flatten().stripTies().notes]
        assert back.line(v) == notes  # (sixteenth, sixteenths, pitch) as music21 reads them
    fermatas = [round(float(n.offset) * 4) for n in score.parts[0].flatten().stripTies().notes
                if any(isinstance(e, m21.expressions.Fermata) for e in n.expressions)]
    starts = np.flatnonzero(np.diff(np.concatenate([[0], back.fermata.astype(int)])) == 1)
    assert starts.tolist() == fermatas and len(fermatas) >= 2
    assert (back.bar, back.tonic, back.minor) == (ch.bar, ch.tonic, ch.minor)
    assert (back.pos == ch.pos).all() and back.pos[0] != 0  # both open with a pickup
    assert len(satb.encode(ch)) == satb.HEADER + satb.FRAME * ch.frames
    bars = satb.encode(ch)[satb.HEADER::satb.FRAME]  # each frame's first token
    assert ((bars >= satb.BAR0) == (ch.pos == 0)).all()  # BAR on the bar lines, POS elsewhere
    assert set(((bars[bars >= satb.BAR0] - satb.BAR0) // 2).tolist()) == {satb.key_index(ch)}


def test_bwv66_6_reads_as_written() -> None:
    ch = _bach("bach/bwv66.6")
    assert (ch.key_name, ch.bar, ch.frames) == ("f#", 16, 144)
    assert ch.pitch[0].tolist() == [73, 64, 57, 57]  # C#5 E4 A3 A3 on the pickup
    assert ch.pos[:5].tolist() == [12, 13, 14, 15, 0]


def test_the_corpus_is_four_voices_in_every_key_in_range() -> None:
    dom = MusicDomain(MusicOptions(limit=2))
    corpus = dom.load_corpus(None)
    assert dom.options.encoding == "voices" and dom.voiced
    docs = corpus.documents
    names = [d.name for d in docs]
    assert all(isinstance(d, Chorale) for d in docs) and 8 < len(docs) < 25
    first = names[0].split("+")[0].split("-")[0]
    run = [n for n in names if n.startswith(first)]
    assert names[:len(run)] == run  # a piece's keys side by side: the held-out tail is whole
    for d in docs:
        assert d.in_range()
    assert len({(d.name.split("+")[0].split("-")[0], d.tonic) for d in docs}) > 10


def _seen(header: list[int], frames: list[list[int]]) -> np.ndarray:
    """Tokens after a separator: the header, then frames of pitches (-1 rest) at pos 0, 1, ..."""
    out = [satb.SEP, *header]
    for i, f in enumerate(frames):
        out.append(satb.BAR0 + 2 * (header[1] - satb.KEY0) if i == 0 else satb.POS0 + 2 * i)
        out += [satb.REST_TOKEN if p < 0 else int(satb.pitch_token(p)) for p in f]
    return np.array([out])


def test_the_rule_forbids_parallel_fifths_crossing_and_range() -> None:
    head = [satb.METER0 + 15, satb.KEY0]
    # soprano G4 over bass C3 (a fifth), soprano moves up to A4: bass D3 would be parallel
    seen = _seen(head, [[67, 64, 60, 48], [69, 65, 60]])
    forbid = partrules.rule(True)(seen)[0]
    assert forbid[satb.pitch_token(50)]  # D3: parallel fifths with the soprano
    assert not forbid[satb.pitch_token(53)]  # F3: fine
    assert forbid[satb.pitch_token(62)]  # above the tenor's C4: crossing
    assert forbid[satb.pitch_token(30)]  # under Bach's bass range
    assert not partrules.rule(False)(seen)[0][satb.pitch_token(50)]  # off: only the grammar
    # the grammar: after a full frame, the next POS is one sixteenth on, or the end
    seen = _seen(head, [[67, 64, 60, 48]])
    forbid = partrules.rule(False)(seen)[0]
    allowed = np.flatnonzero(~forbid).tolist()
    assert allowed == [satb.SEP, satb.POS0 + 2, satb.POS0 + 3]
    # a voice that rested cannot hold
    seen = _seen(head, [[67, 64, -1, 48], [67, 64]])
    assert partrules.rule(False)(seen)[0][satb.HOLD]
    # a bar line says the header's key again: D minor here, in 3/4
    seen = _seen([satb.METER0 + 11, satb.KEY0 + 14], [[62, 57, 53, 50]] * 12)
    allowed = np.flatnonzero(~partrules.rule(False)(seen)[0]).tolist()
    assert allowed == [satb.SEP, satb.BAR0 + 28, satb.BAR0 + 29]


def _parallels(ch: Chorale) -> int:
    count = 0
    for f in range(1, ch.frames):
        a, b = ch.pitch[f - 1], ch.pitch[f]
        for u in range(4):
            for v in range(u + 1, 4):
                if REST in (a[u], a[v], b[u], b[v]) or a[u] == b[u] or a[v] == b[v]:
                    continue
                same = np.sign(b[u] - a[u]) == np.sign(b[v] - a[v])
                ic = (a[u] - a[v]) % 12
                count += bool(same and ic in (0, 7) and (b[u] - b[v]) % 12 == ic)
    return count


@pytest.fixture(scope="module")
def voices_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seqgen import plugins

    base = tmp_path_factory.mktemp("voices-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        mp.setenv("SEQGEN_RUNS", str(base / "runs"))
        plugins._pm = None
        result = cli(CliRunner(), "train", "--domain", "music", "-o", "limit=3", *TINY,
                     "--max-steps", "20", "--seed", "2", "--run", base / "run")
        plugins._pm = None
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return base / "run"


def test_samples_are_four_voices_that_keep_the_rules(voices_run: Path) -> None:
    from seqgen.inference import Model

    model = Model(voices_run)
    assert model.config["domain"]["options"]["encoding"] == "voices"
    ruled = model.sample(num=3, length="12s", seed=1, temperature=2.0)
    model.domain.options.voice_leading = False
    free = model.sample(num=3, length="12s", seed=1, temperature=2.0)
    for ch in ruled:
        assert isinstance(ch, Chorale) and ch.frames >= 0.9 * 12 * 100 / 15
        assert ((np.diff(ch.pos.astype(int)) % ch.bar) == 1).all()  # one sixteenth a frame
        sung = ch.pitch >= 0
        for v, (lo, hi) in enumerate(RANGES):
            assert ((ch.pitch[:, v] >= lo) | ~sung[:, v]).all()
            assert ((ch.pitch[:, v] <= hi) | ~sung[:, v]).all()
        both = sung[:, :-1] & sung[:, 1:]
        assert (ch.pitch[:, :-1][both] >= ch.pitch[:, 1:][both]).all()  # no crossing
        assert _parallels(ch) == 0
    assert sum(_parallels(c) for c in free) > 0  # a tiny model alone writes parallels


def _tune(tmp_path: Path) -> tuple[Path, Chorale]:
    m21 = scores.music21()
    score = scores.parse(scores.find_work("bach/bwv66.6"))
    path = tmp_path / "tune.musicxml"
    m21.stream.Score([score.parts[0]]).write("musicxml", fp=str(path))
    return path, _bach("bach/bwv66.6")


def test_melody_keeps_the_soprano_note_for_note(voices_run: Path, tmp_path: Path) -> None:
    from seqgen.inference import Model

    path, bach = _tune(tmp_path)
    for ch in Model(voices_run).sample(num=2, melody=str(path), seed=4):
        assert ch.name == "Tune, harmonized"  # the score's title names the tune
        assert ch.frames == bach.frames and ch.line(0) == bach.line(0)
        assert (ch.fermata == bach.fermata).all() and (ch.pos == bach.pos).all()
        assert (ch.pitch[:, 1:] >= 0).mean() > 0.8  # the other three voices were written
        assert (ch.tonic, ch.minor) == (bach.tonic, bach.minor)


def test_melody_from_midi_and_several_voices(tmp_path: Path) -> None:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=100)
    for pitches in ([72, 74, 76, 77, 79], [60, 62, 64, 65, 67]):  # two tracks at once
        inst = pretty_midi.Instrument(0)
        inst.notes = [pretty_midi.Note(80, p, i * 0.6, i * 0.6 + 0.6)
                      for i, p in enumerate(pitches)]
        pm.instruments.append(inst)
    pm.write(str(tmp_path / "two.mid"))
    from seqgen import plugins

    plugins._warned.clear()
    ch = melody.read_melody(str(tmp_path / "two.mid"))
    assert [n[2] for n in ch.line(0)] == [72, 74, 76, 77, 79]  # the top voice
    assert [n[1] for n in ch.line(0)] == [4] * 5  # a quarter at 100 qpm is 4 sixteenths
    tokens = melody.given(str(tmp_path / "two.mid"))
    frames = tokens[satb.HEADER:].reshape(-1, satb.FRAME)
    assert (frames[:, 2:] == -1).all() and (frames[:, :2] >= 0).all()


def test_bad_melodies_are_one_line(runner: CliRunner, voices_run: Path,
                                   tmp_path: Path) -> None:
    import pretty_midi

    pretty_midi.PrettyMIDI().write(str(tmp_path / "empty.mid"))
    (tmp_path / "tune.txt").write_text("not music")
    for bad, why in ((tmp_path / "empty.mid", "no notes"), (tmp_path / "tune.txt", "not a"),
                     (tmp_path / "missing.mid", "no such file")):
        result = cli(runner, "sample", "--run", str(voices_run), "--melody", str(bad))
        line = one_line_error(result)
        assert why in line and bad.name in line


def test_seqgen_stats_prints_the_voice_rows(runner: CliRunner, voices_run: Path) -> None:
    import typer

    from seqgen import plugins

    local = typer.Typer()

    @local.callback()
    def root() -> None:
        """A private app, so the real one is left as the docs describe it."""

    plugins.register_commands(local)
    result = runner.invoke(local, ["stats", "--run", str(voices_run), "--num", "2", "--length",
                                   "6s"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {line.split("  ")[0]: line.split() for line in result.stdout.splitlines()}
    assert rows["pieces"][-1] == "2" and "parallel 5ths + 8ves per 100 moves" in rows
    assert "final chord: tonic triad" in rows
    assert "polyphony (notes sounding)" not in rows  # the note-array rows are for events


def test_shipped_tunes_read_with_their_fermatas() -> None:
    """music21's ABC reader drops fermatas; abcfile.fermatas puts them back on their notes."""
    names = melody.tune_names()
    assert {"old-hundredth", "new-britain", "twinkle"} <= set(names)
    hundredth = melody.read_melody("old-hundredth")
    pitches = [p for _, _, p in hundredth.line(0)]
    assert pitches[:8] == [67, 67, 66, 64, 62, 67, 69, 71]  # G G F# E D G A B
    held = [s for s, _, _ in hundredth.line(0) if hundredth.fermata[s]]
    assert len(held) == 4 and (hundredth.tonic, hundredth.minor) == (7, False)
    britain = melody.read_melody("new-britain")
    assert britain.bar == 12 and britain.pos[0] == 8  # 3/4 with a one-beat pickup
    assert melody.given("twinkle")[0] == satb.METER0 + 15


def test_abc_fermata_marks_are_counted_per_note() -> None:
    from seqgen_music import abcfile

    body = 'X:1\nT:t\nM:4/4\nL:1/4\nK:C\n"C"C !fermata!D z H[EG] | {g}A !trill!B +fermata+c2 |]\n'
    assert abcfile.fermatas(body) == [False, True, True, False, False, True]


def test_relative_pitches_read_the_same_in_every_key_and_decode_exactly() -> None:
    ch = _bach("bach/bwv66.6")
    here = satb.encode(ch, relative=True)
    for k in (-5, -1, 2, 6):
        moved = ch.transposed(k)
        there = satb.encode(moved, relative=True)
        voices = there[satb.HEADER:].reshape(-1, satb.FRAME)[:, 1:]
        shift = voices - here[satb.HEADER:].reshape(-1, satb.FRAME)[:, 1:]
        # the same tokens, or every pitch an octave apart (the tonic counted from the C
        # nearest it: F sharp minor from F sharp below C, C sharp minor from C sharp above)
        assert len(np.unique(shift)) <= 2 and set(np.unique(shift).tolist()) <= {0, 12, -12}
        back = satb.decode(there, relative=True)
        assert (back.pitch == moved.pitch).all() and back.tonic == moved.tonic
    assert MusicDomain().options.relative  # measured better: the default


def test_a_harmonization_closes_on_the_tonic_triad(voices_run: Path) -> None:
    """The ending rule: under the tune's last note a complete tonic triad, root in the bass;
    the tiny model alone would end anywhere."""
    from seqgen.inference import Model

    model = Model(voices_run)
    for seed in (1, 2, 3):
        ch = model.sample(melody="twinkle", seed=seed, temperature=1.5)[0]
        last = ch.pitch[-1]
        assert {int(p) % 12 for p in last} == {0, 4, 7} and last[3] % 12 == 0  # C E G, C below
    model.domain.options.voice_leading = False
    ends = [model.sample(melody="twinkle", seed=s, temperature=1.5)[0].pitch[-1] for s in range(4)]
    assert any({int(p) % 12 for p in e} != {0, 4, 7} or e[3] % 12 for e in ends)


def test_the_ending_completes_the_triad_with_one_third() -> None:
    row = partrules.Reader()
    row.tonic, row.minor, row.cur = 9, True, [73, 69, REST, REST]  # A minor: C sharp, A
    tenor = row.pitches[partrules._tonic(row, 2)]
    assert set(((tenor - 9) % 12).tolist()) == {7}  # the fifth: no C natural beside C sharp
    assert set(((row.pitches[partrules._tonic(row, 3)] - 9) % 12).tolist()) == {0}


def test_harmonizing_samples_at_its_own_default_temperature(voices_run: Path) -> None:
    from seqgen.inference import Model

    model = Model(voices_run)
    assert (model.domain.default_temperature, model.domain.melody_temperature) == (0.8, 0.6)
    plain = model.sample(melody="twinkle", seed=5)[0]
    same = model.sample(melody="twinkle", seed=5, temperature=0.6)[0]
    hotter = model.sample(melody="twinkle", seed=5, temperature=1.5)[0]
    assert (plain.pitch == same.pitch).all() and (plain.pitch != hotter.pitch).any()
    free = model.sample(length="4s", seed=5)[0]
    at_08 = model.sample(length="4s", seed=5, temperature=0.8)[0]
    assert free.frames == at_08.frames and (free.pitch == at_08.pitch).all()


def test_four_track_midi_files_are_read_as_four_voices(tmp_path: Path) -> None:
    """A MIDI file of four pitched tracks (as seqgen, or a sequencer, writes a chorale) is a
    four-voice piece: a folder of them trains in the voices encoding."""
    from seqgen_music import render_voices

    folder = tmp_path / "midi"
    folder.mkdir()
    originals = [_bach("bach/bwv66.6"), _bach("bach/bwv269")]
    for ch in originals:
        render_voices.write_mid(ch, folder / f"{ch.name.split('/')[-1]}.mid", 100.0)
    dom = MusicDomain()
    corpus = dom.load_corpus(str(folder))
    assert dom.options.encoding == "voices"
    read = {d.name: d for d in corpus.documents}
    for ch in originals:
        back = read[ch.name.split("/")[-1]]
        assert [back.line(v) for v in range(4)] == [ch.line(v) for v in range(4)]
        assert (back.bar, back.tonic, back.minor) == (ch.bar, ch.tonic, ch.minor)
