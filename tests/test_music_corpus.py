"""Corpora: sources, the parse cache, augmentation, percussion, and the conformance kit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from test_music_helpers import DRUMS, SONG, write_corpus, write_song
from typer.testing import CliRunner

from conftest import TINY, cli, one_line_error

pytest.importorskip("mido")
from seqgen.errors import SeqgenError  # noqa: E402
from seqgen.testing import check_domain  # noqa: E402
from seqgen_music import augment, corpus  # noqa: E402
from seqgen_music.domain import MusicDomain, MusicOptions  # noqa: E402
from seqgen_music.encoding import Piece  # noqa: E402


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = corpus.parse_item

    def counted(item: corpus.Item, settings: corpus.ParseSettings) -> object:
        calls.append(item.path)
        return real(item, settings)

    monkeypatch.setattr(corpus, "parse_item", counted)
    return calls


def test_parse_cache_second_load_parses_nothing(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_corpus(tmp_path / "midi", 4)
    calls = _counting(monkeypatch)
    dom = MusicDomain()
    first = dom.load_corpus(str(folder))
    assert len(calls) == 4 and len(first.documents) == 4
    assert list((tmp_path / "cache" / "music").glob("*.npz"))  # $SEQGEN_CACHE/music
    second = MusicDomain().load_corpus(str(folder))
    assert len(calls) == 4  # no parse at all
    assert second.key == first.key
    for a, b in zip(first.documents, second.documents, strict=True):
        assert np.array_equal(a.notes, b.notes) and a.name == b.name
    # a file that changes is seen: parsed again, and the corpus key changes
    write_song(folder / "song0.mid", notes=SONG[:5])
    os.utime(folder / "song0.mid", ns=(1, 1))
    third = MusicDomain().load_corpus(str(folder))
    assert len(calls) == 8 and third.key != first.key
    # options that change the parse are part of the cache key
    MusicDomain(MusicOptions(drums="only")).load_corpus(str(folder))
    assert len(calls) == 12


def test_drums_dropped_or_kept_apart(tmp_path: Path) -> None:
    path = write_song(tmp_path / "band.mid", drums=DRUMS)
    pitched = MusicDomain().load_corpus(str(path)).documents[0]
    drums = MusicDomain(MusicOptions(drums="only")).load_corpus(str(path)).documents[0]
    assert sorted(pitched.notes[:, 2].tolist()) == sorted(SONG[:, 2].tolist())
    assert sorted(drums.notes[:, 2].tolist()) == [36, 38, 42] and drums.drums
    assert not pitched.drums


def test_transposition_augmentation(tmp_path: Path) -> None:
    path = write_song(tmp_path / "a.mid")
    plain = MusicDomain().load_corpus(str(path))
    aug = MusicDomain(MusicOptions(transpose="-2..1")).load_corpus(str(path))
    assert len(aug.documents) == 4 and aug.key != plain.key
    shifts = [int(d.notes[0, 2] - plain.documents[0].notes[0, 2]) for d in aug.documents]
    assert shifts == [-2, -1, 0, 1]
    assert augment.parse_transpose("3") == list(range(-3, 4))
    for bad in ("x", "2..-2", "1..3", "-20..0"):
        with pytest.raises(SeqgenError):
            augment.parse_transpose(bad)


def test_key_normalisation() -> None:
    scale = np.array([[i * 0.5, i * 0.5 + 0.5, p, 80]
                      for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60])])
    for k in (-5, 2, 5):
        moved = scale.copy()
        moved[:, 2] += k
        assert augment.estimate_key(moved) == ((k % 12), "major")
        back = augment.normalise_key(Piece(moved))
        assert (back.notes[:, 2] % 12 == scale[:, 2] % 12).all()


def test_music21_sources_and_limit() -> None:
    pytest.importorskip("music21")
    dom = MusicDomain(MusicOptions(limit=2, encoding="duration"))
    chorales = dom.load_corpus(None)
    assert chorales.source == "bach-chorales" and len(chorales.documents) == 2
    one = MusicDomain(MusicOptions(encoding="duration")).load_corpus("bach/bwv66.6")
    assert len(one.documents) == 1 and 100 < len(one.documents[0].notes) < 400
    auto = MusicDomain(MusicOptions(limit=3))
    ryan = auto.load_corpus("music21:ryansMammoth")
    assert len(ryan.documents) == 3  # one tune each, parsed per tune
    assert auto.options.encoding == "duration"  # auto: tunes are not four-part scores
    with pytest.raises(SeqgenError, match="did you mean 'music21:ryansMammoth'"):
        MusicDomain().load_corpus("music21:ryansMamoth")


def test_conformance_kit(tmp_path: Path) -> None:
    (tmp_path / "corrupt.mid").write_bytes(b"MThd garbage")
    write_song(tmp_path / "silent.mid", notes=np.zeros((0, 4)))
    check_domain(MusicDomain, str(write_corpus(tmp_path / "midi", 3)),
                 bad_sources=[str(tmp_path / "corrupt.mid"), str(tmp_path / "silent.mid"),
                              str(tmp_path / "nothing-here"), "music21:nosuchcorpus"])


def test_metrics_per_second_from_the_corpus(tmp_path: Path) -> None:
    dom = MusicDomain()
    docs = dom.load_corpus(str(write_corpus(tmp_path / "midi", 3))).documents
    dom.fit(docs)
    events = sum(len(dom.encode(d)) + 1 for d in docs)
    assert dom.events_per_second == pytest.approx(events / sum(d.duration for d in docs), 1e-4)
    m = MusicDomain(state=dom.get_state()).metrics(2.0)
    assert m["nats/event"] == 2.0 and m["nats/second"] == pytest.approx(2 * dom.events_per_second,
                                                                          1e-4)


def test_plugin_import_is_light() -> None:
    import subprocess
    import sys

    code = ("import sys; from seqgen import plugins; from seqgen.cli.main import app; "
            "plugins.register_commands(app); assert 'music' in plugins.domains(); "
            "heavy = {'music21', 'torch', 'pretty_midi', 'mido', 'matplotlib'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_music21_is_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "music21", None)  # importing it now fails
    line = one_line_error(cli(runner, "train", "--domain", "music", "--data", "bach/bwv66.6",
                              *TINY))
    assert 'pip install "seqgen[music]"' in line and "music21" in line


def test_midi_is_read_without_mido_and_written_with_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from seqgen_music.midi import write_midi

    path = write_song(tmp_path / "a.mid")
    monkeypatch.setitem(sys.modules, "mido", None)
    assert len(MusicDomain().load_corpus(str(path)).documents[0].notes) == len(SONG)
    with pytest.raises(SeqgenError, match=r'pip install "seqgen\[music\]"') as caught:
        write_midi(SONG, tmp_path / "out.mid")
    assert "mido" in str(caught.value)
