"""A run directory's files that need no torch to read: config.json and the checkpoint list
(``seqgen info``, ``seqgen runs`` and argument checks stay fast: no torch import)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqgen.errors import SeqgenError

FORMAT_VERSION = 1


def read_config(run_dir: Path) -> dict[str, Any]:
    """config.json of a run, checked for format and version."""
    path = run_dir / "config.json"
    if not path.exists():
        raise SeqgenError(f"{run_dir} is not a seqgen run (no config.json)")
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SeqgenError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != "seqgen-run":
        raise SeqgenError(f"{path} is not a seqgen run configuration")
    version = cfg.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SeqgenError(f"{path} was written by a newer seqgen ({cfg.get('seqgen_version')}, "
                          f"format {version}; this one reads format {FORMAT_VERSION}): "
                          f"upgrade seqgen")
    return cfg


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = sorted(p for p in (run_dir / "checkpoints").glob("step-*")
                   if (p / "trainer.json").exists())
    return found[-1] if found else None
