"""Fine-tuning data (``--init-from``) is brought to the source model's density and pen scale."""

from __future__ import annotations

import numpy as np

from seqgen.options import parse_options
from seqgen_handwriting.domain import HandwritingDomain, HandwritingOptions
from seqgen_handwriting.ink import Ink, from_polylines


def _steps(ink: Ink) -> np.ndarray:
    r = ink.strokes
    down = r[1:][r[:-1, 2] < 0.5, :2]
    return np.hypot(down[:, 0], down[:, 1])


def test_grow_scales_and_thins_foreign_ink_to_the_source() -> None:
    dom = HandwritingDomain(parse_options(HandwritingOptions, {"lines": 4}))
    dom.set_state({"mean": [0, 0], "std": [1, 1], "step": 4.0, "points_per_char": 10.0})
    x = np.linspace(0, 300, 201)  # screen pixels: 1.5 px a point, 40 points a character
    line = Ink(from_polylines([np.c_[x[:100], np.sin(x[:100])], np.c_[x[100:], x[100:] * 0]]),
               "hello")
    assert len(line.strokes) / len(line.text or "") > 35
    assert dom.grow([line]) == []
    assert 8 <= len(line.strokes) / 5 <= 12  # the source's 10 points a character
    assert abs(float(np.median(_steps(line))) - 4.0) < 1e-3  # the source's pen step
