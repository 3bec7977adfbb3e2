"""Rules that live once in the engine and that the plugins use (issue 13, part 5): the held-out
split, finding a source's files, the .npz cache, the CDF sampler, padding, the CLI's error line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from seqgen.engine.data import encode_corpus, pad_ids, split
from seqgen.engine.files import cached_npz, discover, load_npz, names_files, save_npz
from seqgen.engine.heads import draw
from seqgen.engine.holdout import held_out, held_out_documents
from seqgen.engine.specs import Corpus, VectorInput
from seqgen.engine.vocab import TextVocab
from seqgen.errors import SeqgenError

FRACTIONS = [0.0, 0.05, 0.1, 0.25, 0.34, 0.5, 0.9]


# ---- the held-out split: the engine's and the plugins' agree ---------------------------------
def _model(val_fraction: float, domain: Any = None) -> Any:
    return SimpleNamespace(config={"train": {"val_fraction": val_fraction},
                                   "data": {"source": "x"}}, domain=domain)


def _pieces(n: int, seed: int) -> list[Any]:
    from seqgen_music.encoding import Piece

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        m = int(rng.integers(1, 30))
        s = np.sort(rng.uniform(0, 10, m))
        out.append(Piece(np.stack([s, s + rng.uniform(0.1, 1, m), rng.integers(40, 80, m),
                                   rng.integers(30, 120, m)], 1), f"p{k}"))
    return out


@pytest.mark.parametrize("val_fraction", FRACTIONS)
def test_music_stats_holds_out_the_pieces_the_engine_holds_out(val_fraction: float) -> None:
    """Streams: the pieces starting in the held-out tail, from the music domain's own encoding."""
    from seqgen_music.commands import _split
    from seqgen_music.domain import MusicDomain

    dom = MusicDomain()
    for seed in range(4):
        pieces = _pieces(3 + 4 * seed, seed)
        enc = encode_corpus(dom, Corpus("toy", f"toy-{seed}", pieces), None)
        train, _ = split(enc, val_fraction, sequences=False)
        n_train = len(train.offsets)  # the documents that start before the cut
        tr, held = _split(_model(val_fraction), dom, [dom.encode(p) for p in pieces])
        assert tr == list(range(n_train)) and held == list(range(n_train, len(pieces)))


@dataclass
class Utt:
    frames: np.ndarray
    text: str | None
    name: str = ""


@dataclass
class Frames:
    """A vector codec with transcripts, as the speech domain is to the engine."""

    name: str = "frames"
    version: str = "1"
    options: Any = None
    docs: list[Utt] = field(default_factory=list)

    def get_state(self) -> dict[str, Any]:
        return {}

    def input_spec(self) -> VectorInput:
        return VectorInput(2)

    def separator(self) -> int | None:
        return None

    def encode_chunks(self, document: Utt) -> Iterator[np.ndarray]:
        yield document.frames

    def text_of(self, document: Utt) -> str | None:
        return document.text

    def load_corpus(self, source: str) -> Corpus:
        return Corpus(source, "k", self.docs)


@pytest.mark.parametrize("val_fraction", [f for f in FRACTIONS if f > 0])
def test_speech_eval_speaks_the_utterances_the_engine_holds_out(val_fraction: float) -> None:
    """Sequences: the engine's validation documents of a text-conditioned corpus (documents
    without a transcript or without frames left out), in order, are speech-eval's."""
    from seqgen_speech.evaluate import held_out_utterances

    rng = np.random.default_rng(0)
    docs = [Utt(np.ones((int(rng.integers(0, 3)), 2), np.float32),
                None if i % 7 == 3 else f"line {i}") for i in range(40)]
    codec = Frames(docs=docs)
    vocab = TextVocab.fit([d.text for d in docs if d.text])
    enc = encode_corpus(codec, codec.load_corpus("x"), None, vocab)
    _, val = split(enc, val_fraction, sequences=True)
    engine = [vocab.decode(c) for c in val.conditions() or []]
    chosen = [d.text for d in held_out_utterances(_model(val_fraction, codec), len(docs))]
    assert chosen == engine and chosen


def test_the_held_out_rule() -> None:
    assert [i for i in range(20) if held_out(i, 0.1)] == [9, 19]
    assert [i for i in range(6) if held_out(i, 0.9)] == [1, 3, 5]  # k is at least 2
    assert not any(held_out(i, 0.0) for i in range(20))
    assert held_out_documents([3, 3, 3], 0.5, sequences=True) == [1]
    assert held_out_documents([3, 3, 3], 0.0, sequences=False) == []
    # a stream of 4 + 4 + 4 + 1 = 13 steps; cut at int(13 * 0.5) = 6: the third starts at 8
    assert held_out_documents([3, 3, 3], 0.5, sequences=False) == [2]


