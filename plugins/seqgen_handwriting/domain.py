"""Online handwriting as pen offsets, after Graves 2013 (arXiv 1308.0850, sections 4 and 5).

One step is one pen point: (dx, dy, end_of_stroke), offsets normalised to mean 0 and std 1 per
axis with statistics from the training documents (the codec state). The engine's ``mdn2d`` head
(20 bivariate Gaussians with correlation + an end-of-stroke Bernoulli) models the next point;
in synthesis mode the engine adds its soft attention window over the line's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.domain import (
    Batching,
    Corpus,
    Domain,
    HeadSpec,
    Prime,
    Renderer,
    StopRule,
    TextConditioned,
    VectorInput,
)
from seqgen.errors import SeqgenError
from seqgen_handwriting.hand import OwnHand
from seqgen_handwriting.ink import Ink, Page, at_scale, thin

STYLE_EXAMPLES = 8  # style-priming lines kept in the codec state (one per writer)
# a page's lines are at most 60 characters: a style example (12 to 20) and the line then fit in
# the 75 of the corpus's longest lines; a paragraph wrapped at 60 read a little better than at
# 75 (docs/domains/handwriting.md, Text of any length)
WRAP_CHARS = 60


@dataclass
class HandwritingOptions:
    mode: str = field(default="synthesis", metadata={
        "help": "synthesis: write a given text (the model attends to it); prediction: "
                "unconditional ink", "choices": ("synthesis", "prediction")})
    lines: int = field(default=12000, metadata={
        "help": "lines in the synthetic default corpus"})
    writers: int = field(default=8, metadata={
        "help": "distinct synthetic writers (styles) in the default corpus"})
    max_chars: int = field(default=75, metadata={
        "help": "longest line of the synthetic corpus, in characters"})
    stride: int = field(default=3, metadata={
        "help": "keep every N-th point of each stroke (ends kept): N times fewer steps per "
                "line, so a CPU can train it (1 = full density); applies to every corpus and "
                "--prime"})
    clip: float = field(default=20.0, metadata={
        "help": "clip normalised offsets to +-clip standard deviations (glitches in real "
                "data); 0 = off"})
    npy_layout: str = field(default="auto", metadata={
        "render": True,  # how --data and --prime files are read, not what the model is
        "help": "column order of (T, 3) strokes.npy rows: auto (the first or last column, "
                "whichever holds only 0s and 1s, is end_of_stroke), eos-first (end_of_stroke, "
                "dx, dy), eos-last (dx, dy, end_of_stroke: sjvasquez/handwriting-synthesis)",
        "choices": ("auto", "eos-first", "eos-last")})
    # "render": how samples are drawn, so seqgen sample -o may change them after training
    stroke_width: float = field(default=2.0, metadata={
        "render": True, "help": "SVG/PNG stroke width (px)"})
    color: str = field(default="black", metadata={
        "render": True, "help": "ink colour (any SVG colour)"})
    background: str = field(default="white", metadata={
        "render": True,
        "help": "SVG/PNG background colour, or none (transparent)"})
    plotter: bool = field(default=False, metadata={
        "render": True,
        "help": "single-line SVG for pen plotters: one plain polyline per stroke, no fill, "
                "no background, constant width"})
    smooth: int = field(default=4, metadata={
        "render": True,
        "help": "SVG/PNG: draw each stroke as a smooth curve through its points with N "
                "sub-steps per segment (centripetal Catmull-Rom); 0 = straight segments"})
    animate: bool = field(default=False, metadata={
        "render": True,
        "help": "SVG draws itself in writing order (SMIL animation, one stroke after another)"})
    speed: float = field(default=90.0, metadata={
        "render": True,
        "help": "animated SVG: pen points per second at full density (a real pen's rate; "
                "divided by stride), about 3 letters a second"})


class HandwritingDomain(OwnHand, TextConditioned, Domain):
    name = "handwriting"
    version = "1.0"
    description = "Online handwriting as pen strokes (Graves 2013): mixture density head, " \
                  "written from text"
    input_formats = ("IAM-OnDB lineStrokes .xml (+ ascii/)", "strokes.npy + sentences.txt",
                     "style-N-strokes.npy + style-N-chars.npy", ".inkml", ".svg",
                     "directory", "glob")
    default_corpus = ("synthetic cursive lines drawn with the Hershey script font by several "
                      "writers (made offline on first use)")
    batching = Batching.SEQUENCES
    unit = "point"
    default_render = ".svg"
    default_length = 700
    #: the cap on points per character of --text; a trained model sets its own (3 x its data's)
    max_steps_per_char = 60
    keep_prime = False  # a style prime is someone else's ink: leave it out of the sample
    # Graves 2013 eq. 61-62: bias 1 halved the misread characters of bias 0 (CER 0.076
    # against 0.143; docs/domains/handwriting.md, Legibility); sjvasquez's demo uses 0.75
    default_bias = 1.0
    Options = HandwritingOptions
    line_chars = 0  # the longest training line, from the codec state (0: unknown)
    # each line primed with the line before keeps one hand, but a line that goes wrong spoils
    # every line after it (a page's OCR CER 0.80 where its first line did, else 0.27): off;
    chain_lines = False
    # a page keeps one hand another way: every line primed with style example 1 (writer 1's;
    # docs/domains/handwriting.md, Text of any length, measures it)
    page_style = 1
    # batch 16 beat 32 in the same 20 minutes (ink-eval CER 0.059 against 0.080, val -3.98
    # against -3.76 nats/point: docs/domains/handwriting.md, issue 15's search)
    preset_tuning = {"small": {"batch_size": 16}}

    def __init__(self, options: Any = None, state: dict[str, Any] | None = None) -> None:
        self.mean = np.zeros(2, np.float32)
        self.std = np.ones(2, np.float32)
        self.points_per_line = 0.0
        self.step = 1.0
        self.points_per_char = 0.0
        self.styles: list[dict[str, Any]] = []
        super().__init__(options, state)

    # ---- corpus ---------------------------------------------------------------------------
    def load_corpus(self, source: str | None) -> Corpus:
        if source is None or source == "synthetic":
            from seqgen.datasets import cache_dir
            from seqgen_handwriting.synth import load_or_generate

            o = self.options
            docs, key = load_or_generate(cache_dir() / "handwriting", o.lines, o.writers,
                                         o.max_chars)
            return Corpus("synthetic", key, self._thin(docs))
        from seqgen_handwriting.readers import read_source

        docs, key = read_source(source, self.options.npy_layout)
        docs = self._thin(docs)
        if self.conditioned() and not any(d.text for d in docs):
            raise SeqgenError(f"{source}: no line has a transcription; synthesis needs the "
                              f"texts (IAM ascii/, sentences.txt, -chars.npy, InkML "
                              f"annotations, SVG <title>), or train -o mode=prediction")
        return Corpus(source, key, docs)

    def _thin(self, docs: list[Ink]) -> list[Ink]:
        if self.options.stride < 1:
            raise SeqgenError(f"option stride={self.options.stride}: must be at least 1")
        return docs if self.options.stride == 1 else [thin(d, self.options.stride) for d in docs]

    # ---- codec ----------------------------------------------------------------------------
    def fit(self, documents: Sequence[Any]) -> None:
        rows = np.concatenate([np.asarray(d.strokes, np.float64) for d in documents])
        pen_down = rows[1:][rows[:-1, 2] < 0.5, :2]
        steps = np.hypot(pen_down[:, 0], pen_down[:, 1]) if len(pen_down) else np.ones(1)
        def rank(d: Ink) -> tuple[int, int]:  # 12+ characters, few points; else long texts
            n = len(d.text or "")
            return (0, len(d.strokes)) if n >= 12 else (1, -n) if n else (2, len(d.strokes))

        styles: dict[int, Ink] = {}  # one style example per writer
        for i, d in enumerate(documents):
            who = d.writer if d.writer is not None else i % STYLE_EXAMPLES
            if who not in styles or rank(d) < rank(styles[who]):
                styles[who] = d
        chars = sum(len(d.text) for d in documents if d.text)
        points = sum(len(d.strokes) for d in documents if d.text)
        self.set_state({
            "line_chars": max((len(d.text) for d in documents if d.text), default=0),
            "points_per_char": points / chars if chars else 0.0,
            "mean": rows[:, :2].mean(axis=0).tolist(),
            "std": np.maximum(rows[:, :2].std(axis=0), 1e-6).tolist(),
            "points_per_line": float(len(rows) - sum(  # scored points: origin rows not
                1 for d in documents if len(d.strokes) and not d.strokes[0].any())
            ) / max(len(documents), 1),
            "step": float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0,
            "styles": [{"writer": d.writer, "text": d.text,
                        "strokes": np.round(d.strokes.astype(np.float64), 3).tolist()}
                       for who, d in sorted(styles.items())
                       ][:STYLE_EXAMPLES]})

    def grow(self, documents: Sequence[Any]) -> list[str]:
        """``--init-from``: each line (already thinned by the stride) brought to the source
        model's density and pen scale (its points per character and median pen-down step), as
        a saved style's lines are (hand.fitted), since the source's statistics normalise it:
        a 240 Hz pen's lines would otherwise be twice as dense. The alphabet grows in the
        engine."""
        from seqgen_handwriting.hand import fitted

        for d in documents:
            d.strokes = fitted(d, self.points_per_char, self.step, 1).strokes
        return []

    def get_state(self) -> dict[str, Any]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std],
                "points_per_line": self.points_per_line, "step": self.step,
                "points_per_char": self.points_per_char,
                "line_chars": self.line_chars, "styles": self.styles}

    def set_state(self, state: dict[str, Any]) -> None:
        self.mean = np.asarray(state.get("mean", [0.0, 0.0]), np.float32)
        self.std = np.asarray(state.get("std", [1.0, 1.0]), np.float32)
        self.points_per_line = float(state.get("points_per_line", 0.0))
        self.step = float(state.get("step", 1.0))
        self.points_per_char = float(state.get("points_per_char", 0.0))
        if self.points_per_char > 0:  # the engine reads these to cap and to check each line
            self.max_steps_per_char = max(10, int(np.ceil(3 * self.points_per_char)))
            self.expected_steps_per_char = self.points_per_char
        self.styles = list(state.get("styles", []))
        # the longest training line; a run fitted before it was recorded: the synthetic
        # corpus's own limit
        self.line_chars = int(state.get("line_chars", self.options.max_chars))

    def line_width(self) -> int | None:
        """--text is wrapped into lines no longer than the training lines, and at most
        WRAP_CHARS, so that a style prime and the line fit in a training line (issue 27)."""
        return min(self.line_chars, WRAP_CHARS) if self.line_chars else None

    def encode(self, document: Any) -> np.ndarray:
        rows = np.asarray(document.strokes, np.float32)
        if len(rows) and not rows[0].any():  # the origin row carries nothing: decode adds it
            rows = rows[1:]
        out = np.empty((len(rows), 3), np.float32)
        out[:, :2] = (rows[:, :2] - self.mean) / self.std
        if self.options.clip > 0:
            np.clip(out[:, :2], -self.options.clip, self.options.clip, out=out[:, :2])
        out[:, 2] = rows[:, 2] > 0.5
        return out

    def decode(self, array: np.ndarray) -> Ink:
        arr = np.asarray(array, np.float32).reshape(-1, 3)
        out = np.empty_like(arr)  # the first row places the first point (it is not drawn)
        out[:, :2] = arr[:, :2] * self.std + self.mean
        out[:, 2] = arr[:, 2] > 0.5
        return Ink(out)

    def decode_continuation(self, prime: np.ndarray, steps: np.ndarray) -> Ink:
        """A line written after a prime (a style, the line before) starts at its own origin:
        its first step is the pen's move from the prime's last point, not part of the line."""
        ink = self.decode(steps)
        if len(ink.strokes):
            ink.strokes[0, :2] = 0.0
        return ink

    def input_spec(self) -> VectorInput:
        return VectorInput(3)

    def head_spec(self) -> HeadSpec:
        return HeadSpec("mdn2d", {"components": 20})

    # ---- conditioning and sampling --------------------------------------------------------
    def conditioned(self) -> bool:
        return bool(self.options.mode == "synthesis")

    def text_of(self, document: Any) -> str | None:
        return document.text if isinstance(document, Ink) else None

    def encode_prime(self, prime: str) -> Any:  # np.ndarray, or (array, text) in synthesis
        from seqgen_handwriting.readers import read_file

        path = Path(prime)
        if not path.is_file():
            raise SeqgenError(f"--prime {prime}: no such file (give strokes: .inkml, IAM .xml, "
                              f".svg, or .npy with a .txt or -chars.npy beside it)")
        ink = self._thin(read_file(path, self.options.npy_layout)[:1])[0]
        encoded = self.encode(Ink(at_scale(ink.strokes, self.step), ink.text))  # our scale
        if not self.conditioned():
            return encoded
        if not ink.text:
            raise SeqgenError(f"--prime {prime}: no transcription; synthesis needs the prime's "
                              f"text (an InkML transcription or truth annotation, IAM ascii/, "
                              f"SVG <title>, or a .txt or -chars.npy beside the .npy)")
        return encoded, ink.text

    def style_prime(self, index: int) -> tuple[np.ndarray, str | None]:
        if not 0 <= index < len(self.styles):
            raise SeqgenError(f"--prime-style {index}: this model has style examples 0 to "
                              f"{len(self.styles) - 1}" if self.styles else
                              f"--prime-style {index}: this model has no style examples")
        style = self.styles[index]
        ink = Ink(np.asarray(style["strokes"], np.float32), style.get("text"))
        return self.encode(ink), (ink.text if self.conditioned() else None)

    def length_rule(self, length: str | None,
                    prime: Prime | None = None) -> tuple[int, StopRule | None]:
        """Prediction mode without --length writes one line of the training data's length."""
        if length is None and self.points_per_line > 0:
            return max(1, round(self.points_per_line)), None
        return super().length_rule(length, prime)

    def with_text(self, sample: Any, text: str) -> Any:
        if isinstance(sample, Ink):
            sample.text = text  # the .inkml renderer writes it as the transcription
        return sample

    def prime_start(self, steps: np.ndarray, at: int) -> int:
        """A chained line's prime begins with a stroke: the first point after a pen lift."""
        lifts = np.flatnonzero(steps[at - 1 if at > 0 else 0:, 2] > 0.5) + max(at - 1, 0) + 1
        return int(lifts[0]) if len(lifts) else len(steps)

    def join_lines(self, lines: list[Any]) -> Any:
        return lines[0] if len(lines) == 1 else Page(list(lines))

    # ---- output ---------------------------------------------------------------------------
    def renderers(self) -> dict[str, Renderer]:
        from seqgen_handwriting import render

        o = self.options
        style = render.Style(o.stroke_width, o.color, o.background, o.plotter, o.animate,
                             o.speed / max(o.stride, 1), o.smooth)
        return {
            ".svg": Renderer(".svg", partial(render.write_svg, style=style),
                             "SVG: round-capped paths (-o plotter=true: single-line polylines; "
                             "-o animate=true: drawn in writing order)"),
            ".png": Renderer(".png", partial(render.write_png, style=style), "PNG image"),
            ".inkml": Renderer(".inkml", render.write_inkml, "InkML traces with transcription"),
            **super().renderers()}

    def metrics(self, nll: float, extra: dict[str, float] | None = None) -> dict[str, float]:
        """Nats per point and per line (Graves's unit: nats per sequence), plus the head's
        extra measures (``sse``: squared error of the mixture's mean, normalised units)."""
        out = {"nats/point": nll, "bits/point": nll / float(np.log(2))}
        if self.points_per_line:
            out["nats/sequence"] = nll * self.points_per_line
        out.update(extra or {})
        return out
