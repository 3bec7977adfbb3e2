"""The handwriting domain end to end through the CLI: train tiny models, sample, render, eval."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from typer.testing import CliRunner

from seqgen_handwriting.ink import Ink
from seqgen_handwriting.render import inkml_text

from conftest import TINY, cli, one_line_error

SVG_NS = "{http://www.w3.org/2000/svg}"
SMALL_CORPUS = ["-o", "lines=16", "-o", "max_chars=6"]


def _train(root: Path, *extra: str) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("SEQGEN_RUNS", str(root / "runs"))
        mp.setenv("SEQGEN_CACHE", str(root / "cache"))
        result = cli(CliRunner(), "train", "--domain", "handwriting", *TINY, *SMALL_CORPUS,
                     "--max-steps", "2", "--batch-size", "4", "--seed", "1",
                     "--run", str(root / "run"), *extra)
        assert result.exit_code == 0, result.output
    return root / "run"


@pytest.fixture(scope="module")
def synthesis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield _train(tmp_path_factory.mktemp("synthesis"))


def _strokes(svg: Path) -> list[ET.Element]:
    return ET.parse(svg).getroot().findall(f".//{SVG_NS}path")


def test_sample_text_to_svg_is_reproducible(runner: CliRunner, synthesis: Path) -> None:
    args = ["sample", "--run", synthesis, "--text", "hi", "--seed", "1"]
    a = cli(runner, *args, "--render", "a.svg", "--attention", "att.png")
    assert a.exit_code == 0, a.output
    assert _strokes(Path("a.svg"))  # real ink, readable by an independent parser
    assert Path("att.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli(runner, *args, "--render", "b.svg").exit_code == 0
    assert Path("a.svg").read_text() == Path("b.svg").read_text()  # same seed, same ink
    assert cli(runner, *args[:-1], "2", "--render", "c.svg").exit_code == 0
    assert Path("c.svg").read_text() != Path("a.svg").read_text()


def test_render_options_at_sample_time(runner: CliRunner, synthesis: Path) -> None:
    args = ["sample", "--run", synthesis, "--text", "hi", "--seed", "1"]
    out = cli(runner, *args, "-o", "color=#ff0000", "-o", "stroke_width=5",
              "--render", "red.svg")
    assert out.exit_code == 0, out.output
    assert _strokes(Path("red.svg"))
    lines = ET.parse("red.svg").getroot().findall(f"{SVG_NS}g")
    assert lines and all(g.get("stroke") == "#ff0000" for g in lines)
    assert all(float(g.get("stroke-width", 0)) == 5 for g in lines)
    line = one_line_error(cli(runner, *args, "-o", "stride=1", "--render", "x.svg"))
    assert "stride was fixed when the model was trained" in line and "color" in line
    assert not Path("x.svg").exists()
    assert "unknown option 'colour'" in one_line_error(cli(runner, *args, "-o", "colour=red"))
    # the run's own options are untouched: the next plain sample is black again
    assert cli(runner, *args, "--render", "plain.svg").exit_code == 0
    assert all(g.get("stroke") == "black" for g in
               ET.parse("plain.svg").getroot().findall(f"{SVG_NS}g"))


def test_bias_and_the_stop_cap(synthesis: Path) -> None:
    import seqgen
    model = seqgen.load(synthesis)
    spread = []
    for bias in (0.0, 3.0):
        (ink,) = model.sample(text="hi", bias=bias, seed=3)
        assert isinstance(ink, Ink)
        cap = model.domain.max_steps_per_char
        assert cap == int(np.ceil(3 * model.domain.points_per_char))
        assert len(ink.strokes) - 1 <= cap * len("hi")
        enc = model.domain.encode(ink)
        spread.append(float(np.std(np.diff(enc[:, :2], axis=0))))
    assert spread[1] < spread[0]  # bias shrinks the variances: a steadier hand


def test_multi_line_text_is_one_page(runner: CliRunner, synthesis: Path) -> None:
    out = cli(runner, "sample", "--run", synthesis, "--text", "hi\nho\nah", "--seed", "1",
              "--render", "page.svg", "--num", "2")
    assert out.exit_code == 0, out.output
    for name in ("page-1.svg", "page-2.svg"):
        groups = ET.parse(name).getroot().findall(f"{SVG_NS}g")
        assert len(groups) == 3


def test_style_and_file_primes(runner: CliRunner, synthesis: Path, tmp_path: Path) -> None:
    ok = cli(runner, "sample", "--run", synthesis, "--text", "hi", "--prime-style", "1",
             "--seed", "1", "--render", "styled.png")
    assert ok.exit_code == 0, ok.output and Path("styled.png").stat().st_size > 0
    line = one_line_error(cli(runner, "sample", "--run", synthesis, "--text", "hi",
                              "--prime-style", "99"))
    assert "0 to" in line
    mine = Ink.from_polylines([np.array([[0, 0], [3, 4], [6, 0]], float),
                               np.array([[9, 0], [9, 5]], float)], "ha")
    (tmp_path / "mine.inkml").write_text(inkml_text(mine))
    ok = cli(runner, "sample", "--run", synthesis, "--text", "hi", "--prime",
             tmp_path / "mine.inkml", "--seed", "1", "--render", "primed.svg")
    assert ok.exit_code == 0, ok.output
    mine.text = None
    (tmp_path / "bare.inkml").write_text(inkml_text(mine))
    line = one_line_error(cli(runner, "sample", "--run", synthesis, "--text", "hi",
                              "--prime", tmp_path / "bare.inkml"))
    assert "bare.inkml" in line and "transcription" in line


def test_text_outside_the_alphabet(runner: CliRunner, synthesis: Path) -> None:
    line = one_line_error(cli(runner, "sample", "--run", synthesis, "--text", "hi \u20ac"))
    assert "\u20ac" in line


def test_eval_reports_nats_per_point_and_sequence(runner: CliRunner, synthesis: Path) -> None:
    out = cli(runner, "eval", "--run", synthesis)
    assert out.exit_code == 0, out.output
    for name in ("nats/point", "nats/sequence", "sse"):
        assert name in out.stdout


def test_prediction_mode(runner: CliRunner, tmp_path: Path) -> None:
    run = _train(tmp_path, "-o", "mode=prediction")
    out = cli(runner, "sample", "--run", run, "--length", "40", "--seed", "1",
              "--render", "free.inkml")
    assert out.exit_code == 0, out.output
    traces = ET.parse("free.inkml").getroot().findall(".//{http://www.w3.org/2003/InkML}trace")
    assert sum(len(t.text.split(",")) for t in traces) == 40
    assert one_line_error(cli(runner, "sample", "--run", run, "--text", "hi"))
