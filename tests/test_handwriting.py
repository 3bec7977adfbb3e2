"""The handwriting domain untrained: readers, codec, synthetic corpus, renderers, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from typer.testing import CliRunner

from seqgen.domain import parse_options
from seqgen.errors import SeqgenError
from seqgen.render import render
from seqgen_handwriting import markup, npy, readers, svg, synth
from seqgen_handwriting.domain import HandwritingDomain, HandwritingOptions
from seqgen_handwriting.ink import Ink, Page, from_polylines, to_polylines
from seqgen_handwriting.render import Style, inkml_text, svg_text

from conftest import cli, one_line_error

SVG_NS = "{http://www.w3.org/2000/svg}"
INK_NS = "{http://www.w3.org/2003/InkML}"
SQUARE = [np.array([[0, 0], [10, 0], [10, 10]], float), np.array([[20, 5], [25, 8]], float)]


def _ink(text: str | None = "ab") -> Ink:
    return Ink.from_polylines(SQUARE, text)


def _domain(**opts: object) -> HandwritingDomain:
    return HandwritingDomain(parse_options(HandwritingOptions, dict(opts)))


# ---- ink ------------------------------------------------------------------------------------
def test_offsets_and_polylines_round_trip() -> None:
    rows = from_polylines(SQUARE)
    assert rows.shape == (5, 3) and rows.dtype == np.float32
    assert rows[:, 2].tolist() == [0, 0, 1, 0, 1]
    assert rows[0].tolist() == [0, 0, 0]  # the first point is the origin
    back = to_polylines(rows)
    assert [len(p) for p in back] == [3, 2]
    assert np.allclose(back[1], SQUARE[1] - SQUARE[0][0])


def test_stride_thins_strokes_keeping_their_ends() -> None:
    from seqgen_handwriting.ink import thin

    ink = Ink.from_polylines([np.c_[np.arange(10.0), np.zeros(10)], np.array([[20.0, 0.0]])])
    thinned = thin(ink, 3)
    assert [len(p) for p in thinned.polylines()] == [4, 1]  # points 0, 3, 6 and the end, 9
    assert np.allclose(thinned.polylines()[1], ink.polylines()[1])
    full = _domain(lines=6, max_chars=10, stride=1).load_corpus(None).documents
    coarse = _domain(lines=6, max_chars=10).load_corpus(None).documents  # stride 3 by default
    assert sum(len(d) for d in coarse) < 0.45 * sum(len(d) for d in full)


# ---- readers --------------------------------------------------------------------------------
IAM_XML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<WhiteboardCaptureSession>
  <WhiteboardDescription><SensorLocation corner="top_left"/></WhiteboardDescription>
  <StrokeSet>
    <Stroke colour="black" start_time="1.0" end_time="1.2">
      <Point x="1000" y="500" time="1.0"/><Point x="1010" y="520" time="1.1"/>
      <Point x="1020" y="510" time="1.2"/>
    </Stroke>
    <Stroke colour="black" start_time="1.3" end_time="1.4">
      <Point x="1040" y="505" time="1.3"/><Point x="1045" y="500" time="1.4"/>
    </Stroke>
  </StrokeSet>
</WhiteboardCaptureSession>
"""
IAM_ASCII = "OCR:\n\nA MOVE to stop\nMr. Gaitskell\n\nCSR:\n\nA MOVE to stop\nMr. Gaitskell\n"


def _iam_tree(root: Path) -> Path:
    for n in (1, 2):
        f = root / "lineStrokes" / "a01" / "a01-000" / f"a01-000u-0{n}.xml"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(IAM_XML, encoding="ISO-8859-1")
    a = root / "ascii" / "a01" / "a01-000" / "a01-000u.txt"
    a.parent.mkdir(parents=True)
    a.write_text(IAM_ASCII)
    return root


def test_iam_reader_with_transcriptions(tmp_path: Path) -> None:
    docs, key = readers.read_source(str(_iam_tree(tmp_path / "iam")))
    assert [d.text for d in docs] == ["A MOVE to stop", "Mr. Gaitskell"]
    assert docs[0].strokes.shape == (5, 3) and docs[0].strokes[:, 2].tolist() == [0, 0, 1, 0, 1]
    # screen y (down) becomes y up: the second point is 20 units *below* the first
    assert docs[0].strokes[1, :2].tolist() == [10, -20]
    assert len(key) == 64
    # without the ascii tree there is no text, and synthesis refuses the corpus in one line
    alone = tmp_path / "lineStrokes" / "x.xml"
    alone.parent.mkdir()
    alone.write_text(IAM_XML)
    assert readers.read_iam(alone).text is None
    with pytest.raises(SeqgenError, match="mode=prediction"):
        _domain().load_corpus(str(alone))
    assert _domain(mode="prediction").load_corpus(str(alone)).documents


