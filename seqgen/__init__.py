"""seqgen: generative sequence models, one LSTM engine, domains as plugins.

The heavy parts (torch) load on first use of ``train``, ``load`` or ``Model``, so importing
seqgen (and ``seqgen --help``) stays fast.
"""

from __future__ import annotations

from typing import Any

from seqgen.version import __version__

__all__ = ["__version__", "train", "load", "Model", "Domain", "SampleSettings", "SeqgenError",
           "hookimpl"]


def __getattr__(name: str) -> Any:
    if name in ("train", "load"):
        from seqgen import api

        return getattr(api, name)
    if name == "Model":
        from seqgen.inference import Model

        return Model
    if name == "Domain":
        from seqgen.domain import Domain

        return Domain
    if name == "SeqgenError":
        from seqgen.errors import SeqgenError

        return SeqgenError
    if name == "SampleSettings":
        from seqgen.engine.settings import SampleSettings

        return SampleSettings
    if name == "hookimpl":
        from seqgen.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'seqgen' has no attribute {name!r}")
