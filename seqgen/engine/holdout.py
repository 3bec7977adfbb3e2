"""Which data is held out for validation: the one rule, for the engine's split and for a
plugin that needs the same held-out documents (speech-eval's sentences, music stats' pieces).

Sequences hold out whole documents, the last of every k; streams hold out the tail of the
concatenated corpus, so a plugin asks here instead of deriving the rule again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def held_out_every(val_fraction: float) -> int:
    """k of the document split: one document in k is held out (k = 1 / val_fraction rounded,
    at least 2, so that some training data is always left)."""
    return max(2, round(1 / val_fraction))


def held_out(i: int, val_fraction: float) -> bool:
    """Whether document ``i`` of a corpus split by documents (sequences) is validation data."""
    if val_fraction <= 0:
        return False
    k = held_out_every(val_fraction)
    return i % k == k - 1


def stream_cut(length: int, val_fraction: float) -> int:
    """The first held-out step of a stream of ``length`` steps (its tail is validation data)."""
    return int(length * (1 - val_fraction))


def held_out_documents(lengths: Sequence[int], val_fraction: float, sequences: bool,
                       separator: bool = True) -> list[int]:
    """The indices of the documents the engine's split holds out, from each document's length
    as its domain encodes it (leave out documents that encode to nothing: the corpus has none).

    ``separator``: whether the domain has a separator, which the encoded stream puts before
    every document and once at the end. A stream's document straddling the cut is training data.
    """
    if sequences:
        return [i for i in range(len(lengths)) if held_out(i, val_fraction)]
    if val_fraction <= 0:
        return []
    sep = int(separator)
    starts = np.cumsum([0] + [int(n) + sep for n in lengths])  # the last: the closing separator
    cut = stream_cut(int(starts[-1]) + sep, val_fraction)
    return [i for i in range(len(lengths)) if starts[i] >= cut]