def test_strokes_npy_reader_and_writer(tmp_path: Path) -> None:
    lines = np.empty(2, dtype=object)
    lines[0] = np.array([[0, 0, 0], [0, 1, 2], [1, 3, -1], [0, 2, 2], [1, 1, 1]], np.float32)
    lines[1] = np.array([[0, 0, 0], [1, 5, 5]], np.float32)
    np.save(tmp_path / "strokes.npy", lines, allow_pickle=True)
    (tmp_path / "sentences.txt").write_text("hello\nhi\n")
    docs, _ = readers.read_source(str(tmp_path))  # the folder or the .npy path
    assert [d.text for d in docs] == ["hello", "hi"]
    assert docs[0].strokes[:, 2].tolist() == [0, 0, 1, 0, 1]  # (eos, dx, dy) -> (dx, dy, eos)
    assert docs[0].strokes[2, :2].tolist() == [3, -1]
    out = tmp_path / "again"
    npy.write_npy(docs, out)
    again = npy.read_npy(out / "strokes.npy")
    assert all(np.allclose(a.strokes, b.strokes) for a, b in zip(docs, again, strict=True))


def test_inkml_write_read_round_trip(tmp_path: Path) -> None:
    ink = _ink("ab")
    path = tmp_path / "one.inkml"
    path.write_text(inkml_text(ink))
    root = ET.parse(path).getroot()  # an independent parser
    traces = root.findall(f".//{INK_NS}trace")
    assert [len(t.text.split(",")) for t in traces] == [3, 2]
    (back,) = markup.read_inkml(path)
    assert back.text == "ab" and np.allclose(back.strokes, ink.strokes, atol=1e-3)
    page = tmp_path / "page.inkml"
    page.write_text(inkml_text(Page([_ink("ab"), _ink("cd")])))
    assert [d.text for d in markup.read_inkml(page)] == ["ab", "cd"]


def test_inkml_difference_coded_traces(tmp_path: Path) -> None:
    # qualifiers stick to their channel: ' velocity, " acceleration (the InkML spec's example)
    pts = markup.parse_trace("10 20, '1'2, 1 2, \"0\"1", tmp_path)
    assert pts.tolist() == [[10, 20], [11, 22], [12, 24], [13, 27]]
    spec = markup.parse_trace("1125 18432,'23'43,\"7\"-8,3-5", tmp_path)
    assert spec.tolist() == [[1125, 18432], [1148, 18475], [1178, 18510], [1211, 18540]]
    assert markup.parse_trace("1 2 0.5, 3 4 0.7", tmp_path).shape == (2, 2)  # extra channel


def test_svg_reader_paths_polylines_curves(tmp_path: Path) -> None:
    f = tmp_path / "ink.svg"
    f.write_text('<svg xmlns="http://www.w3.org/2000/svg"><title>hey</title>'
                 '<path d="M10 10 L20 10 l0 10 H40 v-5"/><polyline points="0,0 5,5 10,0"/>'
                 '<path d="M0 0 C10 0 10 10 0 10"/></svg>')
    (doc,) = svg.read_svg(f)
    polys = doc.polylines()
    assert doc.text == "hey" and [len(p) for p in polys] == [5, 3, 9]
    assert np.allclose(polys[0][-1] - polys[0][0], [30, -5])  # y flipped: down 10, up 5
    ours = tmp_path / "ours.svg"
    ours.write_text(svg_text(Page([_ink("ab"), _ink("cd")]), Style(smooth=0)))
    assert [d.text for d in svg.read_svg(ours)] == ["ab", "cd"]
    assert [len(p) for p in svg.read_svg(ours)[1].polylines()] == [3, 2]


