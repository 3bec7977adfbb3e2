"""Shipped (pretrained) models: run directories inside a plugin's package, used by default.

A shipped model is an ordinary run directory (``config.json`` + ``model.safetensors``, the
weights stored in float16 and loaded as float32) with a model card beside them,
``model.json``: what it was trained on, the exact ``seqgen train`` command, the commit and
machine, and its held-out figures (docs/models.md). Plugins ship theirs through the
``register_models`` hook, as the built-in domains do. Nothing here imports torch.

Which model a command uses: ``--run DIR``; else ``--model NAME``; else the domain's latest
local run; else the domain's shipped model, said in one line with the command that trains
your own. A local run always wins over a shipped one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from seqgen import plugins, runs
from seqgen.errors import SeqgenError, closest
from seqgen.modelcard import CARD, CARD_FORMAT, ShippedModel

__all__ = ["CARD", "CARD_FORMAT", "ShippedModel", "default_for", "describe", "find", "resolve",
           "shipped", "summary"]


def _collect() -> tuple[dict[str, Any], dict[str, ShippedModel]]:
    found: dict[str, ShippedModel] = {}

    def register(model: ShippedModel) -> None:
        if not isinstance(model, ShippedModel):
            raise SeqgenError(f"register_models: expected a ShippedModel, got {model!r}")
        found.setdefault(model.name, model)  # pluggy calls the newest plugin first: it wins
    return {"register": register}, found


def shipped() -> dict[str, ShippedModel]:
    """Every shipped model whose run directory is installed, by name."""
    found = plugins.registry().get("models",
                                   lambda: plugins.call_hook("register_models", _collect))
    return {k: m for k, m in sorted(found.items()) if runs.is_run(m.path)}


def default_for(domain: str) -> ShippedModel | None:
    """The shipped model a domain samples with when it has no local run."""
    found = [m for m in shipped().values() if m.domain == domain]
    return next((m for m in found if m.default), found[0] if found else None)


def find(name: str, domain: str | None = None) -> ShippedModel:
    """A shipped model by name (--model); a wrong name or domain is one line."""
    found = shipped()
    if name not in found:
        known = ", ".join(found) or "none installed"
        raise SeqgenError(f"no shipped model {name!r}{closest(name, found)}; shipped: {known} "
                          f"(`seqgen models` lists them)")
    model = found[name]
    if domain is not None and model.domain != domain:
        raise SeqgenError(f"shipped model {name!r} is a {model.domain!r} model, not "
                          f"{domain!r}")
    return model


def summary(model: ShippedModel) -> str:
    """One line saying which shipped model is used and how to train your own."""
    card = model.card()
    corpus = card.get("corpus", "")
    return (f"seqgen: using the shipped model {model.name!r} ({model.domain}"
            f"{', ' + corpus if corpus else ''}; `seqgen models` describes it); train your "
            f"own with `seqgen train --domain {model.domain}`")


def resolve(run: str | os.PathLike[str] | None, domain: str | None,
            model: str | None = None) -> Path:
    """The run directory a command samples or evaluates with (see the module's docstring)."""
    if model is not None:
        if run is not None:
            raise SeqgenError("give --run or --model, not both")
        return find(model, domain).path
    if run is not None or domain is None:
        return runs.resolve_run(run, domain)
    runs.check_domain(domain)
    local = runs.latest_run(domain)
    if local is not None:
        return local
    ship = default_for(domain)
    if ship is None:
        return runs.resolve_run(None, domain)  # the one-line "train one" error
    print(summary(ship), file=sys.stderr)
    return ship.path


def describe(model: ShippedModel) -> dict[str, Any]:
    """A row of `seqgen models`: name, domain, corpus, size, figures, recipe."""
    card = model.card()
    recipe = card.get("recipe", {})
    return {"name": model.name, "domain": model.domain, "corpus": card.get("corpus", ""),
            "size": model.size(), "figures": card.get("figures", {}),
            "command": recipe.get("command", ""), "trained": recipe.get("trained", ""),
            "path": str(model.path), "default": model.default}