# ---- a source's files --------------------------------------------------------------------------
def _tree(root: Path) -> None:
    for name in ["a.txt", "sub/b.TXT", "sub/c.md", ".hidden.txt", ".git/d.txt", "sub/.e/f.txt"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")


def test_discover_a_file_a_folder_and_a_glob(tmp_path: Path) -> None:
    _tree(tmp_path / "in")
    root = tmp_path / "in"
    assert discover(root) == [root / "a.txt", root / "sub/b.TXT", root / "sub/c.md"]
    assert discover(str(root), (".txt",), "text") == [root / "a.txt", root / "sub/b.TXT"]
    assert discover(root / "sub/c.md", (".txt",)) == [root / "sub/c.md"]  # a file: as it is
    assert discover(f"{root}/**/*.md") == [root / "sub/c.md"]
    assert names_files(root) and names_files(f"{root}/*.nothing") and not names_files("no-such")


@pytest.mark.parametrize("source, kwargs, message", [
    ("missing", {}, "missing: no such file or directory"),
    ("{root}/*.wav", {"patterns": False}, "{root}/*.wav: no such file or directory"),
    ("{root}", {"suffixes": (".wav",), "what": "audio"}, "{root}: no audio files (.wav) found"),
    ("{root}/*.wav", {}, "{root}/*.wav: no files found"),
])
def test_discover_refuses_in_one_line(tmp_path: Path, source: str, kwargs: dict[str, Any],
                                      message: str) -> None:
    _tree(tmp_path / "in")
    root = tmp_path / "in"
    with pytest.raises(SeqgenError) as caught:
        discover(source.format(root=root), **kwargs)
    assert str(caught.value) == message.format(root=root)


# ---- the .npz cache ----------------------------------------------------------------------------
def test_cached_npz_builds_once_and_again_when_damaged_or_not_its_own(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "k.npz"
    built: list[int] = []

    def build() -> list[int]:
        built.append(1)
        return [1, 2, 3]

    def load(key: int) -> list[int]:
        return cached_npz(path, build, lambda v: {"v": np.array(v), "key": np.array(key)},
                          lambda z: z["v"].tolist() if int(z["key"]) == key else None)

    assert load(1) == [1, 2, 3] and load(1) == [1, 2, 3] and len(built) == 1
    assert load(2) == [1, 2, 3] and len(built) == 2  # another key in the file: built again
    path.write_bytes(b"PK\x03\x04 cut short")
    assert load_npz(path) is None
    assert load(2) == [1, 2, 3] and len(built) == 3
    save_npz(path, {"other": np.zeros(1)})  # an older layout: a KeyError, built again
    assert load(2) == [1, 2, 3] and len(built) == 4
    assert not list(path.parent.glob(".*.tmp"))  # written atomically: nothing left over


def test_cached_npz_keeps_nothing_the_builder_says_is_not_worth_it(tmp_path: Path) -> None:
    path = tmp_path / "k.npz"
    assert cached_npz(path, lambda: [], lambda v: None, lambda z: None) == []
    assert not path.exists()


# ---- small shared helpers ----------------------------------------------------------------------
def test_draw_picks_by_weight_without_normalising() -> None:
    rng = np.random.default_rng(0)
    w = np.array([[0.0, 5.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 2.0]])
    picks = np.stack([draw(w, rng) for _ in range(4000)])  # (N, B)
    assert (picks[:, 0] == 1).all() and (picks[:, 1] == 0).all()
    assert np.bincount(picks[:, 2], minlength=3) / len(picks) == pytest.approx([0.25, 0.25, 0.5],
                                                                              abs=0.03)


def test_pad_ids_is_b_by_u_int64_padded_with_0() -> None:
    out = pad_ids([np.array([3, 1]), [2], np.array([4, 4, 4], np.int16)])
    assert out.dtype == np.int64 and out.tolist() == [[3, 1, 0], [2, 0, 0], [4, 4, 4]]


def test_a_plugin_command_fails_in_one_line_through_the_public_helper() -> None:
    from seqgen.cli.commands import handles_errors

    app = typer.Typer()

    @app.command()
    @handles_errors
    def bad() -> None:
        raise SeqgenError("it went wrong")

    @app.command()
    def other() -> None:  # a second command keeps typer's subcommand mode
        pass

    result = CliRunner().invoke(app, ["bad"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "seqgen: error: it went wrong"
