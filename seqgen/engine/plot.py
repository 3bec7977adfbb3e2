"""Loss curves as PNG, and ``pyplot()``: matplotlib with the Agg backend, for the other plots.

The loss curve that training leaves in every run (loss.png) is drawn with Pillow, not
matplotlib: importing matplotlib.pyplot took 1.7 s of a 60-step run's tail here and Pillow
(which matplotlib itself depends on) draws the same axes, grid, lines and legend in 0.1 s.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.fileio import atomic_path

SIZE = (700, 400)  # pixels, the 7 x 4 inches at 100 dpi matplotlib drew before
BOX = (72, 34, 684, 350)  # the axes: left, top, right, bottom
TRAIN, VAL, GRID, INK = (31, 119, 180), (255, 127, 14), (224, 224, 224), (0, 0, 0)
Point = tuple[float, float]


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only: no display is needed or opened),
    imported on first use because matplotlib takes a second to import."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _number(value: object) -> bool:
    return isinstance(value, int | float) and bool(np.isfinite(value))


def plot_metrics(metrics: Path, out: Path, title: str = "") -> bool:
    """Plot train and validation loss against step; False when there is nothing to plot."""
    if not metrics.exists():
        return False
    rows = [json.loads(ln) for ln in metrics.read_text().splitlines() if ln.strip()]
    # null (strict JSON for a non-finite or absent value) and an older run's NaN are left out
    train = [(r["step"], r["loss"]) for r in rows if _number(r.get("loss"))]
    val = [(r["step"], r["val_loss"]) for r in rows if _number(r.get("val_loss"))]
    if not train:
        return False
    image = draw_curves(train, val, title or metrics.parent.name)
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG")
    return True


def ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) spanning [lo, hi], about n."""
    span = hi - lo
    raw = span / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def _label(v: float) -> str:
    return f"{v:.10g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.1e}"


def _limits(values: list[float], pad: float) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:  # one value (or a flat line): a range around it
        lo, hi = lo - max(abs(lo) * 0.05, 0.5), hi + max(abs(hi) * 0.05, 0.5)
    margin = (hi - lo) * pad
    return lo - margin, hi + margin


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable font
    except TypeError:
        return ImageFont.load_default()  # older Pillow: its one bitmap size


def draw_curves(train: list[Point], val: list[Point], title: str) -> Any:
    """The loss curves as a Pillow image: axes with ticks and a grid, the training loss as a
    line, the validation loss as a line with dots, a legend, the labels and the title."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    pts = train + val
    xs, ys = _limits([p[0] for p in pts], 0.03), _limits([p[1] for p in pts], 0.05)
    left, top, right, bottom = BOX

    def at(p: Point) -> Point:
        return (left + (p[0] - xs[0]) / (xs[1] - xs[0]) * (right - left),
                bottom - (p[1] - ys[0]) / (ys[1] - ys[0]) * (bottom - top))

    _axes(draw, at, xs, ys, _font(11))
    draw.line([at(p) for p in train], fill=TRAIN, width=1)
    if len(train) == 1:  # a line of one point draws nothing
        x, y = at(train[0])
        draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=TRAIN)
    if val:
        draw.line([at(p) for p in val], fill=VAL, width=2, joint="curve")
        for x, y in map(at, val):
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=VAL)
    draw.rectangle(BOX, outline=INK)
    _legend(draw, [("train", TRAIN)] + ([("validation", VAL)] if val else []), _font(11))
    _texts(image, draw, title)
    return image


def _axes(draw: Any, at: Any, xs: Point, ys: Point, font: Any) -> None:
    """Grid lines and tick labels at round values of each axis."""
    left, top, right, bottom = BOX
    for v in ticks(*xs):
        x = at((v, ys[0]))[0]
        draw.line([(x, top), (x, bottom)], fill=GRID)
        draw.line([(x, bottom), (x, bottom + 4)], fill=INK)
        _text(draw, (x, bottom + 6), _label(v), font, "ma")
    for v in ticks(*ys):
        y = at((xs[0], v))[1]
        draw.line([(left, y), (right, y)], fill=GRID)
        draw.line([(left - 4, y), (left, y)], fill=INK)
        _text(draw, (left - 6, y), _label(v), font, "rm")


def _legend(draw: Any, items: list[tuple[str, tuple[int, int, int]]], font: Any) -> None:
    """A framed legend in the axes' top right corner: a stroke of each line and its name."""
    width = max(draw.textbbox((0, 0), name, font=font)[2] for name, _ in items) + 44
    x1, y0 = BOX[2] - 10, BOX[1] + 10
    x0 = x1 - width
    draw.rectangle((x0, y0, x1, y0 + 8 + 18 * len(items)), fill="white", outline=(200, 200, 200))
    for i, (name, colour) in enumerate(items):
        y = y0 + 13 + 18 * i
        draw.line([(x0 + 8, y), (x0 + 30, y)], fill=colour, width=2)
        _text(draw, (x0 + 36, y), name, font, "lm")


def _text(draw: Any, xy: Point, text: str, font: Any, anchor: str) -> None:
    """Text placed by its box (anchor: l/m/r across, a/m/d for top/middle/bottom), measured
    here because Pillow's own anchors need a FreeType font, which a Pillow may lack."""
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    fx, fy = {"l": 0.0, "m": 0.5, "r": 1.0}[anchor[0]], {"a": 0.0, "m": 0.5, "d": 1.0}[anchor[1]]
    draw.text((xy[0] - x0 - fx * (x1 - x0), xy[1] - y0 - fy * (y1 - y0)), text, fill=INK,
              font=font)


def _texts(image: Any, draw: Any, title: str) -> None:
    """The title above the axes, 'step' below them and the loss's unit up the left side."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = BOX
    _text(draw, ((left + right) / 2, top - 8), title, _font(13), "md")
    _text(draw, ((left + right) / 2, SIZE[1] - 8), "step", _font(12), "md")
    label = "loss (nats per step)"
    font = _font(12)
    w, h = draw.textbbox((0, 0), label, font=font)[2:]
    strip = Image.new("RGB", (w + 4, h + 4), "white")
    ImageDraw.Draw(strip).text((2, 2), label, fill=INK, font=font)
    turned = strip.rotate(90, expand=True)
    image.paste(turned, (4, int((top + bottom - turned.height) / 2)))


def plot_attention(phi: np.ndarray, text: str, out: Path) -> Path:
    """Heat map of the soft window: which character (rows) the model reads at each step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(min(14, 3 + phi.shape[0] / 60), 1.5 + 0.18 * len(text)),
                           dpi=100)
    ax.imshow(phi.T, aspect="auto", origin="upper", cmap="magma", interpolation="nearest")
    ax.set_yticks(range(len(text)))
    ax.set_yticklabels([c if c != " " else "␣" for c in text], fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel("character")
    ax.set_title("attention window phi(t, u)")
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return out
