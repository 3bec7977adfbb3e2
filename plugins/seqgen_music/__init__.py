"""The music domain of seqgen: polyphonic MIDI in; MIDI, MusicXML, piano rolls and audio out.

Performance events as in Magenta's PerformanceRNN (NOTE_ON, NOTE_OFF, TIME_SHIFT, VELOCITY),
trained on the Bach chorales that music21 ships, on your MIDI files or on other music21
corpora. It registers through the ``seqgen`` entry-point group exactly as a third-party plugin
does. Nothing heavy is imported here: music21, mido and torch load only when used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seqgen.hookspecs import hookimpl

SEQGEN_PLUGIN_API = 1


@hookimpl
def register_domains(register: Callable[[type], None]) -> None:
    from seqgen_music.domain import MusicDomain

    register(MusicDomain)


@hookimpl
def register_commands(cli: Any) -> None:
    from seqgen_music.commands import add_commands

    add_commands(cli)


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The model this plugin ships (docs/models.md): registered only once it is installed."""
    from pathlib import Path

    from seqgen.models import ShippedModel

    register(ShippedModel("chorales", "music", Path(__file__).parent / "models" / "chorales"))
