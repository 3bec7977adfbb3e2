"""What ``on_text`` streams while a sample is drawn: the sample's text step by step, the same
as the API returns (tests/test_streaming.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from seqgen.domain import Domain, Prime


def streamer(domain: Domain, on_text: Callable[[str], None] | None, p: Prime, keep: bool) -> Any:
    """Each step's text as it is drawn, through the domain's stream decoder, which is given
    each token's position in the sample when it takes two arguments (a chess plugin numbers
    its moves); a kept prime goes through it first, token by token (issue 28: the raw
    prime was echoed, glued to the first move)."""
    decoder = domain.stream_decoder()
    if on_text is None or decoder is None:
        return None
    text = decoder if _arity(decoder) >= 2 else (lambda t, _i: decoder(t))
    primed = [] if p.steps is None or not p.shown else p.steps.tolist()
    if keep:
        for i, tok in enumerate(primed):
            on_text(text(int(tok), i))
    sep, at = domain.separator(), [len(primed)]

    def on_step(tokens: np.ndarray, done: np.ndarray) -> None:
        # every step of the sample, the one a stop rule ends it on included (issue 28:
        # the last move was missing); only the separator, never part of a sample, is not
        if sep is None or int(tokens[0]) != sep:
            on_text(text(int(tokens[0]), at[0]))
            at[0] += 1
    return on_step


def _arity(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` takes (a stream decoder: 1, or 2 with positions)."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in params)
