"""Lines that went wrong, drawn again. A handwriting line whose attention window stalls writes
loops on one spot: its steps per character run to about twice the training data's (measured:
17 to 19 points a character on lines an OCR engine read at a CER of 0.6 to 0.9, against 9.5 to
10.7 on lines it read at 0.17 to 0.33). Such a line is sampled again with another seed, up to
``SampleSettings.redraw`` times, and the draw closest to the expected length is kept. A domain
opts in with ``TextConditioned.expected_steps_per_char``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from seqgen.domain import Prime, TextConditioned
from seqgen.engine.sample import SampleSettings, generate

#: a line longer than this many times the expected steps per character has gone wrong
TOO_LONG = 1.4
Model = Any  # seqgen.inference.Model, whose sample() calls this module


def own_line(text: str, p: Prime) -> str:
    """A row's own line: its conditioning text without the prime's text before it."""
    return text[len(p.text):].lstrip() if p.text else text


def off_by(dom: Any, seq: np.ndarray, line: str) -> float:
    """How far a line's length is from the expected, as a ratio (1 = as expected); two
    characters' worth of slack, since a short line's start and end weigh more."""
    per = getattr(dom, "expected_steps_per_char", 0.0)
    if not isinstance(dom, TextConditioned) or per <= 0 or not line:
        return 1.0
    return len(seq) / (per * (len(line) + 2))


def closer(dom: Any, new: np.ndarray, old: np.ndarray, line: str) -> bool:
    """Whether the new draw of a line is nearer the expected length than the old."""
    return bool(abs(np.log(off_by(dom, new, line))) < abs(np.log(off_by(dom, old, line))))


def redrawn(model: Model, s: SampleSettings, p: Prime, texts: list[str], keep: bool,
            seqs: list[np.ndarray]) -> list[np.ndarray]:
    """``seqs`` with each row that ran too long drawn again (the failed rows as one batch),
    up to ``s.redraw`` times, keeping each row's draw closest to the expected length."""
    dom = model.domain
    seqs = list(seqs)

    def bad() -> list[int]:
        return [i for i, t in enumerate(texts)
                if off_by(dom, seqs[i], own_line(t, p)) > TOO_LONG]

    todo = bad()
    for attempt in range(1, s.redraw + 1):
        if not todo:
            break
        seed = None if s.seed is None else s.seed + 7919 * attempt
        one = dataclasses.replace(s, num=len(todo), seed=seed)
        plan = model._plan(one, p, [texts[i] for i in todo], keep, None)
        got = generate(model.net, model._context(p), one, plan, model.device)
        for j, i in enumerate(todo):
            if closer(dom, got.sequences[j], seqs[i], own_line(texts[i], p)):
                seqs[i] = got.sequences[j]
        todo = bad()
    return seqs
