"""A saved style fine-tuned on (issue 27 item 3a): a short, gentle fine-tune of a model on a
style's few lines, kept in the cache, which ``seqgen sample --prime-style NAME`` and ``seqgen
serve`` write with (primed with the same lines) where one exists for the style as it is now.

The recipe was measured on a handwriting model of the synthetic corpus and a new writer outside
its ranges, 5 lines as the style and 40 others held out (docs/domains/handwriting.md, Your own
hand): the fine-tuning defaults (lr 3e-3 for 60 s, 232 steps) overfit the 5 lines (held-out
+11.5 nats a point against the source's +0.46); lr 3e-4 for 30 steps fitted the writer's other
lines best (-1.93), 3e-4 for 150 steps overfit again (+4.1). So: ``LR``, ``STEPS_PER_LINE``
(between ``MIN_STEPS`` and ``MAX_STEPS``), batch ``BATCH``, one thread, and every line trains
(a style has too few to hold any out): 10 to 20 s on a CPU.

A tuned run is an ordinary run directory (``seqgen.load`` opens it) at ``<cache>/styles/
<domain>/<NAME>-<STYLE>-<MODEL>``: STYLE a digest of the style's files (names and bytes), MODEL
one of the source model (its resolved path, its weights' size and mtime) and of the recipe, so
that a changed style, model or recipe is tuned afresh and never mistaken for the old. It trains
in a hidden folder beside and is renamed into place (nothing half-trained is ever found); when
a style is tuned, its runs for other lines than its own are removed, and ``remove_style``
removes a style with its tuned runs. Nothing here imports torch (``tune`` does, to train).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from seqgen import finetune, models, runs, styles
from seqgen.datasets import cache_dir
from seqgen.errors import SeqgenError
from seqgen.styles import Style

LR = 3e-4
STEPS_PER_LINE = 6
MIN_STEPS, MAX_STEPS = 20, 120
BATCH = 8
#: part of every tuned run's digest: a new recipe tunes afresh
RECIPE = f"lr {LR:g}, {STEPS_PER_LINE} steps a line ({MIN_STEPS} to {MAX_STEPS}), batch {BATCH}"
STALE_S = 3600.0  # a hidden training folder this old was left by a process that died
_memo: dict[tuple[Any, ...], str] = {}  # a style's digest by its files' names, sizes, mtimes


def steps_for(lines: int) -> int:
    """Training steps for a style of ``lines`` lines."""
    return min(MAX_STEPS, max(MIN_STEPS, STEPS_PER_LINE * lines))


def tuning_root() -> Path:
    """Where tuned runs are kept: the cache's ``styles`` folder ($SEQGEN_CACHE)."""
    return cache_dir() / "styles"


def style_digest(style: Style) -> str:
    """The style's lines: their file names and bytes (read again only when a file's size or
    mtime changed: the server asks on every listing)."""
    stats = tuple((f.name, s.st_size, s.st_mtime_ns) for f in style.files for s in [f.stat()])
    key = (str(style.path), stats)
    if key not in _memo:
        h = hashlib.sha256()
        for f in style.files:
            data = f.read_bytes()
            h.update(f"{f.name}\0{len(data)}\0".encode() + data)
        if len(_memo) > 512:
            _memo.clear()
        _memo[key] = h.hexdigest()[:12]
    return _memo[key]


def model_digest(run_dir: Path) -> str:
    """The source model: its resolved path, its weights' size and mtime, and the recipe."""
    w = (run_dir / "model.safetensors").stat()
    said = f"{run_dir.resolve()}\0{w.st_size}\0{w.st_mtime_ns}\0{RECIPE}"
    return hashlib.sha256(said.encode()).hexdigest()[:12]


def _style_of(source: finetune.Source, style: Style | str) -> Style:
    if isinstance(style, str):
        return styles.find(source.domain, style)
    if style.domain != source.domain:
        raise SeqgenError(f"style {style.name!r} is a {style.domain} style; {source.spec} is a "
                          f"{source.domain} model")
    return style


def _place(run_dir: Path, style: Style, root: Path | None) -> Path:
    return ((root or tuning_root()) / style.domain /
            f"{style.name}-{style_digest(style)}-{model_digest(run_dir)}")


def tuned(model_source: str | Path, style: Style | str, root: Path | None = None) -> Path | None:
    """The finished tuned run of this model (a run directory or a shipped model's name) on the
    style as it is now (a saved style, or its name), if there is one. A run directory with a
    saved style (of its domain) reads no config: the server asks on every listing."""
    try:
        run_dir = Path(model_source)
        if not (isinstance(style, Style) and runs.is_run(run_dir)):
            source = finetune.resolve(model_source)
            run_dir, style = source.path, _style_of(source, style)
        found = _place(run_dir, style, root)
    except (OSError, SeqgenError):
        return None
    return found if runs.is_run(found) else None


