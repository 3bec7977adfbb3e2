"""InkML and SVG as real projects write them (issue 12): CROHME and ImadocSen transcriptions,
traceFormat channel orders, SVG transforms, bare movetos, arcs, shorthands, what is not ink."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from seqgen.domain import parse_options
from seqgen.errors import SeqgenError
from seqgen_handwriting import markup, svg
from seqgen_handwriting.domain import HandwritingDomain, HandwritingOptions

TRACES = ["985 3317, 990 3330, 1019 3340", "1030 3300, 1040 3350", "1100 3310, 1127 3365"]
INK = '<ink xmlns="http://www.w3.org/2003/InkML">'

CROHME = f"""<?xml version="1.0" encoding="UTF-8"?>
{INK}<traceFormat><channel name="X" type="decimal"/><channel name="Y" type="decimal"/>
</traceFormat>
<annotation type="writer">w123</annotation>
<annotation type="truth">$a&lt;\\frac{{b}}{{c}}$</annotation>
<annotation type="UI">2011_IVC_DEPT_F01_E01</annotation>
<annotationXML type="truth" encoding="Content-MathML"><math xmlns="http://www.w3.org/1998/Math/MathML">
<mi xml:id="A">a</mi></math></annotationXML>
{''.join(f'<trace id="{k}">{t}</trace>' for k, t in enumerate(TRACES))}
<traceGroup xml:id="7"><annotation type="truth">Segmentation</annotation>
<traceGroup xml:id="8"><annotation type="truth">a</annotation><annotationXML href="A"/>
<traceView traceDataRef="0"/></traceGroup></traceGroup></ink>
"""


def _imadoc(words: bool) -> str:
    def trace(k: int) -> str:
        return f'<trace id="t{k}" contextRef="#ctx">{TRACES[k]}</trace>'

    body = (f'<traceGroup><annotationXML type="Ground truth"><type>Word</type><label>you'
            f'</label></annotationXML>{trace(0)}{trace(1)}</traceGroup><traceGroup>'
            f'<annotationXML type="Ground truth"><type>Word</type><label>take</label>'
            f'</annotationXML>{trace(2)}</traceGroup>' if words else
            "".join(trace(k) for k in range(3)))
    return ('<ink><definitions><inkSource id="src"><traceFormat id="fmt"><channel name="X" '
            'type="integer" units="ink"/><channel name="Y" type="integer" units="ink"/>'
            '</traceFormat></inkSource><context id="ctx" inkSourceRef="#src"/></definitions>'
            '<annotationXML type="Writer characteristics"><name>writer10</name></annotationXML>'
            '<traceGroup><annotationXML type="Input zone"><page>1</page></annotationXML>'
            '<annotationXML type="Ground truth"><type>Sentence</type><label>you take</label>'
            f'</annotationXML>{body}</traceGroup></ink>')


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _plain(tmp_path: Path) -> np.ndarray:
    """The three traces in the default X, Y order, as the reference ink."""
    doc = f"{INK}{''.join(f'<trace>{t}</trace>' for t in TRACES)}</ink>"
    (ink,) = markup.read_inkml(_write(tmp_path, "plain.inkml", doc))
    return ink.strokes


def test_crohme_truth_is_the_transcription(tmp_path: Path) -> None:
    path = _write(tmp_path, "crohme.inkml", CROHME)
    (ink,) = markup.read_inkml(path)  # one expression: its symbol groups are not lines
    assert ink.text == "$a<\\frac{b}{c}$"
    assert np.array_equal(ink.strokes, _plain(tmp_path))
    dom = HandwritingDomain(parse_options(HandwritingOptions, {}))  # synthesis takes it
    assert dom.load_corpus(str(path)).documents[0].text == ink.text


@pytest.mark.parametrize("words", [False, True])
def test_imadocsen_ground_truth_label(tmp_path: Path, words: bool) -> None:
    (ink,) = markup.read_inkml(_write(tmp_path, "sentence1.inkml", _imadoc(words)))
    assert ink.text == "you take"  # the sentence, with its word groups inside it
    assert np.array_equal(ink.strokes, _plain(tmp_path))


@pytest.mark.parametrize("channels, order", [
    ("YX", lambda x, y: f"{y} {x}"),
    ("TXY", lambda x, y: f"7 {x} {y}"),
    ("XFTY", lambda x, y: f"{x} 1 99 {y}"),
])
def test_trace_format_channel_order(tmp_path: Path, channels: str,
                                    order: Callable[[str, str], str]) -> None:
    fmt = "".join(f'<channel name="{c}"/>' for c in channels)
    points = [[order(*p.split()) for p in t.split(", ")] for t in TRACES]
    traces = "".join(f"<trace>{', '.join(p)}</trace>" for p in points)
    doc = f"{INK}<traceFormat>{fmt}</traceFormat>{traces}</ink>"
    (ink,) = markup.read_inkml(_write(tmp_path, "order.inkml", doc))
    assert np.array_equal(ink.strokes, _plain(tmp_path))


def test_trace_formats_by_context_and_without_x(tmp_path: Path) -> None:
    doc = (f'{INK}<definitions><traceFormat id="xy"><channel name="X"/><channel name="Y"/>'
           '</traceFormat><traceFormat id="yx"><channel name="Y"/><channel name="X"/>'
           '</traceFormat><context id="a" traceFormatRef="#xy"/><context id="b" '
           'traceFormatRef="#yx"/></definitions><trace contextRef="#a">1 2, 3 5</trace>'
           '<trace contextRef="#b">2 1, 5 3</trace></ink>')
    (ink,) = markup.read_inkml(_write(tmp_path, "two.inkml", doc))
    a, b = ink.polylines()
    assert np.allclose(a[1] - a[0], b[1] - b[0])
    lost = _write(tmp_path, "lost.inkml", doc.replace(' contextRef="#b"', ""))
    with pytest.raises(SeqgenError, match="cannot tell X from Y") as caught:
        markup.read_inkml(lost)
    assert str(lost) in str(caught.value)
    nox = _write(tmp_path, "nox.inkml", f'{INK}<traceFormat><channel name="T"/><channel '
                 'name="Y"/></traceFormat><trace>1 2, 3 4</trace></ink>')
    with pytest.raises(SeqgenError, match="without X and Y"):
        markup.read_inkml(nox)


# ---- SVG --------------------------------------------------------------------------------------
SVG = '<svg xmlns="http://www.w3.org/2000/svg">'
#: potrace's page: in points, a viewBox (both are scaled alike: 4/3 px per pt)
POTRACE = ('<svg xmlns="http://www.w3.org/2000/svg" width="200pt" height="100pt" '
           'viewBox="0 0 200 100">')


def _svg(tmp_path: Path, name: str, body: str, head: str = SVG) -> list[np.ndarray]:
    (ink,) = svg.read_svg(_write(tmp_path, name, f"{head}{body}</svg>"))
    return ink.polylines()


def test_potrace_transform_comes_out_upright(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    plain = _svg(tmp_path, "plain.svg", '<path d="M10 80 L50 20 L90 80"/><path d="M10 90 '
                 'l30 0"/>', POTRACE)
    potrace = _svg(tmp_path, "potrace.svg", '<g transform="translate(0,100) scale(0.1,-0.1)" '
                   'fill="#000000" stroke="none"><path d="M100 200 L500 800 L900 200"/><path '
                   'd="M100 100 l300 0"/></g>', POTRACE)
    assert len(potrace) == len(plain) == 2
    assert all(np.allclose(a, b) for a, b in zip(potrace, plain, strict=True))
    assert potrace[0][1, 1] > potrace[0][0, 1]  # the apex is on top, not upside down
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "potrace.svg" in err and "filled outline" in err


def test_nested_transforms_compose(tmp_path: Path) -> None:
    (line,) = _svg(tmp_path, "nested.svg", '<g transform="translate(10,0)"><g '
                   'transform="rotate(90)"><path d="M0 0 L10 0"/></g></g>')
    assert np.allclose(line[1] - line[0], [0, -10])  # rotated down the screen: y up, -10
    (skew,) = _svg(tmp_path, "skew.svg", '<g transform="matrix(2 0 0 1 0 0) skewX(45)">'
                   '<polyline points="0,0 0,10"/></g>')
    assert np.allclose(skew[1] - skew[0], [20, -10])


def test_leading_bare_moveto_is_no_stroke(tmp_path: Path) -> None:
    # hand.py writes "M0,0 " before the first point of every line
    moved = _svg(tmp_path, "moved.svg", '<path d="M0,0 M110,50 L120,50 L120,60 M130,50 '
                 'L135,55"/>')
    plain = _svg(tmp_path, "plain.svg", '<path d="M110,50 L120,50 L120,60 M130,50 L135,55"/>')
    assert [len(p) for p in moved] == [3, 2]
    assert all(np.allclose(a, b) for a, b in zip(moved, plain, strict=True))


def test_arcs_and_smooth_shorthands(tmp_path: Path) -> None:
    (arc,) = _svg(tmp_path, "arc.svg", '<path d="M0 0 A10 10 0 0 1 20 0"/>')
    assert np.allclose(np.hypot(*(arc - arc[0] - [10, 0]).T), 10)  # on the circle
    assert (arc - arc[0])[:, 1].max() == pytest.approx(10)  # the upper half (y up)
    for short, full in [("M0 0 C0 10 10 10 10 0 S20 -10 20 0",
                         "M0 0 C0 10 10 10 10 0 C10 -10 20 -10 20 0"),
                        ("M0 0 Q5 10 10 0 T20 0", "M0 0 Q5 10 10 0 Q15 -10 20 0")]:
        (a,) = _svg(tmp_path, "short.svg", f'<path d="{short}"/>')
        (b,) = _svg(tmp_path, "full.svg", f'<path d="{full}"/>')
        assert len(a) == 17 and np.allclose(a, b)


def test_what_is_not_ink_is_skipped_with_one_warning(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    polys = _svg(tmp_path, "mixed.svg", '<rect width="100%" height="100%" fill="white"/><text>'
                 'hi</text><image href="x.png"/><rect x="5" y="5" width="9" height="9"/>'
                 '<circle cx="5" cy="5" r="3" stroke="black" fill="none"/><symbol id="s">'
                 '<path d="M0 0 L5 5"/></symbol><use href="#s" x="50"/><path d="M1 1 L2 2"/>')
    assert len(polys) == 3  # the stroked circle, the used symbol once, the path
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("mixed.svg" in line for line in err)
    assert "<image>, <text> skipped" in err[0] and "1 filled <rect>" in err[1]


@pytest.mark.parametrize("d, why", [
    ("M1 2 L3", "lacks arguments"),
    ("M1 2 X 3 4", "malformed near 'X 3 4'"),
    ("L1 2", "does not start with a moveto"),
])
def test_damaged_path_data_is_refused(tmp_path: Path, d: str, why: str) -> None:
    path = _write(tmp_path, "bad.svg", f'{SVG}<path d="{d}"/></svg>')
    with pytest.raises(SeqgenError, match=why) as caught:
        svg.read_svg(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_svg_that_svgelements_cannot_draw_is_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "loop.svg", f'{SVG}<g id="a"><use href="#a"/></g></svg>')
    with pytest.raises(SeqgenError, match="not a readable SVG") as caught:
        svg.read_svg(path)
    assert str(path) in str(caught.value)
    laughs = _write(tmp_path, "laughs.svg", '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>')
    with pytest.raises(SeqgenError, match="refused unsafe XML"):
        svg.read_svg(laughs)  # defusedxml still parses first
