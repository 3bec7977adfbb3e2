"""A text of several lines is a page in every renderer: lines top to bottom with space between
(issue 27 item 2): SVG, plotter SVG, animated SVG (drawn line after line), PNG and InkML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from seqgen_handwriting.ink import Ink, Page, from_polylines
from seqgen_handwriting.render import Style, inkml_text, svg_text, write_png

SVG = "{http://www.w3.org/2000/svg}"
INKML = "{http://www.w3.org/2003/InkML}"


def _line(text: str, seed: int) -> Ink:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.uniform(1, 3, 40))
    y = 6 * np.sin(x / 3) + rng.normal(0, 0.3, 40)
    return Ink(from_polylines([np.c_[x[:20], y[:20]], np.c_[x[20:], y[20:]]]), text)


PAGE = Page([_line("first line", 1), _line("second", 2), _line("third", 3)])


def _ys(group: ET.Element) -> tuple[float, float]:
    nums = []
    for el in group:
        raw = el.get("points") or el.get("d") or ""
        nums += [float(v) for v in re.split(r"[ ,]", re.sub("[MLh]", " ", raw)) if v][1::2]
    return min(nums), max(nums)


@pytest.mark.parametrize("style", [Style(), Style(plotter=True), Style(animate=True)],
                         ids=["svg", "plotter", "animated"])
def test_svg_pages_stack_lines_with_space_between(style: Style) -> None:
    root = ET.fromstring(svg_text(PAGE, style))
    groups = root.findall(f"{SVG}g")
    assert [g.get("data-text") for g in groups] == ["first line", "second", "third"]
    spans = [_ys(g) for g in groups]
    assert all(a[1] + 10 < b[0] for a, b in zip(spans, spans[1:], strict=False))  # a gap
    assert float(root.get("height") or 0) >= spans[-1][1]
    if style.animate:  # each line starts when the one above has been written
        begins = [float(a.get("begin", "0s")[:-1]) for a in root.iter(f"{SVG}animate")]
        assert begins == sorted(begins) and len(begins) == 6


def test_png_page_has_blank_rows_between_lines(tmp_path: Path) -> None:
    from PIL import Image

    write_png(PAGE, tmp_path / "page.png", Style())
    ink_rows = (np.asarray(Image.open(tmp_path / "page.png").convert("L")) < 128).any(axis=1)
    runs = np.flatnonzero(np.diff(ink_rows.astype(int)) == 1)  # a line's first row of ink
    assert len(runs) == 3


def test_inkml_page_keeps_each_line_and_its_text_below_the_last() -> None:
    root = ET.fromstring(inkml_text(PAGE))
    groups = root.findall(f"{INKML}traceGroup")
    texts = [g.find(f"{INKML}annotation").text for g in groups]  # type: ignore[union-attr]
    assert texts == ["first line", "second", "third"]
    spans = []
    for g in groups:
        ys = [float(pt.split()[1]) for t in g.findall(f"{INKML}trace")
              for pt in (t.text or "").split(",")]
        spans.append((min(ys), max(ys)))
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))
