"""Output heads by name: the built-in ones, and a registry that others register into.

A domain names its head in ``HeadSpec``; ``build_head`` looks the name up in a registry. The
plugin layer builds the registry once from the ``register_heads`` hook, so a plugin can bring
a head of its own without forking the engine (Magenta's sketch_rnn forked because its
engine's output layer was fixed). Code that uses the engine alone gets ``BUILTIN_HEADS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seqgen.engine.heads import CategoricalHead, Head
from seqgen.engine.mixture import DiagGMMHead, MDN2DHead
from seqgen.errors import SeqgenError

#: softmax over tokens; bivariate Gaussians + end of stroke (Graves 2013 section 4.1);
#: diagonal Gaussians + stop over frames
BUILTIN_HEADS: Mapping[str, type[Head]] = {
    "categorical": CategoricalHead, "mdn2d": MDN2DHead, "gmm": DiagGMMHead}


def build_head(name: str, in_features: int, kwargs: dict[str, Any],
               heads: Mapping[str, type[Head]] | None = None) -> Head:
    """Instantiate the head called ``name`` from ``heads`` (default: the built-in ones)."""
    known = BUILTIN_HEADS if heads is None else heads
    if name not in known:
        raise SeqgenError(f"unknown output head {name!r}; known: {', '.join(known)}")
    return known[name](in_features, **kwargs)