def tune(model_source: str | Path, style: Style | str, *, root: Path | None = None,
         quiet: bool = False) -> Path:
    """Fine-tune the model (a run directory or a shipped model's name) on the style's lines
    with the recipe above; its tuned run (at once where it is there already). ``quiet``: no
    progress lines. ``root``: where tuned runs are kept (default ``tuning_root()``)."""
    source = finetune.resolve(model_source)
    style = _style_of(source, style)
    if not source.config.get("condition"):
        raise SeqgenError(f"{source.spec} writes from no text: a style primes and tunes a "
                          f"text-conditioned model")
    found = tuned(source.path, style, root)
    if found is not None:
        return found
    base = (root or tuning_root()) / style.domain
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{style.name}.tuning-", dir=base))
    try:
        lines = _snapshot(style, work / "style")  # the style as it is now, read once
        final = _place(source.path, lines, root)
        _train(source, lines.path, lines, work / "run", quiet)  # grow fits density, scale
        _settle(work / "run", style.path)
        try:
            os.rename(work / "run", final)
        except OSError:
            if not runs.is_run(final):  # else another process tuned it first: the same run
                raise
        _sweep(base, style.name, style_digest(lines))
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _snapshot(style: Style, into: Path) -> Style:
    """A copy of the style's files: what is tuned on and digested is one and the same."""
    into.mkdir()
    for f in style.files:
        shutil.copyfile(f, into / f.name)
    return Style(style.domain, style.name, into, tuple(into / f.name for f in style.files))


def _train(source: finetune.Source, data: Path, style: Style, run: Path, quiet: bool) -> None:
    from seqgen.engine.status import silenced
    from seqgen.training import finetune_run

    given = {"lr": LR, "batch_size": BATCH, "max_steps": steps_for(style.lines),
             "val_fraction": 0.0}
    record = {"style": {"name": style.name, "lines": style.lines,
                        "digest": style_digest(style), "recipe": RECIPE}}
    with silenced(quiet):
        done = finetune_run(source, str(data), given, run, _silent if quiet else None,
                            n_threads=1, record=record)
    if done.interrupted:
        raise SeqgenError(f"fine-tuning on style {style.name!r} was interrupted: nothing kept")


def _settle(run: Path, style_dir: Path) -> None:
    """A tuned run as it is kept: no resume state (it is only sampled, and its checkpoints are
    six times its weights), its data the style's own folder (not the training copy's)."""
    from seqgen.engine.rundir import read_config
    from seqgen.fileio import write_json

    shutil.rmtree(run / "checkpoints", ignore_errors=True)
    config = read_config(run)
    config["data"]["source"] = str(style_dir)
    write_json(run / "config.json", config)


def _silent(step: int, record: dict[str, Any]) -> None:
    """quiet: no progress lines."""


def _sweep(base: Path, name: str, keep: str | None) -> None:
    """This style's tuned runs for other lines than ``keep`` (a style digest; None: every
    one), and the training folders of its that a process which died left behind."""
    ours = re.compile(re.escape(name) + r"-([0-9a-f]{12})-[0-9a-f]{12}")
    for p in base.iterdir():
        found = ours.fullmatch(p.name)
        left = p.name.startswith(f".{name}.tuning-") and \
            time.time() - p.stat().st_mtime > STALE_S
        if (found and found.group(1) != keep) or left:
            shutil.rmtree(p, ignore_errors=True)


def remove_style(domain: str | None, name: str) -> Path:
    """``seqgen style rm``: the style (``seqgen.styles.remove``) and its tuned runs."""
    path = styles.remove(domain, name)
    base = tuning_root() / path.parent.name
    if base.is_dir():
        _sweep(base, name, None)
    return path


def source_of(run: str | Path | None, model: str | None, domain: str | None) -> str | Path:
    """The model ``seqgen style tune`` tunes, as ``seqgen sample`` finds it: ``--run``,
    ``--model``, else the domain's latest run or the model its plugin ships."""
    if run is not None and model is not None:
        raise SeqgenError("give --run or --model, not both")
    if model is not None:
        return model
    if run is not None:
        return runs.resolve_run(run, None)
    return models.resolve(None, styles.domain_for(domain).name)


def tune_cli(name: str, run: str | Path | None = None, model: str | None = None,
             domain: str | None = None) -> Path:
    """``seqgen style tune NAME``: the model fine-tuned on the style in the foreground."""
    spec = source_of(run, model, domain)
    source = finetune.resolve(spec)
    if domain is not None and domain != source.domain:
        raise SeqgenError(f"{source.spec} is a {source.domain!r} model, not {domain!r}")
    style = styles.find(source.domain, name)
    done = tuned(spec, style)
    if done is not None:
        print(f"seqgen: style {name!r} is tuned already for this model", file=sys.stderr)
        return done
    print(f"seqgen: fine-tuning {source.spec} on the {style.lines} lines of style {name!r} "
          f"({RECIPE})", file=sys.stderr)
    return tune(spec, style)


def swap(run_dir: Path, style: str) -> Path:
    """``--prime-style NAME``: the run fine-tuned on that style where there is one (said in
    one line on stderr), else the model's own."""
    found = tuned(run_dir, style)
    if found is None:
        return run_dir
    print(f"seqgen: using {style}'s fine-tuned weights (seqgen style tune; --no-tuned: the "
          f"model's own)", file=sys.stderr)
    return found
