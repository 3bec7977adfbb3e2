"""Handwriting file layouts from real projects (issue 12): sjvasquez/handwriting-synthesis's
style-N-strokes.npy + style-N-chars.npy, the column-order option, IAM-OnDB with CRLF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqgen.domain import parse_options
from seqgen.errors import SeqgenError
from seqgen_handwriting import npy, readers
from seqgen_handwriting.domain import HandwritingDomain, HandwritingOptions

from conftest import TINY, cli, one_line_error

#: two strokes, y up, as prepare_data.get_stroke_sequence leaves them before coords_to_offsets
STROKES = [np.array([[0.0, 0.0], [1.5, 2.5], [3.0, 0.5]]), np.array([[4.0, 1.2], [5.5, 1.7]])]


def _offsets(strokes: list[np.ndarray]) -> np.ndarray:
    """sjvasquez's drawing.coords_to_offsets: rows (dx, dy, eos), a (0, 0, 1) row first."""
    coords = np.concatenate([np.c_[s, np.r_[np.zeros(len(s) - 1), 1.0]] for s in strokes])
    rows = np.c_[np.diff(coords[:, :2], axis=0), coords[1:, 2]]
    return np.concatenate([[[0.0, 0.0, 1.0]], rows]).astype(np.float32)


def _pair(folder: Path, n: int, text: str, strokes: list[np.ndarray] = STROKES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"style-{n}-strokes.npy", _offsets(strokes))
    np.save(folder / f"style-{n}-chars.npy", np.array(text.encode()))  # 0-d bytes, no pickle
    return folder / f"style-{n}-strokes.npy"


def _domain(**opts: object) -> HandwritingDomain:
    return HandwritingDomain(parse_options(HandwritingOptions, dict(opts)))


def test_sjvasquez_pair_reads_as_dx_dy_eos_with_its_text(tmp_path: Path) -> None:
    _pair(tmp_path / "styles", 3, "hello there")
    docs, _ = readers.read_source(str(tmp_path / "styles"))  # the chars file is not ink
    assert len(docs) == 1 and docs[0].text == "hello there"
    polys = docs[0].polylines()
    # the first point begins the first stroke (the (0, 0, 1) row is a start token, not a dot)
    assert [len(p) for p in polys] == [3, 2]
    assert np.allclose(polys[0], STROKES[0]) and np.allclose(polys[1], STROKES[1])
    assert polys[0][1, 1] > polys[0][0, 1]  # y up, as written: the peak stays on top
    assert np.ptp(np.concatenate(polys)[:, 0]) == pytest.approx(5.5)  # extent, not a scribble


def test_eos_column_detected_in_either_layout(tmp_path: Path) -> None:
    rows = npy.read_npy(_pair(tmp_path, 0, "x"))[0].strokes
    first = tmp_path / "first.npy"  # the same ink in the coding-challenge order
    np.save(first, rows[:, [2, 0, 1]])
    assert np.allclose(npy.read_npy(first)[0].strokes, rows)
    with pytest.raises(SeqgenError, match="last column holds values other than 0 and 1"):
        npy.read_npy(first, "eos-last")


@pytest.mark.parametrize("rows, why", [
    ([[0, 0, 0], [1, 0.5, 1], [0, 2.5, 0]], "both the first and the last column"),
    ([[0.5, 0, 0.5], [1, 0.5, 2], [0, 2.5, 0.5]], "neither the first nor the last"),
])
def test_ambiguous_layout_is_refused_naming_the_option(tmp_path: Path, runner: CliRunner,
                                                       rows: list[list[float]],
                                                       why: str) -> None:
    path = tmp_path / "line.npy"
    np.save(path, np.array(rows, np.float32))
    line = one_line_error(cli(runner, "train", "--domain", "handwriting", "--data", path,
                              "-o", "mode=prediction", *TINY))
    assert str(path) in line and why in line and "-o npy_layout=eos-last" in line
    if why.startswith("both"):  # the explicit option decides, either way
        last = _domain(mode="prediction", npy_layout="eos-last").load_corpus(str(path))
        first = _domain(mode="prediction", npy_layout="eos-first").load_corpus(str(path))
        assert last.documents[0].strokes[1].tolist() == [1, 0.5, 1]
        assert first.documents[0].strokes[1].tolist() == [0.5, 1, 1]