# ---- codec ----------------------------------------------------------------------------------
def test_encode_decode_and_state_through_json() -> None:
    dom = _domain(lines=12, max_chars=12)
    docs = list(dom.load_corpus(None).documents)
    dom.fit(docs)
    enc = dom.encode(docs[0])
    assert enc.shape == (len(docs[0]) - 1, 3) and enc.dtype == np.float32  # origin row dropped
    allenc = np.concatenate([dom.encode(d) for d in docs])
    assert np.allclose(allenc[:, :2].mean(0), 0, atol=0.05)
    assert np.allclose(allenc[:, :2].std(0), 1, atol=0.05)
    # the origin row is not sampled: decoding starts at the first real point
    assert np.allclose(dom.decode(enc).strokes, docs[0].strokes[1:], atol=1e-4)
    state = json.loads(json.dumps(dom.get_state()))
    again = HandwritingDomain(dom.options, state=state)
    assert np.allclose(again.encode(docs[1]), dom.encode(docs[1]))
    assert state["points_per_line"] == pytest.approx(len(allenc) / len(docs))
    assert again.length_rule(None)[0] == round(state["points_per_line"])  # one line's worth
    assert again.length_rule("50")[0] == 50
    m = again.metrics(-2.0, {"sse": 0.5})
    assert m["nats/point"] == -2.0 and m["sse"] == 0.5
    assert m["nats/sequence"] == pytest.approx(-2.0 * state["points_per_line"])
    steps, text = again.style_prime(0)
    assert text and steps.shape[1] == 3 and len(state["styles"]) == 8
    with pytest.raises(SeqgenError, match="0 to 7"):
        again.style_prime(8)


def test_conformance_kit() -> None:
    from seqgen.testing import check_domain

    check_domain(HandwritingDomain, options={"lines": 16, "max_chars": 10})


# ---- the synthetic corpus -------------------------------------------------------------------
def test_synthetic_corpus_covers_every_character_and_is_deterministic() -> None:
    docs = synth.generate(400, 6)
    again = synth.generate(60, 6)  # line i depends only on (seed, i): same lines, same ink
    assert all(np.array_equal(a.strokes, b.strokes) and a.text == b.text
               for a, b in zip(docs[:60], again, strict=True))
    seen = set("".join(d.text or "" for d in docs))
    wanted = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()")
    assert wanted <= seen, sorted(wanted - seen)
    points = sum(len(d) for d in docs)
    letters = sum(len((d.text or "").replace(" ", "")) for d in docs)
    assert 25 < points / letters < 40  # IAM-OnDB density, not the raw font's ~16
    rows = np.concatenate([d.strokes for d in docs])
    assert np.isfinite(rows).all() and np.abs(rows[:, :2]).max() < 150
    assert synth.params_key(400, 6, 32, 0) != synth.params_key(400, 6, 32, 1)


def test_writers_differ_measurably() -> None:
    docs = synth.generate(120, 4)

    def slant(d: Ink) -> float:  # x moved per unit of y along the pen-down offsets
        r = d.strokes.astype(float)
        down = r[1:][r[:-1, 2] < 0.5]
        return float((down[:, 0] * down[:, 1]).sum() / (down[:, 1] ** 2).sum())

    by_writer: dict[int, list[float]] = {}
    for d in docs:
        by_writer.setdefault(int(d.writer or 0), []).append(slant(d))
    means = sorted(float(np.mean(v)) for v in by_writer.values())
    spread = max(float(np.std(v)) for v in by_writer.values())
    assert len(means) == 4 and means[-1] - means[0] > 3 * spread


def test_corpus_cache(tmp_path: Path) -> None:
    a, key = synth.load_or_generate(tmp_path, 10, 3, 16)
    assert len(list(tmp_path.glob("synthetic-*.npz"))) == 1
    b, key2 = synth.load_or_generate(tmp_path, 10, 3, 16)  # from the cache
    assert key == key2 and [d.text for d in a] == [d.text for d in b]
    assert all(np.array_equal(x.strokes, y.strokes) for x, y in zip(a, b, strict=True))
    assert [d.writer for d in b] == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


