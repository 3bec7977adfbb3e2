"""``seqgen runs``: list the runs, ``seqgen runs rm RUN``: remove one.

Fast: it reads config.json and the tail of metrics.jsonl, never torch or a checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from seqgen import plugins, runs
from seqgen.cli.commands import fail, handles_errors

runs_app = typer.Typer(rich_markup_mode=None)


def _domains_with_runs(incomplete: str) -> list[str]:
    root = runs.runs_root()
    found = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return [n for n in found if n.startswith(incomplete)]


def _run_names(incomplete: str) -> list[str]:
    root = runs.runs_root()
    found = [f"{b.name}/{r.name}" for b in sorted(root.iterdir()) if b.is_dir()
             for r in runs.runs_in(b)] if root.is_dir() else []
    return [n for n in found if n.startswith(incomplete)]


@runs_app.callback(invoke_without_command=True)
@handles_errors
def runs_list(
    ctx: typer.Context,
    domain: Annotated[str | None, typer.Option("--domain", "-d", autocompletion=_domains_with_runs,
                                               help="Only this domain's runs.")] = None,
) -> None:
    """List the runs (domain, name, steps, validation loss, size, date, which is latest);
    `seqgen runs rm RUN` removes one."""
    if ctx.invoked_subcommand is None:
        runs_table(domain)


@runs_app.command("rm")
@handles_errors
def runs_rm(
    run: Annotated[str, typer.Argument(help="Run directory, or DOMAIN/NAME under the runs root.",
                                       autocompletion=_run_names)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a run (not one being trained); a latest pointer naming it moves to the newest."""
    path = runs.find_run(run)
    if not yes:
        if not _interactive():
            fail(f"not removing {path} without confirmation: pass --yes")
        typer.confirm(f"remove {path} ({_size(_disk_usage(path))})?", abort=True)
    print(runs.remove_run(path), file=sys.stderr)


def _interactive() -> bool:
    return sys.stdin.isatty()


def runs_table(domain: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    root = runs.runs_root()
    if domain is not None:
        runs.check_domain(domain)
        bases = [root / domain]
    else:
        bases = sorted(p for p in root.iterdir()
                       if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
    rows = []
    for base in bases:
        latest = runs.latest_in(base)
        rows += [_row(base.name, run, run == latest) for run in runs.runs_in(base)]
    if not rows:
        which = f"{domain!r} runs" if domain else "runs"
        print(f"seqgen: no {which} under {root}: train one with `seqgen train --domain "
              f"{domain or 'text'}`", file=sys.stderr)
        return
    table = Table(title=f"seqgen runs (under {root})")
    for col in ("domain", "run", "from", "steps", "validation", "size", "created", "state"):
        table.add_column(col, overflow="fold",
                         justify="right" if col in ("steps", "validation", "size") else "left")
    for row in rows:
        table.add_row(*row)
    Console(width=max(Console().width, 120)).print(table)


def _row(domain: str, run: Path, latest: bool) -> list[str]:
    cfg = runs.run_config(run) or {}
    step, val = _progress(run, cfg)
    state = [s for s, on in (("latest", latest), ("training", runs.training(run))) if on]
    source = (cfg.get("init_from") or {}).get("source")  # fine-tuned from (--init-from)
    origin = "-" if not source else Path(source).name if os.sep in source else source
    return [domain, run.name, origin, str(step), _figure(cfg, val), _size(_disk_usage(run)),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(runs.created(run))),
            ", ".join(state)]


def _progress(run: Path, cfg: dict[str, Any]) -> tuple[int, float | None]:
    """The step and validation loss (nats per step): config.json's, or the last lines of
    metrics.jsonl when they are further on (a run being trained saves its config at
    checkpoints only)."""
    step, val = int(cfg.get("step") or 0), cfg.get("val_loss")
    for line in _tail(run / "metrics.jsonl"):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("step"), int) and rec["step"] >= step:
            step, val = rec["step"], rec.get("val_loss", val)
    return step, val


def _tail(path: Path, size: int = 4096) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - size))
            lines = f.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return lines[1:] if len(lines) > 1 else lines  # the first may be cut


def _figure(cfg: dict[str, Any], val: Any) -> str:
    """The validation loss in the domain's unit (its metrics' first figure per unit), or in
    nats per step where the domain is not installed or cannot say."""
    if not isinstance(val, int | float) or not math.isfinite(val):
        return "-"
    from seqgen.options import parse_options

    try:
        saved = cfg["domain"]
        cls = plugins.domains()[saved["name"]]
        dom = cls(parse_options(cls.Options, saved.get("options", {})),
                  state=saved.get("state", {}))
        name, value = next((k, v) for k, v in dom.metrics(float(val)).items() if "/" in k)
        return f"{value:.3f} {name}"
    except Exception:  # noqa: BLE001 - a missing or broken domain still gets its row
        return f"{val:.3f} nats/step"


def _disk_usage(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def _size(n: float) -> str:
    units, i = ("B", "kB", "MB", "GB"), 0
    while n >= 1000 and i < len(units) - 1:
        n, i = n / 1000, i + 1
    return f"{n:.0f} B" if i == 0 else f"{n:.1f} {units[i]}"