def test_chars_files_are_transcriptions_never_ink(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    styles = tmp_path / "styles"
    _pair(styles, 1, "one")
    _pair(styles, 2, "two")
    orphan = styles / "style-9-chars.npy"
    np.save(orphan, np.array(b"lost"))
    docs, key = readers.read_source(str(styles))
    assert sorted(d.text or "" for d in docs) == ["one", "two"]
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and str(orphan) in err and "skipped" in err
    with pytest.raises(SeqgenError, match="transcription of style-1-strokes.npy") as caught:
        readers.read_file(styles / "style-1-chars.npy")
    assert str(styles / "style-1-chars.npy") in str(caught.value)
    np.save(styles / "style-2-chars.npy", np.array(b"TWO"))  # a changed text: a new corpus
    assert readers.read_source(str(styles))[1] != key


def test_chars_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    strokes = _pair(tmp_path, 0, "x")
    np.save(tmp_path / "style-0-chars.npy", np.zeros((2, 2), np.float32))
    with pytest.raises(SeqgenError, match="0-d bytes array") as caught:
        npy.read_npy(strokes)
    assert "style-0-chars.npy" in str(caught.value)
    np.save(tmp_path / "style-0-chars.npy", np.frombuffer(b"codes", np.uint8))  # hand.py's
    assert npy.read_npy(strokes)[0].text == "codes"  # .tostring().decode() reads this too


def test_train_on_a_styles_folder_and_prime_with_a_pair(tmp_path: Path,
                                                        runner: CliRunner) -> None:
    rng = np.random.default_rng(0)
    words = ["ab", "ba", "abc", "cab", "bca", "acb"]
    for n in range(12):
        wiggle = [s + rng.normal(0, 0.2, s.shape) for s in STROKES * 3]
        _pair(tmp_path / "styles", n, words[n % len(words)], [w + [6.0 * k, 0]
                                                              for k, w in enumerate(wiggle)])
    run = tmp_path / "run"
    out = cli(runner, "train", "--domain", "handwriting", "--data", tmp_path / "styles", *TINY,
              "--max-steps", "2", "--batch-size", "4", "--seed", "1", "--run", run)
    assert out.exit_code == 0, out.output
    prime = tmp_path / "styles" / "style-0-strokes.npy"
    ok = cli(runner, "sample", "--run", run, "--text", "ab", "--prime", prime, "--seed", "1",
             "--render", "primed.svg")
    assert ok.exit_code == 0, ok.output
    assert Path("primed.svg").stat().st_size > 0
    line = one_line_error(cli(runner, "sample", "--run", run, "--text", "ab", "--prime",
                              tmp_path / "styles" / "style-0-chars.npy"))
    assert "style-0-chars.npy" in line and "style-0-strokes.npy" in line


IAM_XML = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<WhiteboardCaptureSession>\n'
           '<StrokeSet>\n<Stroke><Point x="1000" y="500"/><Point x="1010" y="520"/></Stroke>\n'
           '<Stroke><Point x="1040" y="505"/><Point x="1045" y="500"/></Stroke>\n</StrokeSet>\n'
           '</WhiteboardCaptureSession>\n')
IAM_ASCII = "OCR:\n\nA MOVE to stop\nMr. Gaitskell\n\nCSR: \n\nA MOVE to stop\nMr. Gaitskell\n"


def _iam(root: Path, newline: str) -> list[tuple[str | None, list[list[float]]]]:
    for n in (1, 2):
        f = root / "lineStrokes" / "a01" / "a01-000" / f"a01-000u-0{n}.xml"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(IAM_XML.replace("\n", newline).encode("latin-1"))
    a = root / "ascii" / "a01" / "a01-000" / "a01-000u.txt"
    a.parent.mkdir(parents=True, exist_ok=True)
    a.write_bytes(IAM_ASCII.replace("\n", newline).encode())
    docs, _ = readers.read_source(str(root / "lineStrokes"))
    return [(d.text, d.strokes.tolist()) for d in docs]


def test_iam_ondb_with_crlf_reads_identically(tmp_path: Path) -> None:
    unix = _iam(tmp_path / "lf", "\n")
    assert [t for t, _ in unix] == ["A MOVE to stop", "Mr. Gaitskell"]
    assert _iam(tmp_path / "crlf", "\r\n") == unix
