"""A text of several lines written one line after another, each primed with the ink of the line
before, so that the page keeps one hand (sjvasquez's handwriting-synthesis ``lines=``; Graves
2013 section 5.4 primes with a line and its text). A domain asks for it with
``TextConditioned.chain_lines``; otherwise the lines are written side by side as batch rows,
each in a style of its own."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from seqgen.domain import Prime, TextConditioned
from seqgen.engine.sample import SampleSettings, StepCallback, generate

#: seqgen.inference.Model, whose sample() calls this module (so it is not imported here)
Model = Any

def chained(model: Model, s: SampleSettings, first: Prime,
            on_step: StepCallback | None) -> list[Any]:
    """Each sample's lines in turn: the first primed as asked (a style, or nothing), every
    later one with the line before it (its steps and its text, not shown)."""
    dom, vocab = model.domain, model.vocab
    assert isinstance(dom, TextConditioned) and vocab is not None
    lines = model._chosen(s.num, s.text, lambda ln: dom.normalise_text(ln.strip(), vocab.chars))
    gap = " " if " " in vocab.index else ""
    pages = []
    for i, sample in enumerate(lines):
        p, done = first, []
        for k, line in enumerate(sample):
            seed = None if s.seed is None else s.seed + 1000 * i + k  # a line's own draw
            one = dataclasses.replace(s, num=1, seed=seed)
            text = f"{p.text}{gap}{line}" if p.text else line
            vocab.encode(text)  # unknown characters: one clear error before sampling
            plan = model._plan(one, p, [text], False, None)
            if on_step is not None:
                plan.on_step = on_step
            got = generate(model.net, model._context(p), one, plan, model.device)
            ink = model._decode(got.sequences, p, [text], 1, False)[0]
            done.append(ink)
            p = Prime(np.asarray(model.domain.encode(ink)), line, "the line before", shown=False)
        pages.append(dom.join_lines(done) if len(done) > 1 else done[0])
    return pages
