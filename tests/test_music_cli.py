"""The music domain through the real CLI: train, sample, eval, stats, and every bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_music_helpers import DRUMS, SONG, write_corpus, write_song
from typer.testing import CliRunner

from conftest import TINY, cli, one_line_error

pytest.importorskip("mido")
pytest.importorskip("pretty_midi")


@pytest.fixture
def midi_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "midi", 6)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny run shared by the tests of this module (training is the slow part)."""
    from seqgen import plugins

    base = tmp_path_factory.mktemp("music-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        mp.setenv("SEQGEN_RUNS", str(base / "runs"))
        mp.setenv("SEQGEN_CACHE", str(base / "cache"))
        plugins._pm = None
        plugins._warned.clear()
        result = cli(CliRunner(), "train", "--domain", "music", "--data",
                     write_corpus(base / "midi", 6), *TINY, "--max-steps", "12", "--seed", "2",
                     "--run", base / "run")
        plugins._pm = None
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "mostly copy" in result.stderr  # type: ignore[attr-defined]
    return base / "run"


def _notes(path: Path) -> np.ndarray:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    return np.array([[n.start, n.end, n.pitch, n.velocity]
                     for i in pm.instruments for n in i.notes]).reshape(-1, 4)


def test_train_then_sample_is_reproducible(runner: CliRunner, trained: Path) -> None:
    import mido

    args = ["sample", "--run", str(trained), "--render", "out.mid", "--num", "2", "--seed", "1",
            "--length", "200"]
    assert cli(runner, *args).exit_code == 0
    first = [Path("out-1.mid").read_bytes(), Path("out-2.mid").read_bytes()]
    assert cli(runner, *args).exit_code == 0
    assert [Path("out-1.mid").read_bytes(), Path("out-2.mid").read_bytes()] == first
    assert first[0] != first[1]  # two samples, not one twice
    for name in ("out-1.mid", "out-2.mid"):
        mid = mido.MidiFile(name)  # every note-on has its note-off, in order
        on: dict[int, int] = {}
        for msg in mid:
            if msg.type == "note_on" and msg.velocity > 0:
                on[msg.note] = on.get(msg.note, 0) + 1
            elif msg.type in ("note_off", "note_on"):
                on[msg.note] -= 1
        assert all(v == 0 for v in on.values())
        assert any(m.type == "set_tempo" for m in mid.tracks[0])
        assert any(m.type == "program_change" and m.program == 0 for m in mid.tracks[1])
        assert len(_notes(Path(name))) > 0
    # no --render: music-sample.mid, by the domain's default renderer
    assert cli(runner, "sample", "--run", trained, "--seed", "3", "--length", "50").exit_code == 0
    assert Path("music-sample.mid").exists()


def test_length_in_seconds_and_prime(runner: CliRunner, trained: Path, tmp_path: Path) -> None:
    out = cli(runner, "sample", "--run", trained, "--length", "3s", "--seed", "4",
              "--render", "a.mid", "--temperature", "0.5")
    assert out.exit_code == 0, out.output
    prime = write_song(tmp_path / "prime.mid", notes=SONG[:6])  # 2 s of music
    kept = cli(runner, "sample", "--run", trained, "--length", "6s", "--seed", "4",
               "--prime", prime, "--render", "b.mid")
    assert kept.exit_code == 0, kept.output
    notes = _notes(Path("b.mid"))
    first = notes[np.lexsort((notes[:, 2], notes[:, 0]))][:3]
    assert first[:, 2].tolist() == [60, 64, 67] and np.allclose(first[:, 0], 0, atol=0.01)
    assert cli(runner, "sample", "--run", trained, "--length", "6s", "--seed", "4",
               "--prime", prime, "--no-keep-prime", "--render", "c.mid").exit_code == 0
    assert Path("c.mid").read_bytes() != Path("b.mid").read_bytes()


def test_a_30s_request_is_30s_long_and_ends_at_a_cadence() -> None:
    """The music length rule: the end token held until 90 % of the length, then a stop at the
    first cadence (0.75 s with no new note) past it, or at 115 % at the latest."""
    from seqgen_music.domain import _Length, _length_rule

    shift = np.zeros(10, dtype=np.int64)
    shift[5:] = np.arange(1, 6)  # tokens 5..9 move the clock 1..5 steps of 0.1 s
    rule = _length_rule(_Length(10_000, 3.0), shift, 0.1)
    assert rule.hold is not None and rule.hold().tolist() == [True]
    # row 0: a note, then 0.3 s steps (never quiet long); row 1: notes and 0.2 s shifts,
    # then past 3 s a 0.8 s quiet spell (a cadence)
    times, done_at = [0.0, 0.0], [None, None]
    for i in range(60):
        toks = np.array([7 if i % 2 else 1, 6 if i < 32 else 9])
        done = rule(toks)
        for r in (0, 1):
            times[r] += shift[toks[r]] * 0.1
            if done[r] and done_at[r] is None:
                done_at[r] = round(times[r], 2)
        held = rule.hold()
        assert held.tolist() == [t < 2.7 - 1e-9 for t in times]
    assert done_at[1] is not None and 3.0 <= done_at[1] < 3.45  # the cadence past 3 s
    assert done_at[0] is not None and 3.45 <= done_at[0] < 3.75  # no cadence: cut at 115 %


def test_eval_prints_nats_per_event_and_second(runner: CliRunner, trained: Path) -> None:
    out = cli(runner, "eval", "--run", trained)
    assert out.exit_code == 0, out.output
    vals = dict(line.split("\t") for line in out.stdout.strip().splitlines())
    per_event, per_second = float(vals["nats/event"]), float(vals["nats/second"])
    assert 0 < per_event < np.log(389) + 1
    assert per_second == pytest.approx(per_event * float(vals["events/second"]), rel=1e-3)


def test_stats_command(runner: CliRunner, trained: Path) -> None:
    import typer

    from seqgen import plugins

    local = typer.Typer()

    @local.callback()
    def root() -> None:
        """A private app, so the real one is left as the docs describe it."""

    plugins.register_commands(local)
    out = runner.invoke(local, ["stats", "--run", str(trained), "--num", "2", "--length", "100",
                                "--seed", "1", "--ngram", "8"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    rows = {line[:30].strip(): line[30:].split() for line in out.stdout.splitlines()[1:]}
    assert rows["pieces"][-1] == "2"
    copied = float(rows["8-grams copied from training"][-2])
    assert 0 <= copied <= 100
    assert float(rows["pitch-class distance (TV)"][0]) == 0.0  # training against itself


# ---- bad input: one line, exit 2 (or a warning and go on) -----------------------------------
def test_corrupt_midi_skipped_and_truncated_read_with_a_warning(runner: CliRunner,
                                                                midi_dir: Path) -> None:
    data = (midi_dir / "song0.mid").read_bytes()
    (midi_dir / "truncated.mid").write_bytes(data[: len(data) // 2])
    (midi_dir / "corrupt.mid").write_bytes(b"MThd this is not really MIDI")
    out = cli(runner, "train", "--domain", "music", "--data", midi_dir, *TINY, "--max-steps", "1")
    assert out.exit_code == 0, out.output
    warned = [ln for ln in out.stderr.splitlines() if "warning" in ln and ".mid" in ln]
    assert len(warned) == 2
    assert any("corrupt.mid" in ln and ln.endswith("skipped") for ln in warned)
    assert any("truncated.mid" in ln and "cut short" in ln and ln.endswith("read anyway")
               for ln in warned)


def test_no_usable_file_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.mid").write_bytes(b"not midi at all")
    (bad / "b.mid").write_bytes(b"")
    line = one_line_error(cli(runner, "train", "--domain", "music", "--data", bad, *TINY))
    assert "not a readable MIDI file" in line and "no music to train on" in line


def test_midi_with_no_notes(runner: CliRunner, tmp_path: Path) -> None:
    empty = write_song(tmp_path / "empty.mid", notes=np.zeros((0, 4)), drums=DRUMS)
    line = one_line_error(cli(runner, "train", "--domain", "music", "--data", empty, *TINY))
    assert "empty.mid" in line and "no pitched notes" in line


def test_unparsable_musicxml(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("music21")
    bad = tmp_path / "broken.musicxml"
    bad.write_text("<?xml version='1.0'?><score-partwise><part id='P1'><measure>", "utf-8")
    line = one_line_error(cli(runner, "train", "--domain", "music", "--data", bad, *TINY))
    assert "broken.musicxml" in line and "not a readable score file" in line


def test_unknown_corpus_name(runner: CliRunner) -> None:
    pytest.importorskip("music21")
    line = one_line_error(cli(runner, "train", "--domain", "music", "--data",
                              "music21:essenFolksongs", *TINY))
    assert "did you mean 'music21:essenFolksong'" in line
    line = one_line_error(cli(runner, "train", "--domain", "music", "--data", "bach-chorale",
                              *TINY))
    assert "did you mean 'bach-chorales'" in line


def test_primer_longer_than_length(runner: CliRunner, trained: Path, tmp_path: Path) -> None:
    prime = write_song(tmp_path / "prime.mid")  # 6 s, 30-odd events
    line = one_line_error(cli(runner, "sample", "--run", trained, "--prime", prime,
                              "--length", "4s"))
    assert "prime.mid" in line and "--length 4s" in line
    line = one_line_error(cli(runner, "sample", "--run", trained, "--prime", prime,
                              "--length", "10"))
    assert "--length 10" in line
    line = one_line_error(cli(runner, "sample", "--run", trained, "--prime", "nowhere.mid"))
    assert "nowhere.mid" in line
    line = one_line_error(cli(runner, "sample", "--run", trained, "--length", "ten"))
    assert "30s" in line