# ---- renderers ------------------------------------------------------------------------------
def test_svg_renderer_paths_and_options(tmp_path: Path) -> None:
    dom = _domain(stroke_width=3.5, color="#123456", smooth=0)
    (path,) = render(dom, [_ink()], tmp_path / "out.svg")
    root = ET.parse(path).getroot()
    paths = root.findall(f".//{SVG_NS}path")
    assert len(paths) == 2
    assert [p.get("d").count(" ") // 2 + 1 for p in paths] == [3, 2]  # points per stroke
    g = root.find(f"{SVG_NS}g")
    assert g.get("stroke") == "#123456" and g.get("stroke-width") == "3.5"
    assert g.get("stroke-linecap") == "round" and g.get("fill") == "none"

    plot = _domain(plotter=True, smooth=0)
    (path,) = render(plot, [_ink()], tmp_path / "plot.svg")
    root = ET.parse(path).getroot()
    lines = root.findall(f".//{SVG_NS}polyline")
    assert [len(p.get("points").split()) for p in lines] == [3, 2]
    assert not root.findall(f".//{SVG_NS}path") and not root.findall(f".//{SVG_NS}rect")
    assert root.find(f"{SVG_NS}g").get("stroke-linecap") is None

    anim = ET.fromstring(svg_text(_ink(), Style(animate=True, speed=10)))
    steps = anim.findall(f".//{SVG_NS}animate")
    assert len(steps) == 2 and all(a.get("attributeName") == "stroke-dashoffset" for a in steps)
    assert [float(a.get("begin").rstrip("s")) for a in steps] == [0.0, 0.4]  # 3 points + pen-up
    assert float(steps[1].get("dur").rstrip("s")) == pytest.approx(0.2)


def test_smooth_curves_pass_through_the_points() -> None:
    root = ET.fromstring(svg_text(_ink(), Style(smooth=4)))
    paths = root.findall(f".//{SVG_NS}path")
    coords = [np.array(p.get("d").replace("M", "").replace("L", " ").split(), float)
              .reshape(-1, 2) for p in paths]
    assert [len(c) for c in coords] == [2 * 4 + 1, 2]  # 2 segments x 4 sub-steps; a straight
    raw = ET.fromstring(svg_text(_ink(), Style(smooth=0))).findall(f".//{SVG_NS}path")
    corners = np.array(raw[0].get("d").replace("M", "").replace("L", " ").split(), float)
    for corner in corners.reshape(-1, 2):
        assert np.hypot(*(coords[0] - corner).T).min() < 0.01


def test_page_lays_lines_top_to_bottom() -> None:
    root = ET.fromstring(svg_text(Page([_ink("ab"), _ink("cd"), _ink("ef")])))
    groups = root.findall(f"{SVG_NS}g")
    assert [g.get("data-text") for g in groups] == ["ab", "cd", "ef"]
    tops = []
    for g in groups:
        ys = [float(v) for p in g.findall(f"{SVG_NS}path")
              for v in p.get("d").replace("M", "").replace("L", " ").split()[1::2]]
        tops.append((min(ys), max(ys)))
    assert tops[0][1] < tops[1][0] and tops[1][1] < tops[2][0]


def test_png_renderer(tmp_path: Path) -> None:
    from PIL import Image

    (path,) = render(_domain(), [_ink()], tmp_path / "out.png")
    svg = ET.fromstring(svg_text(_ink()))
    with Image.open(path) as im:
        assert im.size == (round(float(svg.get("width"))), round(float(svg.get("height"))))
        gray = np.asarray(im.convert("L"))
    assert gray.min() < 100 and gray.max() > 200  # ink on paper
    assert 0.005 < (gray < 128).mean() < 0.5


def test_png_matplotlib_fallback(tmp_path: Path) -> None:
    from PIL import Image

    from seqgen_handwriting.render import _png_matplotlib

    _png_matplotlib(_ink(), tmp_path / "m.png", Style())
    with Image.open(tmp_path / "m.png") as im:
        gray = np.asarray(im.convert("L"))
    assert gray.min() < 100 and gray.max() > 200


def test_inkml_renderer_numbers_files(tmp_path: Path) -> None:
    paths = render(_domain(), [_ink("ab"), _ink("cd")], tmp_path / "out.inkml")
    assert [p.name for p in paths] == ["out-1.inkml", "out-2.inkml"]
    root = ET.parse(paths[1]).getroot()
    assert root.find(f".//{INK_NS}annotation").text == "cd"
    assert len(root.findall(f".//{INK_NS}trace")) == 2


# ---- bad input ------------------------------------------------------------------------------
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<WhiteboardCaptureSession><StrokeSet><Stroke><Point x="&lol3;" y="1"/></Stroke></StrokeSet>
</WhiteboardCaptureSession>
"""


def _nan_npy(p: Path) -> None:
    np.save(p, np.array([[0, 1, 2], [1, np.nan, 2]], np.float32))


def _wrong_shape_npy(p: Path) -> None:
    np.save(p, np.zeros((4, 2), np.float32))


def _empty_npy(p: Path) -> None:
    np.save(p, np.zeros((0, 3), np.float32))


@pytest.mark.parametrize("name, content, expected", [
    ("bad.xml", "<WhiteboardCaptureSession><StrokeSet>", "malformed XML"),
    ("bad.inkml", "<ink><trace>1 2, 3</trace>", "malformed XML"),
    ("short.inkml", "<ink><trace>1 2, 3</trace></ink>", "fewer than 2 values"),
    ("nan.inkml", "<ink><trace>1 2, nan 3</trace></ink>", "fewer than 2 values"),
    ("empty.xml", "<WhiteboardCaptureSession><StrokeSet><Stroke/></StrokeSet>"
                  "</WhiteboardCaptureSession>", "empty strokes"),
    ("laughs.xml", BILLION_LAUGHS, "refused unsafe XML"),
    ("nan.npy", _nan_npy, "NaN"),
    ("shape.npy", _wrong_shape_npy, "(T, 3)"),
    ("empty.npy", _empty_npy, "empty strokes"),
    ("other.txt", "hello", "cannot read .txt"),
])
def test_bad_input_is_one_line_exit_2(runner: CliRunner, tmp_path: Path, name: str,
                                      content: object, expected: str) -> None:
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_text(str(content))
    result = cli(runner, "train", "--domain", "handwriting", "--data", path,
                 "-o", "mode=prediction", "--preset", "tiny", "--quiet")
    line = one_line_error(result)
    assert expected in line and str(path) in line, line


def test_defusedxml_refuses_billion_laughs_directly(tmp_path: Path) -> None:
    f = tmp_path / "lol.inkml"
    f.write_text(BILLION_LAUGHS.replace("WhiteboardCaptureSession", "ink"))
    with pytest.raises(SeqgenError, match="refused unsafe XML"):
        markup.read_inkml(f)


def test_npy_with_arbitrary_pickle_is_refused(tmp_path: Path) -> None:
    import os

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("touch pwned",))

    arr = np.empty(1, dtype=object)
    arr[0] = Evil()
    np.save(tmp_path / "strokes.npy", arr, allow_pickle=True)
    with pytest.raises(SeqgenError, match="not allowed"):
        npy.read_npy(tmp_path / "strokes.npy")
    assert not Path("pwned").exists()


def test_unknown_option_and_choices(runner: CliRunner) -> None:
    out = cli(runner, "domains", "--options", "handwriting")
    assert out.exit_code == 0
    for name in ("mode", "stroke_width", "color", "plotter", "animate", "lines", "writers"):
        assert name in out.stdout
    rows = {ln.split("│")[1].strip(): ln for ln in out.stdout.splitlines() if ln.count("│") > 3}
    assert "│ sample" in rows["color"] and "│ train" in rows["stride"]  # the "when" column
    line = one_line_error(cli(runner, "train", "--domain", "handwriting", "-o", "mode=draw"))
    assert "synthesis" in line


def test_ink_command_renders_again_with_options(runner: CliRunner, tmp_path: Path) -> None:
    import typer

    from seqgen import plugins

    local = typer.Typer()

    @local.callback()
    def root() -> None:
        """A private app, so the real one is left as docs/cli.md describes it."""

    plugins.register_commands(local)
    src = tmp_path / "page.inkml"
    src.write_text(inkml_text(Page([_ink("ab"), _ink("cd")])))
    out = runner.invoke(local, ["ink", str(src), "--render", "plot.svg", "-o", "plotter=true",
                                "-o", "color=navy"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    root_el = ET.parse("plot.svg").getroot()
    assert len(root_el.findall(f".//{SVG_NS}polyline")) == 4
    assert {g.get("stroke") for g in root_el.findall(f"{SVG_NS}g")} == {"navy"}
    bad = runner.invoke(local, ["ink", str(src), "--render", "x.svg", "-o", "plotter=maybe"])
    assert one_line_error(bad).endswith("expected a bool")
