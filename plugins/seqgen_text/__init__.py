"""The text domain of seqgen: character- or byte-level language models, as in char-rnn.

It registers through the ``seqgen`` entry-point group exactly as a third-party plugin does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seqgen.hookspecs import hookimpl

SEQGEN_PLUGIN_API = 1


@hookimpl
def register_domains(register: Callable[[type], None]) -> None:
    from seqgen_text.domain import TextDomain

    register(TextDomain)


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The model this plugin ships (docs/models.md): registered only once it is installed."""
    from pathlib import Path

    from seqgen.models import ShippedModel

    register(ShippedModel("shakespeare", "text", Path(__file__).parent / "models" / "shakespeare"))
