"""Saved styles, a writer's own hand (issue 27): the store (save, add, replace, list, rm, names,
atomic writes), drawn ink to InkML and back, a style's lines joined into one prime, and
``seqgen style save`` of sjvasquez files then ``seqgen sample --prime-style NAME`` end to end
with a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_handwriting_e2e import _strokes, _train
from typer.testing import CliRunner

from seqgen import styles
from seqgen.errors import SeqgenError
from seqgen_handwriting.domain import HandwritingDomain
from seqgen_handwriting.hand import Drawn, choose, drawn_ink, joined
from seqgen_handwriting.ink import Ink, from_polylines
from seqgen_handwriting.synth import make_writers, write_line

from conftest import cli, one_line_error


def _ink(text: str, writer: int = 0, seed: int = 0) -> Ink:
    polys = write_line(text, make_writers(3, 0)[writer], np.random.default_rng(seed))
    return Ink.from_polylines(polys, text)


def write_sjvasquez(folder: Path, n: int, text: str, writer: int = 0) -> None:
    """sjvasquez/handwriting-synthesis's styles/ pair, made with the project's own writer:
    float32 (dx, dy, end_of_stroke) rows from a (0, 0, 1) start row, offsets normalised to a
    median length of 1; the text as a 0-d bytes array."""
    rows = from_polylines(write_line(text, make_writers(3, 0)[writer],
                                     np.random.default_rng(n)))
    rows[0] = (0.0, 0.0, 1.0)
    lengths = np.hypot(rows[1:, 0], rows[1:, 1])
    rows[1:, :2] /= np.median(lengths[lengths > 0])
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"style-{n}-strokes.npy", rows.astype(np.float32))
    np.save(folder / f"style-{n}-chars.npy", np.array(text.encode()))


# ---- the store --------------------------------------------------------------------------------
def test_the_root_is_seqgen_styles_or_xdg(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    assert styles.styles_root() == tmp_path / "styles"  # conftest: never the user's own
    monkeypatch.delenv("SEQGEN_STYLES")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert styles.styles_root() == tmp_path / "xdg" / "seqgen" / "styles"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert styles.styles_root() == tmp_path / "home" / ".local/share/seqgen/styles"


@pytest.mark.parametrize("bad", ["", "a" * 41, "a b", "../x", "a/b", "-x", "_x", ".x", "12",
                                 "é", "x\n", "x.y", None, 3])
def test_a_bad_name_is_one_line(bad: object) -> None:
    with pytest.raises(SeqgenError, match="letters, digits") as err:
        styles.check_name(bad)
    assert "\n" not in str(err.value)


def test_save_list_add_replace_rm(tmp_path: Path) -> None:
    dom = HandwritingDomain()
    saved = styles.save(dom, "ann_1", [_ink("one"), _ink("two")])
    assert saved.lines == 2 and saved.path == tmp_path / "styles/handwriting/ann_1"
    assert [p.name for p in saved.files] == ["0001.inkml", "0002.inkml"]
    assert [d.text for d in styles.load(dom, "ann_1")] == ["one", "two"]
    with pytest.raises(styles.StyleExists, match="exists"):
        styles.save(dom, "ann_1", [_ink("three")])
    assert styles.save(dom, "ann_1", [_ink("three")], "add").lines == 3
    assert [d.text for d in styles.load(dom, "ann_1")] == ["one", "two", "three"]
    assert styles.save(dom, "ann_1", [_ink("four")], "replace").lines == 1
    styles.save(dom, "Bob-2", [_ink("hi")])
    assert styles.names("handwriting") == ["Bob-2", "ann_1"]
    assert [s.name for s in styles.catalogue()] == ["Bob-2", "ann_1"]
    assert sorted(p.name for p in (tmp_path / "styles/handwriting").iterdir()) == [
        "Bob-2", "ann_1"]  # nothing else: no temporary folder left behind
    styles.remove("handwriting", "ann_1")
    assert styles.names("handwriting") == ["Bob-2"]
    with pytest.raises(SeqgenError, match=r"no saved handwriting style 'ann_1'.*saved: Bob-2"):
        styles.find("handwriting", "ann_1")
    with pytest.raises(SeqgenError, match="transcription"):
        styles.save(dom, "bare", [Ink(_ink("x").strokes, None)])


def test_a_failed_save_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Atomic: a style written half-way is never seen, and its hidden folder is removed; the
    style it would have replaced is untouched."""
    dom = HandwritingDomain()
    styles.save(dom, "kept", [_ink("old")])
    calls = {"n": 0}
    real = dom.write_example

    def failing(doc: object, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real(doc, path)
    monkeypatch.setattr(dom, "write_example", failing)
    for name, mode in (("new1", "new"), ("kept", "replace")):
        calls["n"] = 0
        with pytest.raises(OSError):
            styles.save(dom, name, [_ink("a"), _ink("b")], mode)
    assert styles.names("handwriting") == ["kept"]
    assert [d.text for d in styles.load(dom, "kept")] == ["old"]
    assert [p.name for p in (tmp_path / "styles/handwriting").iterdir()] == ["kept"]


def test_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    dom = HandwritingDomain()
    monkeypatch.setattr(styles, "MAX_LINES", 2)
    monkeypatch.setattr(styles, "MAX_STYLES", 1)
    with pytest.raises(SeqgenError, match="at most 2 lines"):
        styles.save(dom, "a", [_ink("x")] * 3)
    styles.save(dom, "a", [_ink("x")])
    with pytest.raises(SeqgenError, match="1 handwriting styles are saved already"):
        styles.save(dom, "b", [_ink("x")])


def test_parse_style() -> None:
    assert styles.parse_style("3") == 3 and styles.parse_style("-1") == -1
    assert styles.parse_style("ann") == "ann" and styles.parse_style(None) is None
    with pytest.raises(SeqgenError):
        styles.parse_style("a b")


# ---- drawn ink, InkML, one prime of several lines ---------------------------------------------
def test_drawn_ink_round_trips_through_inkml(tmp_path: Path) -> None:
    """Screen pixels, y down, with times: saved as InkML with a T channel and read back by the
    InkML reader as the same ink, y up (flipped as every screen-coordinate reader flips)."""
    strokes = [[[10, 20, 1000], [14, 26, 1016], [20, 30, 1033]], [[40, 5, 1200], [41, 6, 1216]]]
    ink = drawn_ink(strokes, "hi & <b>")
    assert isinstance(ink, Drawn) and [t.tolist() for t in ink.times] == [[0, 16, 33], [200, 216]]
    assert ink.polylines()[0][1].tolist() == [4, -6]  # y up
    dom = HandwritingDomain()
    dom.write_example(ink, tmp_path / "l.inkml")
    text = (tmp_path / "l.inkml").read_text()
    assert '<channel name="T"' in text and "16" in text
    (back,) = dom.read_examples(str(tmp_path / "l.inkml"))
    assert back.text == "hi & <b>"
    np.testing.assert_allclose(back.strokes, ink.strokes, atol=1e-2)
    with pytest.raises(SeqgenError, match="no points"):
        drawn_ink([[]], "x")
    with pytest.raises(SeqgenError, match="finite"):
        drawn_ink([[[1e9, 0, 0]]], "x")


def test_a_prime_is_the_latest_lines_that_fit() -> None:
    assert choose(["aaaa", "bb", "cc", "dddd"], 8) == [2, 3]  # "cc dddd": 7
    assert choose(["aaaa", "bb", "cc", "dddd"], 10) == [1, 2, 3]
    assert choose(["aaaa", "b" * 20, "cc"], 8) == [0, 2]  # a line too long is left out
    assert choose(["a" * 30, "b" * 20, "c" * 20], 8) == [2]  # none fits: the shortest alone
    assert choose(["aa", "bb"], None) == [1]
    ink = joined([_ink("ab"), _ink("cd", seed=1)])
    assert ink.text == "ab cd"
    a, c = _ink("ab").polylines(), ink.polylines()
    assert len(c) == len(a) + len(_ink("cd", seed=1).polylines())
    assert np.concatenate(c[len(a):])[:, 0].min() > np.concatenate(a)[:, 0].max()


def test_prime_from_scales_drawn_pixels_to_the_training_data() -> None:
    """Drawn ink (pixels, dense) comes out at the training data's points per character and
    median pen-down step."""
    dom = HandwritingDomain(state={"step": 2.0, "points_per_char": 5.0, "line_chars": 20})
    dense = _ink("hello", seed=3)
    big = Ink(dense.strokes * np.array([7.0, 7.0, 1.0], np.float32), "hello")  # "pixels"
    steps, text = dom.prime_from([_ink("old line"), big])
    assert text == "old line hello"
    one, _ = dom.prime_from([big])
    assert 0.5 < len(one) / (5.0 * 5) < 2.0  # about 5 points a character
    raw = one[:, :2] * dom.std + dom.mean
    pen = np.hypot(*raw[1:][one[:-1, 2] < 0.5].T)
    assert np.median(pen[pen > 0]) == pytest.approx(2.0, rel=0.05)


# ---- the command line, end to end ------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("styles-run"))


def test_style_save_then_prime_style_name(runner: CliRunner, tiny: Path,
                                          tmp_path: Path) -> None:
    import seqgen

    texts = seqgen.load(tiny).default_texts(3)  # lines in the model's own alphabet
    for n, text in enumerate(texts):
        write_sjvasquez(tmp_path / "sj", n, text, writer=n)
    out = cli(runner, "style", "save", "mine", tmp_path / "sj")
    assert out.exit_code == 0, out.output
    assert "3 lines" in out.stderr
    listed = cli(runner, "style", "list")
    assert listed.stdout.startswith("handwriting/mine\t3 lines")
    for style in ("mine", "0"):  # a saved name, and a number still picks a model's own style
        got = cli(runner, "sample", "--run", tiny, "--prime-style", style, "--text", texts[0],
                  "--seed", "1", "--render", f"{style}.svg")
        assert got.exit_code == 0, got.output
        assert _strokes(Path(f"{style}.svg"))
    line = one_line_error(cli(runner, "sample", "--run", tiny, "--prime-style", "nobody",
                              "--text", texts[0]))
    assert "nobody" in line and "saved: mine" in line
    assert "letters, digits" in one_line_error(cli(runner, "sample", "--run", tiny,
                                                   "--prime-style", "a b", "--text", "x"))
    assert "exists" in one_line_error(cli(runner, "style", "save", "mine", tmp_path / "sj"))
    assert cli(runner, "style", "rm", "mine").exit_code == 0
    assert "none saved yet" in one_line_error(cli(runner, "style", "rm", "mine"))
