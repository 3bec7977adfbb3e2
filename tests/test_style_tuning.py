"""A saved style fine-tuned on (issue 27 item 3a, seqgen/style_tuning.py): `seqgen style tune
NAME` fine-tunes a tiny trained handwriting model on a style written by the project's own
synthetic writer, into a run in the cache named by the style's and the model's digests;
`--prime-style NAME` then samples with it (said on stderr) and `--no-tuned` does not; a
changed style or model is tuned afresh, and `style rm` removes the tuned runs too."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from test_handwriting_e2e import _strokes, _train
from typer.testing import CliRunner

from seqgen import style_tuning, styles
from seqgen_handwriting.domain import HandwritingDomain
from seqgen_handwriting.ink import Ink
from seqgen_handwriting.synth import make_writers, write_line

from conftest import cli, one_line_error

TEXTS = ["abc de", "fgh ij", "kl mno", "pqr st", "uvw xy"]  # the tiny model's alphabet


def _lines(texts: list[str], seed: int = 0) -> list[Ink]:
    writer = make_writers(3, 5)[2]  # a writer of its own, not the corpus's
    return [Ink.from_polylines(write_line(t, writer, np.random.default_rng(seed + k)), t)
            for k, t in enumerate(texts)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("tuning-run"))


def test_the_recipe() -> None:
    assert style_tuning.LR == 3e-4 and style_tuning.BATCH == 8
    assert [style_tuning.steps_for(n) for n in (1, 3, 5, 10, 20, 50)] == [20, 20, 30, 60, 120,
                                                                          120]


def test_tune_then_sample_with_it(runner: CliRunner, tiny: Path, tmp_path: Path) -> None:
    styles.save(HandwritingDomain(), "ann", _lines(TEXTS))
    assert style_tuning.tuned(tiny, "ann") is None
    out = cli(runner, "style", "tune", "ann", "--run", tiny)
    assert out.exit_code == 0, out.output
    run = Path(out.stdout.strip())
    assert run.parent == tmp_path / "cache/styles/handwriting" and run.name.startswith("ann-")
    assert style_tuning.tuned(tiny, "ann") == run
    config = json.loads((run / "config.json").read_text())
    assert config["init_from"]["path"] == str(tiny.resolve())
    assert config["style"]["name"] == "ann" and config["style"]["lines"] == 5
    train = config["train"]
    assert (train["lr"], train["batch_size"], train["max_steps"]) == (3e-4, 8, 30)
    assert train["val_fraction"] == 0 and "no validation" not in out.stderr
    assert config["data"]["source"] == str(tmp_path / "styles/handwriting/ann")
    assert not (run / "checkpoints").exists()  # only sampled: no resume state kept
    assert [p.name for p in run.parent.iterdir()] == [run.name]  # no training folder left
    again = cli(runner, "style", "tune", "ann", "--run", tiny)
    assert again.stdout.strip() == str(run) and "tuned already" in again.stderr
    args = ["sample", "--run", tiny, "--prime-style", "ann", "--text", "abc", "--seed", "1"]
    used = cli(runner, *args, "--render", "tuned.svg")
    assert used.exit_code == 0, used.output
    assert "using ann's fine-tuned weights" in used.stderr and _strokes(Path("tuned.svg"))
    own = cli(runner, *args, "--render", "own.svg", "--no-tuned")
    assert own.exit_code == 0 and "fine-tuned" not in own.stderr
    assert Path("own.svg").read_text() != Path("tuned.svg").read_text()
    number = cli(runner, "sample", "--run", tiny, "--prime-style", "0", "--text", "abc")
    assert number.exit_code == 0 and "fine-tuned" not in number.stderr


def test_a_changed_style_or_model_is_tuned_afresh(tiny: Path, tmp_path: Path) -> None:
    dom = HandwritingDomain()
    styles.save(dom, "bob", _lines(TEXTS[:3]))
    first = style_tuning.tune(tiny, "bob", quiet=True)
    styles.save(dom, "bob", _lines(["abc"], seed=7), "add")
    assert style_tuning.tuned(tiny, "bob") is None  # its lines changed: a new digest
    second = style_tuning.tune(tiny, "bob", quiet=True)
    assert second != first and second.name.split("-")[1] != first.name.split("-")[1]
    assert not first.exists()  # the style's run for its old lines is gone
    assert json.loads((second / "config.json").read_text())["train"]["max_steps"] == 24
    weights = tiny / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert style_tuning.tuned(tiny, "bob") is None  # the model changed: tuned afresh too
    assert style_tuning.model_digest(tiny) != second.name.split("-")[2]


def test_refusals_and_rm(runner: CliRunner, tiny: Path, tmp_path: Path) -> None:
    line = one_line_error(cli(runner, "style", "tune", "nobody", "--run", tiny))
    assert "no saved handwriting style 'nobody'" in line
    assert "not both" in one_line_error(cli(runner, "style", "tune", "x", "--run", tiny,
                                            "--model", "cursive"))
    assert "not 'text'" in one_line_error(cli(runner, "style", "tune", "x", "--run", tiny,
                                              "--domain", "text"))
    styles.save(HandwritingDomain(), "cid", _lines(TEXTS[:2]))
    run = style_tuning.tune(tiny, "cid", quiet=True)
    assert cli(runner, "style", "rm", "cid").exit_code == 0
    assert not run.exists()


def test_drawn_ink_trains_at_the_corpus_density() -> None:
    """A line (as --data reads it, after the stride) twice as dense as the corpus's lines is
    thinned by 2 for the fine-tune (``grow``); one at the corpus's density is kept whole."""
    ink = _lines(["abcdef"])[0]
    per_char, n = len(ink.strokes) / 6, len(ink.strokes)
    dom = HandwritingDomain()
    dom.set_state({"step": 1.0, "points_per_char": per_char})
    kept = Ink(ink.strokes.copy(), ink.text)
    dom.grow([kept])
    assert len(kept.strokes) == n
    dom.set_state({"step": 1.0, "points_per_char": per_char / 2})
    halved = Ink(ink.strokes.copy(), ink.text)
    dom.grow([halved])
    assert 0.4 < len(halved.strokes) / n < 0.65 and halved.text == "abcdef"
