"""Typed configuration and the named presets (the one place where presets live)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from seqgen.errors import SeqgenError, closest


@dataclass
class ModelConfig:
    """The network: embedding or projection, an LSTM stack, an output head."""

    layers: int = 2
    hidden: int = 256
    embed: int = 64
    dropout: float = 0.0
    #: Graves 2013 skip connections: input to every layer, every layer to the head
    skip: bool = False
    #: a model with known columns (VectorInput.known): the chance that a training step's
    #: fed-back part (the previous frame) is zeroed, so that the model learns to speak from
    #: the known columns and not only from the frame before (Tacotron 2's always-on prenet
    #: dropout serves the same end); 0 keeps every frame
    feedback_dropout: float = 0.0


@dataclass
class TrainConfig:
    """How to train: batching, optimiser, schedule, stopping, checkpoints."""

    seq_len: int = 128
    batch_size: int = 64
    lr: float = 2e-3
    optimizer: str = "adam"  # adam | adamw | rmsprop
    weight_decay: float = 0.0
    clip: float = 5.0  # max gradient norm; 0 disables
    schedule: str = "cosine"  # cosine | constant
    warmup: int = 50
    min_lr_ratio: float = 0.1
    max_steps: int = 1000
    max_time: float | None = None  # seconds: the run's plan (the schedule anneals over it)
    #: seconds this invocation may train (--max-time given with --resume): not the plan
    time_limit: float | None = None
    eval_every: int = 200
    eval_batches: int = 50
    save_every: int = 200
    log_every: int = 10
    seed: int = 1337
    val_fraction: float = 0.1
    device: str = "auto"


@dataclass
class Preset:
    """A named size: a model and the training settings that suit it."""

    model: ModelConfig
    train: TrainConfig
    help: str = ""


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        ModelConfig(layers=1, hidden=32, embed=16),
        TrainConfig(seq_len=32, batch_size=8, lr=1e-2, max_steps=30, eval_every=10,
                    eval_batches=4, save_every=10, log_every=1, warmup=0),
        "for tests: trains in seconds",
    ),
    "small": Preset(
        ModelConfig(layers=2, hidden=256, embed=64, dropout=0.0),
        # batch 32 beat 64 on a 10-minute CPU budget: val 1.50 against 1.60 nats/char on Tiny
        # Shakespeare (docs/domains/text.md), at the same tokens/s, from twice the updates; text,
        # handwriting and speech train it at 16, measured per domain (Domain.preset_tuning)
        TrainConfig(seq_len=128, batch_size=32, lr=3e-3, max_steps=2000, eval_every=200),
        "the default: a CPU in minutes",
    ),
    "medium": Preset(
        ModelConfig(layers=2, hidden=512, embed=128, dropout=0.2),
        TrainConfig(seq_len=128, batch_size=64, lr=2e-3, max_steps=5000, eval_every=500,
                    save_every=500),
        "a GPU, or a CPU over hours",
    ),
    "large": Preset(
        ModelConfig(layers=3, hidden=1024, embed=256, dropout=0.3),
        TrainConfig(seq_len=256, batch_size=64, lr=1e-3, max_steps=20000, eval_every=1000,
                    save_every=1000),
        "a GPU",
    ),
}
DEFAULT_PRESET = "small"


def preset(name: str) -> Preset:
    """A fresh copy of a named preset."""
    if name not in PRESETS:
        raise SeqgenError(f"unknown preset {name!r}{closest(name, PRESETS)}; "
                          f"known: {', '.join(PRESETS)}")
    p = PRESETS[name]
    return Preset(dataclasses.replace(p.model), dataclasses.replace(p.train), p.help)


#: max_steps when only --max-time is given: the clock ends the run, not the preset's step count
TIME_BOUND_STEPS = 2**31 - 1


@dataclass
class Overrides:
    """What a user sets over a preset, None meaning the preset's value: the one training
    settings object from the CLI (``seqgen train``) through the API (``seqgen.train``)."""

    layers: int | None = None
    hidden: int | None = None
    embed: int | None = None
    dropout: float | None = None
    skip: bool | None = None
    feedback_dropout: float | None = None
    seq_len: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    optimizer: str | None = None
    max_steps: int | None = None
    max_time: float | str | None = None  # seconds, or "90s", "10m", "1h30m"
    eval_every: int | None = None
    save_every: int | None = None
    log_every: int | None = None
    seed: int | None = None
    device: str | None = None

    def given(self) -> dict[str, Any]:
        """The fields set, max_time in seconds; with max_time alone the clock ends the run
        ("train for 20 minutes" means 20 minutes, not the preset's step count)."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        if "max_time" in out:
            out["max_time"] = parse_duration(out["max_time"])
            out.setdefault("max_steps", TIME_BOUND_STEPS)
        return out


def apply_overrides(obj: Any, overrides: dict[str, Any]) -> Any:
    """Return a copy of a config dataclass with the non-None overrides applied."""
    names = {f.name for f in dataclasses.fields(obj)}
    return dataclasses.replace(obj, **{k: v for k, v in overrides.items()
                                       if k in names and v is not None})


def tuned(p: Preset, fields: dict[str, Any], who: str) -> Preset:
    """A preset with a domain's measured fields over it (``Domain.preset_tuning``)."""
    names = {f.name for f in (*dataclasses.fields(ModelConfig), *dataclasses.fields(TrainConfig))}
    unknown = sorted(set(fields) - names)
    if unknown:
        raise SeqgenError(f"{who}: preset_tuning names unknown fields {', '.join(unknown)}")
    return Preset(apply_overrides(p.model, fields), apply_overrides(p.train, fields), p.help)


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build a config dataclass from a dict, ignoring unknown keys (older or newer files)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def to_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s|ms)?", re.I)


def parse_duration(text: str | float | None) -> float | None:
    """'90', '90s', '10m', '1h30m' -> seconds."""
    if text is None or isinstance(text, (int, float)):
        return None if text is None else float(text)
    s = text.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, None: 1.0}
    while pos < len(s):
        m = _DURATION.match(s, pos)
        if not m or m.end() == pos:
            raise SeqgenError(f"cannot read duration {text!r}: use forms like 90s, 10m, 1h30m")
        total += float(m.group(1)) * scale[m.group(2)]
        pos = m.end()
    if not s:
        raise SeqgenError("empty duration")
    return total
