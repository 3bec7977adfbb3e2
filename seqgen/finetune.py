"""Fine-tuning: a new run that starts from a trained model's weights and codec.

``seqgen train --init-from RUN_OR_MODEL`` (``seqgen.train(..., init_from=...)``) takes a run
directory or a shipped model's name (Magenta's warm start; a TTS voice fitted to one's own
recordings). What the source learnt stays what it means:

- the codec is the source's (its options and fitted state: the vocabulary, the normalisation
  statistics, the voices); symbols of the new corpus that it lacks are appended to its end by
  ``Domain.grow`` (and, for a text-conditioned model, to the text alphabet), and the weights
  grow with them (engine/grow.py); a domain that cannot grow names them in one line;
- the network's shape is the source's: a shape flag or ``-o`` option that contradicts it is
  refused in one line;
- the training settings are the source's, with ``FINETUNE``'s measured defaults over them
  (docs/engine.md, Fine-tuning), and the user's flags over those.

Nothing here imports torch; ``seqgen.training`` loads the weights.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqgen import models, runs
from seqgen.config import ModelConfig, TrainConfig, apply_overrides, from_dict
from seqgen.errors import SeqgenError

#: what a fine-tuning run changes of the source's training settings, measured on the shipped
#: Shakespeare model fitted in 90 s to small corpora of other kinds (docs/engine.md,
#: Fine-tuning; benchmarks/bench_finetune.py): the source's peak learning rate (``lr_scale``
#: 1; 0.25 and 0.5 lost, 1.5 was level), batch 8 (more updates in the same minutes: 16, 32
#: and 64 lost), a short warm-up, and a step count of its own (a source trained by the clock
#: would otherwise plan its hours again)
FINETUNE: dict[str, Any] = {"lr_scale": 1.0, "batch_size": 8, "warmup": 10, "max_steps": 500,
                            "schedule": "cosine"}
#: the flags that shape the network: a fine-tuned model keeps the source's
SHAPE = ("layers", "hidden", "embed", "skip")


@dataclass
class Source:
    """The model a run starts from."""

    spec: str  # as the user gave it
    kind: str  # "shipped model" or "run"
    path: Path
    config: dict[str, Any]

    @property
    def domain(self) -> str:
        return str(self.config["domain"]["name"])

    def record(self, grown: list[str]) -> dict[str, Any]:
        """What config.json keeps of the source (``seqgen info`` and ``seqgen runs`` show it)."""
        return {"source": self.spec, "kind": self.kind,
                "path": str(self.path.resolve()) if self.kind == "run" else None,
                "domain": self.domain, "step": self.config.get("step"),
                "val_loss": self.config.get("val_loss"), "grown": grown}


def resolve(spec: str | Path) -> Source:
    """A run directory (or a runs/DOMAIN/latest pointer), else a shipped model by name."""
    from seqgen.engine.rundir import read_config

    path = Path(spec)
    if path.exists():
        found = runs.resolve_run(path, None)
        if not runs.is_run(found):
            raise SeqgenError(f"--init-from {spec}: not a trained run (no config.json and "
                              f"model.safetensors)")
        return Source(str(spec), "run", found, read_config(found))
    try:
        model = models.find(str(spec))
    except SeqgenError as exc:
        raise SeqgenError(f"--init-from {spec}: no such run directory, and {exc}") from None
    return Source(str(spec), "shipped model", model.path, read_config(model.path))


def describe(record: dict[str, Any] | None) -> str:
    """One line of a run's source: 'the shipped model shakespeare (step 1362)'."""
    if not record:
        return ""
    step = record.get("step")
    grown = record.get("grown") or []
    more = f", grown by {len(grown)} symbol{'s' * (len(grown) != 1)}" if grown else ""
    return (f"{record.get('kind', '?')} {record.get('source', '?')}"
            f"{f' (step {step})' if step is not None else ''}{more}")


def check(source: Source, domain: str | None, given: dict[str, Any],
          options: dict[str, Any], preset: str | None) -> None:
    """Refuse, in one line, what contradicts the source: another domain, a shape, an option."""
    if domain is not None and domain != source.domain:
        raise SeqgenError(f"--init-from {source.spec} is a {source.domain!r} model, not "
                          f"{domain!r} (drop --domain, or name a {domain!r} model)")
    if preset is not None:
        raise SeqgenError(f"--preset {preset}: with --init-from the shape is the source's "
                          f"(drop --preset)")
    model = source.config["model"]
    wrong = [f"--{k}{'' if isinstance(given[k], bool) else ' ' + str(given[k])} (the source: "
             f"{model.get(k)})" for k in SHAPE if k in given and given[k] != model.get(k)]
    saved = source.config["domain"].get("options", {})
    wrong += [f"-o {k}={v} (the source: {saved.get(k)})" for k, v in options.items()
              if saved.get(k) != v and str(saved.get(k)) != str(v)]
    if wrong:
        raise SeqgenError(f"--init-from {source.spec}: {', '.join(wrong)} contradict"
                          f"{'s' * (len(wrong) == 1)} the source; a fine-tuned model keeps "
                          f"its shape and codec (drop {'it' if len(wrong) == 1 else 'them'})")


def configs(source: Source, given: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """The source's model, and its training settings with FINETUNE's and the user's over."""
    base = from_dict(TrainConfig, source.config["train"])
    tuned = dataclasses.replace(
        base, lr=base.lr * FINETUNE["lr_scale"], batch_size=FINETUNE["batch_size"],
        warmup=FINETUNE["warmup"], schedule=FINETUNE["schedule"],
        max_steps=FINETUNE["max_steps"], max_time=None, time_limit=None,
        eval_every=min(base.eval_every, 100), save_every=min(base.save_every, 100))
    mcfg = apply_overrides(from_dict(ModelConfig, source.config["model"]),
                           {k: v for k, v in given.items() if k not in SHAPE})
    return mcfg, apply_overrides(tuned, given)
