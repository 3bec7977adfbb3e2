"""The speech domain of seqgen: acoustic feature frames, spoken from a text, rendered to WAV.

It registers through the ``seqgen`` entry-point group exactly as a third-party plugin does.
Heavy modules (torch, soundfile, eSpeak NG) are imported inside the domain's methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seqgen.hookspecs import hookimpl

SEQGEN_PLUGIN_API = 1


@hookimpl
def register_domains(register: Callable[[type], None]) -> None:
    from seqgen_speech.domain import SpeechDomain

    register(SpeechDomain)


@hookimpl
def register_commands(cli: Any) -> None:
    from seqgen_speech.evaluate import add_command

    add_command(cli)


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The model this plugin ships (docs/models.md): registered only once it is installed."""
    from pathlib import Path

    from seqgen.models import ShippedModel

    register(ShippedModel("espeak", "speech", Path(__file__).parent / "models" / "espeak"))
