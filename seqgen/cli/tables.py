"""Tables for `seqgen domains` and `seqgen info` (rich)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from seqgen import plugins
from seqgen.domain import option_fields


def domains_table() -> None:
    table = Table(title="seqgen domains")
    for col in ("name", "version", "package", "input formats", "renderers", "default corpus"):
        table.add_column(col, overflow="fold")
    for name, cls in plugins.domains().items():
        try:
            rend = ", ".join(sorted(plugins.renderers_of(cls())))
        except Exception as exc:  # noqa: BLE001 - a broken domain still gets a row
            rend = f"(error: {exc})"
        table.add_row(name, cls.version, plugins.package_of(cls), ", ".join(cls.input_formats),
                      rend, cls.default_corpus)
    Console(width=max(Console().width, 140)).print(table)


def domain_options_table(name: str) -> None:
    cls = plugins.get_domain(name)
    table = Table(title=f"options of domain {name!r} (pass as -o KEY=VALUE to train; "
                        f"those marked 'sample' to seqgen sample as well)")
    for col in ("key", "type", "default", "when", "help"):
        table.add_column(col, overflow="fold")
    for f in option_fields(cls.Options):
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        choices = f.metadata.get("choices")
        table.add_row(f.name, kind + (f" ({'|'.join(choices)})" if choices else ""),
                      repr(f.default), "sample" if f.metadata.get("render") else "train",
                      f.metadata.get("help", ""))
    Console(width=max(Console().width, 120)).print(table)


def _limit(t: dict[str, Any]) -> str:
    """What ends the run: its steps, its time, or both (a --max-time run's step count is a
    placeholder, never shown: issue 28)."""
    from seqgen.config import TIME_BOUND_STEPS
    from seqgen.engine.status import clock

    steps = t.get("max_steps")
    seconds = t.get("max_time")
    parts = [] if steps in (None, TIME_BOUND_STEPS) else [f"max_steps {steps}"]
    if seconds:
        parts.append(f"max_time {clock(float(seconds))}")
    return ", ".join(parts) or "no limit"


def _feedback(p: float | None) -> str:
    return f", feedback dropout {p}" if p else ""


def run_info(run: Path) -> None:
    from seqgen.engine.rundir import latest_checkpoint, read_config

    cfg = read_config(run)
    dom, m, t = cfg["domain"], cfg["model"], cfg["train"]
    ck = latest_checkpoint(run)
    rows = {
        "run": str(run), "domain": f"{dom['name']} {dom['version']} ({dom.get('package', '?')})",
        "options": json.dumps(dom.get("options", {})),
        "data": f"{cfg['data'].get('source') or '(default corpus)'} ({cfg['data']['batching']})",
        "model": f"{m['layers']} x {m['hidden']} LSTM, embed {m['embed']}, dropout {m['dropout']}"
                 f"{', skip connections' if m.get('skip') else ''}"
                 f"{_feedback(m.get('feedback_dropout'))}; head {cfg['head']['name']}, "
                 f"{cfg['input']['kind']} of size {cfg['input']['size']}",
        "training": f"seq_len {t['seq_len']}, batch {t['batch_size']}, {t['optimizer']} "
                    f"lr {t['lr']}, {_limit(t)}, seed {t['seed']}",
        "step": str(cfg.get("step", 0)), "val loss": _val(cfg.get("val_loss")),
        "sampled weights": (f"step {cfg['best_step']} (the best validation, "
                            f"{_val(cfg.get('best_val_loss'))})" if cfg.get("best_step")
                            is not None else "the last step's"),
        "checkpoint": str(ck) if ck else "none", "seqgen": cfg.get("seqgen_version", "?"),
        "created": cfg.get("created", "?"),
    }
    if cfg.get("init_from"):  # a fine-tuned run: what it started from
        from seqgen.finetune import describe

        rows["init from"] = describe(cfg["init_from"])
    for name, share in (cfg.get("companions") or {}).items():  # trained beside it
        sub = read_config(run / name)
        rows[f"{name} model"] = (f"{run / name}: {sub['model']['layers']} x "
                                 f"{sub['model']['hidden']} LSTM, step {sub.get('step', 0)}, "
                                 f"val loss {_val(sub.get('val_loss'))} ({share:.0%} of the "
                                 f"budget)")
    voices = (dom.get("state") or {}).get("voices")
    if voices:  # a speaker-conditioned model: what --voice takes
        rows["voices"] = ", ".join(voices)
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for k, v in rows.items():
        table.add_row(k, v)
    Console(width=max(Console().width, 120)).print(table)


def plugins_table() -> None:
    pm = plugins.get_plugin_manager()
    table = Table(title="seqgen plugins")
    for col in ("name", "module", "hooks"):
        table.add_column(col, overflow="fold")
    for name, plugin in sorted(pm.list_name_plugin()):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        table.add_row(name, getattr(plugin, "__name__", repr(plugin)), ", ".join(hooks))
    Console(width=max(Console().width, 120)).print(table)


def _val(value: Any) -> str:
    """A run's validation loss; '-' for none (too little data to hold out a split)."""
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.4f}"
    return "- (no validation split)"


def models_table(domain: str | None) -> None:
    """`seqgen models`: what each shipped model is, how big, how good, and its recipe."""
    from seqgen import models

    if domain is not None:
        plugins.get_domain(domain)
    table = Table(title="shipped models (--model NAME; used by default when a domain has no "
                        "local run; docs/models.md)")
    for col in ("name", "domain", "corpus", "size", "figures", "recipe"):
        table.add_column(col, overflow="fold")
    for m in models.shipped().values():
        if domain is not None and m.domain != domain:
            continue
        row = models.describe(m)
        figures = "; ".join(f"{k} {v}" for k, v in row["figures"].items())
        name = row["name"] + (" (default)" if models.default_for(m.domain) == m else "")
        table.add_row(name, row["domain"], row["corpus"], f"{row['size'] / 1e6:.1f} MB",
                      figures, row["command"])
    Console(width=max(Console().width, 140)).print(table)
