"""What a shipped model is: a run directory a plugin ships, with its model card (model.json).

Kept apart from seqgen.models (which resolves and lists them through the plugins) so that
seqgen.hookspecs can name the type without an import cycle. Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CARD = "model.json"
CARD_FORMAT = "seqgen-model-card"


@dataclass(frozen=True)
class ShippedModel:
    """A pretrained run directory a plugin ships (``register_models`` hook)."""

    name: str  # what --model takes: unique across plugins
    domain: str
    path: Path  # the run directory: config.json, model.safetensors, model.json
    #: the one a domain uses when it has no local run (the first default registered wins)
    default: bool = True

    def card(self) -> dict[str, Any]:
        """The model card (model.json); an empty dict when it is missing or not a card."""
        try:
            found = json.loads((self.path / CARD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) and found.get("format") == CARD_FORMAT else {}

    def size(self) -> int:
        """Bytes on disk: the weights, the config and the card."""
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
