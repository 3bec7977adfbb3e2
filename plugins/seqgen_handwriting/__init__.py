"""The handwriting domain of seqgen: online pen strokes written from text (Graves 2013).

It registers through the ``seqgen`` entry-point group exactly as a third-party plugin does;
numpy, the fonts and the XML parsers are imported only when the domain is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seqgen.hookspecs import hookimpl

SEQGEN_PLUGIN_API = 1


@hookimpl
def register_domains(register: Callable[[type], None]) -> None:
    from seqgen_handwriting.domain import HandwritingDomain

    register(HandwritingDomain)


@hookimpl
def register_commands(cli: Any) -> None:
    from seqgen_handwriting.commands import add_commands

    add_commands(cli)


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The model this plugin ships (docs/models.md): registered only once it is installed."""
    from pathlib import Path

    from seqgen.models import ShippedModel

    register(ShippedModel("cursive", "handwriting", Path(__file__).parent / "models" / "cursive"))
