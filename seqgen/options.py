"""A domain's ``-o KEY=VALUE`` options: a dataclass per domain, parsed, checked and saved.

Field metadata: ``help`` (shown by ``seqgen domains --options NAME``), ``choices`` (checked),
``render`` (a field about drawing samples, not what the model learned: ``seqgen sample -o``
may change it for one sample).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from seqgen.errors import SeqgenError, closest


def option_fields(options_cls: type) -> list[dataclasses.Field[Any]]:
    """The fields of a domain's Options dataclass."""
    return list(dataclasses.fields(options_cls)) if dataclasses.is_dataclass(options_cls) else []


def _convert(raw: str, kind: Any, key: str) -> Any:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind_name == "bool":
            low = raw.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind_name == "int":
            return int(raw)
        if kind_name == "float":
            return float(raw)
    except ValueError:
        raise SeqgenError(f"option {key}={raw!r}: expected a {kind_name}") from None
    return raw


def option_items(pairs: Sequence[str] | dict[str, Any] | None) -> list[tuple[str, Any]]:
    """``KEY=VALUE`` strings (or a dict) as (key, raw value) pairs, keys with _ for -."""
    if isinstance(pairs, dict):
        return list(pairs.items())
    items = []
    for pair in pairs or []:
        if "=" not in pair:
            raise SeqgenError(f"option {pair!r} is not KEY=VALUE")
        key, raw = pair.split("=", 1)
        items.append((key.strip().replace("-", "_"), raw))
    return items


def parse_options(options_cls: type, pairs: Sequence[str] | dict[str, Any] | None) -> Any:
    """Build a domain's Options from ``KEY=VALUE`` strings, validating keys, types and choices."""
    fields = {f.name: f for f in option_fields(options_cls)}
    values: dict[str, Any] = {}
    for key, raw in option_items(pairs):
        if key not in fields:
            known = ", ".join(fields) or "none"
            raise SeqgenError(f"unknown option {key!r}{closest(key, fields)}; known: {known}")
        f = fields[key]
        value = _convert(raw, f.type, key) if isinstance(raw, str) else raw
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise SeqgenError(f"option {key}={value!r}: choose one of {', '.join(choices)}")
        values[key] = value
    return options_cls(**values)


def sample_options(options_cls: type, saved: dict[str, Any],
                   pairs: Sequence[str] | None) -> Any:
    """A trained run's options with ``-o KEY=VALUE`` given at sample time applied on top.

    Only fields whose metadata says ``"render": True`` may change after training (colours,
    widths: how samples are drawn); the rest shaped the model and its codec.
    """
    new = parse_options(options_cls, pairs)  # validates keys, types and choices
    given = {key for key, _ in option_items(pairs)}
    fields = {f.name: f for f in option_fields(options_cls)}
    fixed = sorted(k for k in given if not fields[k].metadata.get("render"))
    if fixed:
        free = ", ".join(k for k, f in fields.items() if f.metadata.get("render")) or "none"
        raise SeqgenError(f"option {fixed[0]} was fixed when the model was trained; at sample "
                          f"time -o takes only: {free}")
    merged = {**saved, **{k: getattr(new, k) for k in given}}
    return parse_options(options_cls, merged)


def options_to_dict(options: Any) -> dict[str, Any]:
    """Options as a plain dict for config.json."""
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        return dataclasses.asdict(options)
    return {}
