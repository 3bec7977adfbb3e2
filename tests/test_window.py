"""The text-conditioning window (Graves 2013 section 5) end to end, with a test plugin domain."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import seqgen
import seqgen.inference
from seqgen import plugins
from seqgen.config import ModelConfig
from seqgen.domain import Batching, Corpus, Domain, HeadSpec, Renderer, TextConditioned, VectorInput
from seqgen.engine.mixture import MDN2DHead
from seqgen.engine.sample import Plan, SampleSettings, generate
from seqgen.engine.vocab import TextVocab
from seqgen.engine.window import WindowNet
from seqgen.errors import SeqgenError
from seqgen.hookspecs import hookimpl

from conftest import cli, one_line_error


def _ink(text: str) -> np.ndarray:
    """Three pen points per character, the last one lifting the pen."""
    rows = []
    for ch in text:
        a = (ord(ch) % 7) / 3.0
        rows += [[a, 0.5, 0.0], [0.5, -a, 0.0], [0.2, 0.1, 1.0]]
    return np.asarray(rows, np.float32)


@dataclass
class Line:
    text: str
    ink: np.ndarray


class ToyInk(TextConditioned, Domain):
    """A vector domain conditioned on text, built only from engine parts."""

    name = "toyink"
    batching = Batching.SEQUENCES
    unit = "point"
    default_render = ".npy"
    keep_prime = False
    max_steps_per_char = 6

    def load_corpus(self, source: str | None) -> Corpus:
        words = ["ab", "ba", "abc", "cab", "bca", "aa", "cc", "abcabc"] * 6
        return Corpus("toy", "toy-v1", [Line(w, _ink(w)) for w in words])

    def text_of(self, document: Any) -> str | None:
        return document.text

    def encode(self, document: Any) -> np.ndarray:
        return document.ink

    def decode(self, array: np.ndarray) -> Any:
        return Line("", np.asarray(array))

    def input_spec(self) -> VectorInput:
        return VectorInput(3)

    def head_spec(self) -> HeadSpec:
        return HeadSpec("mdn2d", {"components": 3})

    def style_prime(self, index: int) -> tuple[np.ndarray, str | None]:
        return _ink("ab"), "ab"

    def join_lines(self, lines: list[Any]) -> Any:
        return Line("", np.concatenate([ln.ink for ln in lines]))

    def renderers(self) -> dict[str, Renderer]:
        return {".npy": Renderer(".npy", lambda s, p: np.save(open(p, "wb"), s.ink), "points")}


class ToyPlugin:
    @staticmethod
    @hookimpl
    def register_domains(register: Callable[[type], None]) -> None:
        register(ToyInk)


@pytest.fixture
def toy() -> Iterator[None]:
    pm = plugins.get_plugin_manager()
    pm.register(ToyPlugin, name="toyink-plugin")
    yield
    pm.unregister(name="toyink-plugin")


def _window_model(kappa_bias: float) -> WindowNet:
    torch.manual_seed(0)
    m = WindowNet(ModelConfig(layers=2, hidden=16, embed=8), VectorInput(3),
                    MDN2DHead(32, 2), vocab_size=4)
    with torch.no_grad():
        m.window.bias[2 * m.K:].fill_(kappa_bias)
    return m.eval()


def test_window_phi_and_monotonic_kappa() -> None:
    m = _window_model(-1.0)
    x = torch.randn(2, 7, 3)
    cond = torch.tensor([[1, 2, 3], [2, 1, 0]])
    params, (h, c, kappa, w) = m(x, None, None, cond)
    assert params.shape == (2, 7, m.head.n_params) and w.shape == (2, 4)
    _, _, window = m.step(x[:, :1], m.zero_state(2), cond)
    assert (kappa > 0).all() and window.phi.shape == (2, 3) and window.done.shape == (2,)
    assert window.phi[1, 2] == 0  # padding gets no attention
    _, (_, _, kappa2, _) = m(x[:, :1], (h, c, kappa, w), None, cond)
    assert (kappa2 > kappa).all()  # the window only moves forward


def test_stop_rule_ends_when_window_passes_the_text() -> None:
    cond = np.array([[1, 2, 3]])
    fast = generate(_window_model(1.5), np.zeros((1, 3), np.float32),
                    SampleSettings(length=60, seed=0), Plan(cond=cond))
    slow = generate(_window_model(-6.0), np.zeros((1, 3), np.float32),
                    SampleSettings(length=60, seed=0), Plan(cond=cond))
    assert fast.attention is not None and fast.attention.shape == (1, len(fast.sequences[0]), 3)
    fast, slow = fast.sequences, slow.sequences
    assert len(fast[0]) < 15 and len(slow[0]) == 60  # the cap applies when it never passes


def test_vocab_reports_unknown_characters() -> None:
    vocab = TextVocab.fit(["abc", "cab"])
    assert vocab.encode("cba").tolist() == [3, 2, 1]
    with pytest.raises(SeqgenError, match="'Q' 'Z'"):
        vocab.encode("aQZ")


def test_conditioned_domain_trains_and_writes_text(toy: None, runner: CliRunner) -> None:
    out = cli(runner, "train", "--domain", "toyink", "--preset", "tiny", "--quiet",
              "--max-steps", "12", "--batch-size", "4", "--layers", "2")
    assert out.exit_code == 0, out.output
    out = cli(runner, "sample", "--domain", "toyink", "--text", "abc\nba", "--seed", "3",
              "--bias", "1.0", "--render", "s.npy", "--attention", "att.png", "--num", "2")
    assert out.exit_code == 0, out.output
    a = np.load("s-1.npy")
    assert a.ndim == 2 and a.shape[1] == 3 and len(a) <= 2 * 6 * 3  # two lines, each capped
    assert Path("att.png").read_bytes()[:4] == b"\x89PNG"
    again = cli(runner, "sample", "--domain", "toyink", "--text", "abc\nba", "--seed", "3",
                "--bias", "1.0", "--render", "t.npy", "--num", "2")
    assert again.exit_code == 0 and np.array_equal(np.load("t-1.npy"), a)
    styled = cli(runner, "sample", "--domain", "toyink", "--text", "cab", "--prime-style", "0",
                 "--render", "p.npy", "--seed", "1")
    assert styled.exit_code == 0, styled.output
    metrics = cli(runner, "eval", "--domain", "toyink")
    assert "nats/point" in metrics.stdout and "sse" in metrics.stdout


def test_conditioned_bad_inputs(toy: None, runner: CliRunner) -> None:
    cli(runner, "train", "--domain", "toyink", "--preset", "tiny", "--quiet", "--max-steps", "2",
        "--batch-size", "4")
    assert "alphabet" in one_line_error(cli(runner, "sample", "-d", "toyink", "--text", "abz"))
    assert "is empty" in one_line_error(cli(runner, "sample", "-d", "toyink", "--text", " "))
    assert "not both" in one_line_error(cli(runner, "sample", "-d", "toyink", "--text", "a",
                                            "--text-file", "x.txt"))


def test_no_text_writes_held_out_lines_and_says_which(toy: None, runner: CliRunner) -> None:
    """The headline command as typed (no --text) writes a file; stderr names its texts."""
    cli(runner, "train", "--domain", "toyink", "--preset", "tiny", "--quiet", "--max-steps", "2",
        "--batch-size", "4", "--run", "r")
    config = json.loads(Path("r/config.json").read_text())
    # 1 in 10 documents is held out: corpus indices 9, 19, 29, 39 of the toy word list
    assert config["condition"]["examples"] == ["ba", "cab", "aa", "abcabc"]
    out = cli(runner, "sample", "--run", "r", "--render", "s.npy", "--num", "2", "--seed", "1")
    assert out.exit_code == 0, out.output
    assert "no --text given: writing 'ba' | 'cab' (held-out lines" in out.stderr
    assert np.load("s-1.npy").shape[1] == 3 and np.load("s-2.npy").shape[1] == 3
    model = seqgen.load("r")
    assert model.default_texts(5) == ["ba", "cab", "aa", "abcabc", "ba"]
    model.sample(num=2, seed=1)  # the Python API needs no text either
    assert model.texts == ["ba", "cab"]


def test_no_text_and_no_examples_falls_back_to_a_pangram_or_one_line(
        toy: None, runner: CliRunner) -> None:
    cli(runner, "train", "--domain", "toyink", "--preset", "tiny", "--quiet", "--max-steps", "2",
        "--batch-size", "4", "--run", "r")
    path = Path("r/config.json")
    config = json.loads(path.read_text())
    del config["condition"]["examples"]  # a run written before examples were recorded
    path.write_text(json.dumps(config))
    # no word of the pangram is spelled with the toy alphabet 'abc' alone
    assert "give --text" in one_line_error(cli(runner, "sample", "--run", "r"))
    config["condition"]["chars"] = " abcdefghijklmnopqrstuvwxyz"
    assert seqgen.inference.Model.default_texts(_FakeModel(config), 1) == \
        ["the quick brown fox jumps over the lazy dog"]
    config["condition"]["chars"] = " abcdeghijklmnopqrstuvwxyz"  # no 'f': 'fox' is left out
    assert seqgen.inference.Model.default_texts(_FakeModel(config), 1) == \
        ["the quick brown jumps over the lazy dog"]


class _FakeModel:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config, self.vocab = config, TextVocab(config["condition"]["chars"])
