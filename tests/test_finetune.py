"""Fine-tuning (issue 24): ``seqgen train --init-from RUN_OR_MODEL`` and ``init_from=``.

The weights and the codec come from the source; new symbols grow the vocabulary with the
source's rows kept; what contradicts the source is one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from test_handwriting_layouts import STROKES, _pair
from typer.testing import CliRunner

import seqgen
from seqgen import models
from seqgen.config import ModelConfig
from seqgen.engine.checkpoint import load_tensors
from seqgen.engine.grow import grown_dim, load_grown
from seqgen.engine.head_registry import build_head
from seqgen.engine.model import SeqNet
from seqgen.engine.specs import TokenInput
from seqgen.engine.vocab import TextVocab
from seqgen.finetune import FINETUNE

from conftest import TINY, cli, one_line_error

OTHER = "Quiz #7: {x_1} = 42; zebra quartz (jinx) -- 9/10 [ok]\n" * 40


def _net(vocab: int) -> SeqNet:
    cfg = ModelConfig(layers=1, hidden=8, embed=4)
    return SeqNet(cfg, TokenInput(vocab), build_head("categorical", 8, {"num_classes": vocab}))


def test_grown_tensors_keep_the_source_rows_and_start_new_ones_at_their_mean() -> None:
    torch.manual_seed(0)
    small, big = _net(5), _net(8)
    grown = load_grown(big, small.state_dict())
    assert len(grown) == 3 and "inp.weight" in grown  # the embedding, the head's rows, bias
    src, got = small.state_dict(), big.state_dict()
    for name in src:
        old, new = src[name], got[name]
        assert torch.equal(new[tuple(slice(0, n) for n in old.shape)], old), name
    emb = got["inp.weight"]  # (8, 4): rows 5..7 are the mean of rows 0..4
    assert torch.allclose(emb[5:], src["inp.weight"].mean(0, keepdim=True).expand(3, 4))
    assert grown_dim((8, 4), (5, 4)) == 0 and grown_dim((4, 9), (4, 7)) == 1
    with pytest.raises(ValueError):
        grown_dim((4, 4), (5, 4))  # shrinking is not growth
    with pytest.raises(ValueError):
        grown_dim((6, 6), (5, 4))  # two dimensions: another shape, not a bigger vocabulary
    with pytest.raises(seqgen.SeqgenError, match="missing"):
        load_grown(big, {k: v for k, v in small.state_dict().items() if k != "inp.weight"})


def test_text_vocab_grows_at_its_end() -> None:
    vocab, added = TextVocab("abc").grown(["cab", "dab e"])
    assert added == " de" and vocab.chars == "abc de"
    assert vocab.encode("abc").tolist() == [1, 2, 3]  # the old ids keep their meaning


def _train(runner: CliRunner, data: Path, run: str, *extra: str) -> Path:
    out = cli(runner, "train", "--data", data, *TINY, "--max-steps", "30", "--seed", "1",
              "--run", run, *extra)
    assert out.exit_code == 0, out.output
    return Path(run)


def _first_loss(run: Path) -> float:
    lines = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    return float(next(r["loss"] for r in lines if "loss" in r))


def test_fine_tune_a_tiny_run_on_new_characters(runner: CliRunner, corpus: Path,
                                               tmp_path: Path) -> None:
    source = _train(runner, corpus, "src")
    other = tmp_path / "other.txt"
    other.write_text(corpus.read_text() + OTHER, encoding="utf-8")
    out = cli(runner, "train", "--init-from", source, "--data", other, "--quiet",
              "--max-steps", "3", "--run", "runs/text/ft")
    assert out.exit_code == 0, out.output
    src_cfg = json.loads((source / "config.json").read_text())
    cfg = json.loads(Path("runs/text/ft/config.json").read_text())
    old = src_cfg["domain"]["state"]["chars"]
    new = cfg["domain"]["state"]["chars"]
    assert new.startswith(old) and set(new[len(old):]) == set(OTHER) - set(old)
    assert cfg["init_from"]["grown"] == sorted(set(OTHER) - set(old))
    assert cfg["init_from"]["kind"] == "run" and cfg["model"] == src_cfg["model"]
    assert cfg["input"]["size"] == len(new) + 2 == cfg["head"]["kwargs"]["num_classes"]
    w = load_tensors(Path("runs/text/ft/model.safetensors"))["inp.weight"]
    assert w.shape[0] == len(new) + 2
    # the source's weights arrived: its corpus starts far better than a fresh network's
    fresh = _train(runner, other, "fresh", "--max-steps", "1")
    ft1 = cli(runner, "train", "--init-from", source, "--data", other, "--quiet",
              "--max-steps", "1", "--run", "ft1")
    assert ft1.exit_code == 0
    assert _first_loss(Path("ft1")) < _first_loss(fresh) - 0.5
    info = cli(runner, "info", "runs/text/ft")
    assert "init from" in info.output and "run " in info.output and "grown by" in info.output
    runs = cli(runner, "runs")
    row = next(ln for ln in runs.output.splitlines() if " ft " in ln)
    assert "src" in row  # the from column names the source


def test_fine_tune_from_the_api_resumes_and_samples(corpus: Path) -> None:
    source = seqgen.train("text", str(corpus), run="src", preset="tiny", max_steps=5,
                          progress=False)
    res = seqgen.train(data=str(corpus), init_from=source.run_dir, run="ft", max_steps=2,
                       progress=False)
    assert res.step == 2
    more = seqgen.train(run="ft", resume=True, max_steps=4, progress=False)
    assert more.step == 4
    text = seqgen.load("ft").sample(length=30, seed=1)[0]
    assert isinstance(text, str) and len(text) > 0


def test_fine_tune_the_shipped_model(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "code.txt"
    data.write_text(OTHER * 3, encoding="utf-8")
    out = cli(runner, "train", "--init-from", "shakespeare", "--data", data, "--quiet",
              "--max-steps", "1", "--batch-size", "2", "--seq-len", "16", "--run", "ft")
    assert out.exit_code == 0, out.output
    cfg = json.loads(Path("ft/config.json").read_text())
    assert cfg["domain"]["name"] == "text" and cfg["model"]["hidden"] == 512
    assert cfg["init_from"]["source"] == "shakespeare"
    assert cfg["init_from"]["kind"] == "shipped model"
    assert {"#", "{", "_", "7"} <= set(cfg["init_from"]["grown"])
    src = json.loads((models.find("shakespeare").path / "config.json").read_text())
    assert cfg["train"]["lr"] == src["train"]["lr"] * FINETUNE["lr_scale"]
    assert (cfg["train"]["warmup"], cfg["train"]["max_steps"]) == (FINETUNE["warmup"], 1)
    assert cfg["train"]["batch_size"] == 2 and cfg["model"]["dropout"] == 0.2  # flag, source
    info = cli(runner, "info", "ft")
    assert "shipped model shakespeare" in info.output


def test_refusals_are_one_line(runner: CliRunner, corpus: Path) -> None:
    source = _train(runner, corpus, "src", "--max-steps", "2")
    cases = {
        ("--init-from", "nonesuch"): "no such run directory",
        ("--init-from", "shakespeare", "--domain", "music"): "is a 'text' model, not 'music'",
        ("--init-from", str(source), "--hidden", "64"): "--hidden 64 (the source: 32)",
        ("--init-from", str(source), "--layers", "2", "--embed", "16"): "--layers 2",
        ("--init-from", str(source), "-o", "level=byte"): "-o level=byte (the source: char)",
        ("--init-from", str(source), "-o", "nonesuch=1"): "nonesuch",
        ("--init-from", str(source), "--resume"): "--init-from starts a new run",
        ("--init-from", str(source), "--preset", "tiny"): "--preset tiny",
    }
    for args, words in cases.items():
        line = one_line_error(cli(runner, "train", "--data", corpus, "--quiet", *args))
        assert words in line, (args, line)
    assert not Path("runs").exists() or not list(Path("runs").rglob("config.json"))


def test_a_codec_without_room_is_named_not_an_index_error(corpus: Path) -> None:
    from seqgen.engine.data import encode_corpus
    from seqgen.engine.specs import Corpus

    class Small:  # a codec whose encode gives a token its input has no room for
        name, version, options = "small", "1", None

        def get_state(self) -> dict[str, int]:
            return {}

        def input_spec(self) -> TokenInput:
            return TokenInput(4)

        def separator(self) -> int:
            return 0

        def encode_chunks(self, document: list[int]) -> Iterator[np.ndarray]:
            yield np.array(document)

    docs = Corpus("my.txt", "k", [[1, 3], [1, 3, 7]])
    with pytest.raises(seqgen.SeqgenError, match="token 7, outside its vocabulary of 4") as err:
        encode_corpus(Small(), docs, Path("cache"))
    assert "my.txt" in str(err.value) and "document 1" in str(err.value)
    assert not list(Path("cache").rglob("meta.json"))  # nothing half-written is cached


def test_fine_tune_handwriting_grows_the_text_alphabet(tmp_path: Path,
                                                       runner: CliRunner) -> None:
    rng = np.random.default_rng(0)

    def styles(folder: Path, words: list[str]) -> Path:
        for n in range(12):
            wiggle = [s + rng.normal(0, 0.2, s.shape) for s in STROKES * 3]
            _pair(folder, n, words[n % len(words)],
                  [w + [6.0 * k, 0] for k, w in enumerate(wiggle)])
        return folder

    src = tmp_path / "src"
    out = cli(runner, "train", "--domain", "handwriting", "--data",
              styles(tmp_path / "a", ["ab", "ba", "abc"]), *TINY, "--max-steps", "2",
              "--batch-size", "4", "--run", src)
    assert out.exit_code == 0, out.output
    out = cli(runner, "train", "--init-from", src, "--data",
              styles(tmp_path / "b", ["cad", "Dab", "bad"]), "--quiet", "--max-steps", "1",
              "--run", "ft")
    assert out.exit_code == 0, out.output
    cfg = json.loads(Path("ft/config.json").read_text())
    assert cfg["condition"]["chars"] == "abcDd"  # the source's alphabet, then the new
    assert set(cfg["init_from"]["grown"]) == {"d", "D"}
    w = load_tensors(Path("ft/model.safetensors"))["cell.weight_ih"]
    before = load_tensors(src / "model.safetensors")["cell.weight_ih"]
    assert w.shape[1] == before.shape[1] + 2  # two new one-hot columns of the window
    ok = cli(runner, "sample", "--run", "ft", "--text", "Dad", "--seed", "1",
             "--render", "out.svg")
    assert ok.exit_code == 0, ok.output
