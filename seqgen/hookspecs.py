"""The hooks a seqgen plugin implements. Hooks only register; behaviour lives on objects.

Every hookspec here is documented with its exact signature in docs/hooks.md (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from seqgen.datasets import Dataset
    from seqgen.domain import Domain, Renderer
    from seqgen.engine.heads import Head
    from seqgen.modelcard import ShippedModel

hookspec = pluggy.HookspecMarker("seqgen")
hookimpl = pluggy.HookimplMarker("seqgen")


@hookspec
def register_domains(register: Callable[[type[Domain]], None]) -> None:
    """Register domains by calling ``register(DomainSubclass)`` once per domain."""


@hookspec
def register_datasets(register: Callable[[Dataset], None]) -> None:
    """Register named downloadable datasets by calling ``register(Dataset(...))``."""


@hookspec
def register_renderers(register: Callable[[str, Renderer], None]) -> None:
    """Add a renderer to an existing domain by calling ``register(domain_name, Renderer(...))``."""


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``seqgen`` command line with ``@cli.command()``."""


@hookspec
def register_heads(register: Callable[[str, type[Head]], None]) -> None:
    """Register output heads by calling ``register(name, HeadSubclass)`` once per head."""


@hookspec
def register_models(register: Callable[[ShippedModel], None]) -> None:
    """Ship pretrained models by calling ``register(ShippedModel(name, domain, path))``."""
