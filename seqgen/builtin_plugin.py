"""seqgen's own registrations, made through the hooks exactly as a plugin's are: the engine's
output heads and the catalogue of named datasets (data/catalogue.toml)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from seqgen.hookspecs import hookimpl

if TYPE_CHECKING:
    from seqgen.datasets import Dataset
    from seqgen.engine.heads import Head


@hookimpl
def register_heads(register: Callable[[str, type[Head]], None]) -> None:
    from seqgen.engine.head_registry import BUILTIN_HEADS

    for name, cls in BUILTIN_HEADS.items():
        register(name, cls)


@hookimpl
def register_datasets(register: Callable[[Dataset], None]) -> None:
    from seqgen.datasets import builtin_catalogue

    for ds in builtin_catalogue():
        register(ds)
