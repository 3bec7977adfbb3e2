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
from seqgen.redraw import TOO_LONG, closer, off_by, own_line

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
            if on_step is None:  # a streamed line is not taken back
                got = _again(model, one, p, text, got)
            ink = model._decode(got.sequences, p, [text], 1, False)[0]
            done.append(ink)
            steps, kept = tail(dom, np.asarray(got.sequences[0]), got.attention, len(text) -
                               len(line), line)
            p = Prime(steps, kept, "the line before", shown=False)
        pages.append(dom.join_lines(done) if len(done) > 1 else done[0])
    return pages


def _again(model: Model, s: SampleSettings, p: Prime, text: str, got: Any) -> Any:
    """A chained line that went wrong drawn again (seqgen/redraw.py: the next line is primed
    with it, so a stalled line would spoil the rest of the page)."""
    best, line = got, own_line(text, p)
    for attempt in range(1, s.redraw + 1):
        if off_by(model.domain, best.sequences[0], line) <= TOO_LONG:
            break
        seed = None if s.seed is None else s.seed + 7919 * attempt
        one = dataclasses.replace(s, seed=seed)
        again = generate(model.net, model._context(p), one, model._plan(one, p, [text], False,
                                                                        None), model.device)
        if closer(model.domain, again.sequences[0], best.sequences[0], line):
            best = again
    return best


def tail(dom: TextConditioned, steps: np.ndarray, attention: np.ndarray | None, offset: int,
         line: str) -> tuple[np.ndarray, str]:
    """The prime for the next line: the written line's last words, at most
    ``dom.chain_chars`` characters (all of it where 0 or no attention was kept), so that the
    prime and the line it primes stay near a training line's length. The cut is where the
    attention window (Graves 2013 eq. 46-51, its peak per step, ``attention``: (1, T, U))
    has passed the space before the kept words, moved on to where the domain lets a prime
    start (``prime_start``: handwriting, a new stroke)."""
    limit = dom.chain_chars
    if not limit or len(line) <= limit or attention is None:
        return steps, line
    starts = [i + 1 for i, c in enumerate(line) if c == " " and len(line) - i - 1 <= limit]
    if not starts:
        return steps, line
    at = attention[0, :len(steps)].argmax(axis=1)  # (T,) the character each step writes
    passed = np.flatnonzero(at >= offset + starts[0])
    cut = dom.prime_start(steps, int(passed[0])) if len(passed) else 0
    if not 0 < cut < len(steps):
        return steps, line
    return steps[cut:], line[starts[0]:]
