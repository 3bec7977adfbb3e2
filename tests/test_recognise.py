"""The engine's CTC recogniser (seqgen/engine/recognise.py) and handwriting's ``seqgen ink-eval``
built on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from seqgen.engine.recognise import (
    Recogniser,
    RecogniserSettings,
    cer,
    edit_distance,
    greedy_decode,
    train_recogniser,
)

from conftest import TINY, cli, one_line_error

CHARS = "abcdef"


def _spell(word: str, rng: np.random.Generator) -> np.ndarray:
    """Each letter as 3 to 5 noisy one-hot frames, with a noisy gap frame between letters."""
    rows = []
    for c in word:
        hot = np.zeros(len(CHARS) + 1, np.float32)
        hot[CHARS.index(c)] = 1.0
        rows += [hot] * int(rng.integers(3, 6))
        rows.append(np.eye(len(CHARS) + 1, dtype=np.float32)[-1])  # the gap
    x = np.stack(rows)
    return x + rng.normal(0, 0.2, x.shape).astype(np.float32)  # (T, 7)


def _words(n: int, rng: np.random.Generator) -> list[str]:
    return ["".join(rng.choice(list(CHARS), int(rng.integers(2, 6)))) for _ in range(n)]


@pytest.fixture(scope="module")
def toy() -> Recogniser:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    pairs = [(_spell(w, rng), w) for w in _words(400, rng)]
    return train_recogniser(pairs, CHARS, RecogniserSettings(hidden=32, layers=1, batch_size=16,
                                                             lr=1e-2),
                            steps=250, seed=0)


def test_learns_a_toy_task_far_below_chance(toy: Recogniser) -> None:
    rng = np.random.default_rng(1)
    words = _words(50, rng)
    got = toy.read([_spell(w, rng) for w in words])
    assert cer(words, got) < 0.15, list(zip(words, got, strict=True))[:10]
    assert cer(words, [""] * len(words)) == 1.0  # reading nothing: every character missed
    assert toy.report.steps == 250 and toy.report.pairs == 400


def test_greedy_decoding_and_cer() -> None:
    assert greedy_decode([0, 1, 1, 0, 1, 2, 2, 0, 0, 3], "abc") == "aabc"
    assert greedy_decode([0, 0], "abc") == ""
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3
    assert cer(["abcd", "xy"], ["abcd", "xz"]) == pytest.approx(1 / 6)
    assert cer(["ab"], ["abba"]) == 1.0  # insertions count: a rate can pass 1
    with pytest.raises(ValueError):
        cer(["a"], [])
    assert edit_distance("the cat sat".split(), "the sat down".split()) == 2  # over words


def test_save_load_round_trip_is_exact(toy: Recogniser, tmp_path: Path) -> None:
    toy.save(tmp_path / "rec.safetensors")
    meta = json.loads((tmp_path / "rec.json").read_text())
    assert meta["chars"] == CHARS and meta["report"]["steps"] == 250
    back = Recogniser.load(tmp_path / "rec.safetensors")
    for (k, a), (k2, b) in zip(toy.net.state_dict().items(), back.net.state_dict().items(),
                               strict=True):
        assert k == k2 and torch.equal(a, b)
    rng = np.random.default_rng(2)
    seqs = [_spell(w, rng) for w in _words(8, rng)] + [np.zeros((0, 7), np.float32)]
    assert back.read(seqs) == toy.read(seqs) and back.read(seqs)[-1] == ""
    assert (tmp_path / "rec.safetensors").read_bytes()[:1] != b"\x80"  # not a pickle


def test_short_pairs_are_left_out() -> None:
    rng = np.random.default_rng(3)
    pairs = [(_spell("abc", rng), "abc"), (np.zeros((2, 7), np.float32), "abcdef")]
    rec = train_recogniser(pairs, CHARS, RecogniserSettings(hidden=8, layers=1), steps=2)
    assert rec.report.pairs == 1 and rec.report.skipped == 1
    with pytest.raises(ValueError):
        train_recogniser(pairs, CHARS)


def _ink_eval(runner: CliRunner, *args: object) -> object:
    """``seqgen ink-eval`` on a private app (the real one stays as docs/cli.md describes it)."""
    import typer

    from seqgen import plugins

    local = typer.Typer()

    @local.callback()
    def root() -> None:
        """A private app."""

    plugins.register_commands(local)
    return runner.invoke(local, ["ink-eval", *[str(a) for a in args]], catch_exceptions=False)


def _tiny_handwriting(root: Path, runner: CliRunner) -> Path:
    out = cli(runner, "train", "--domain", "handwriting", *TINY, "-o", "lines=30",
              "-o", "max_chars=5", "--max-steps", "2", "--batch-size", "4", "--seed", "1",
              "--run", root / "hw")
    assert out.exit_code == 0, out.output
    return root / "hw"


def test_ink_eval_end_to_end(runner: CliRunner, tmp_path: Path) -> None:
    run = _tiny_handwriting(tmp_path, runner)
    args = ["--run", run, "--num", "3", "--train-seconds", "1", "--seed", "2"]
    first = _ink_eval(runner, *args, "--json", "ink.json")
    assert first.exit_code == 0, first.output
    for row in ("cer_real", "cer_samples", "cer_ratio", "recogniser_train_seconds",
                "recogniser_cached"):
        assert row in first.stdout
    assert "read_real=" in first.stdout and "read_sample=" in first.stdout
    got = json.loads(Path("ink.json").read_text())
    assert got["lines"] == 3 and len(got["rows"]) == 3 and got["cer_real"] >= 0
    assert got["recogniser_cached"] is False and got["recogniser_train_lines"] > 0
    assert "training the recogniser" in first.stderr
    assert list((tmp_path / "cache" / "recognisers").glob("handwriting-*.safetensors"))
    chars = json.loads((run / "config.json").read_text())["condition"]["chars"].strip()
    Path("mine.txt").write_text(f"{chars[:4]}\n\n{chars[-3:]}\n", encoding="utf-8")
    again = _ink_eval(runner, *args, "--json", "again.json", "--texts", "mine.txt")
    assert again.exit_code == 0, again.output
    back = json.loads(Path("again.json").read_text())  # the cached recogniser: no training
    assert back["recogniser_cached"] is True and "training the recogniser" not in again.stderr
    assert back["rows"] == got["rows"]  # same recogniser, same seed: the same read-backs
    assert back["cer_texts"] >= 0 and [r["text"] for r in back["text_rows"]] == [
        chars[:4], chars[-3:]]
    Path("bad.txt").write_text("\u20ac\n", encoding="utf-8")
    assert "alphabet" in one_line_error(_ink_eval(runner, *args, "--texts", "bad.txt"))


def test_ink_eval_bad_input(runner: CliRunner, corpus: Path) -> None:
    out = cli(runner, "train", "--domain", "text", *TINY, "--data", corpus, "--max-steps", "2",
              "--run", "textrun")
    assert out.exit_code == 0, out.output
    assert "handwriting" in one_line_error(_ink_eval(runner, "--run", "textrun"))
    assert "--num" in one_line_error(_ink_eval(runner, "--run", "textrun", "--num", "0"))
