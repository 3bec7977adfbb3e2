"""The Python API: what the CLI does, for notebooks and scripts.

    run = seqgen.train("text", data="tinyshakespeare", preset="small", max_time="10m")
    model = seqgen.load(run.run_dir)            # or seqgen.load("text"): the latest text run
    print(model.sample(prime="ROMEO:", temperature=0.8, seed=1)[0])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqgen import models, plugins, runs
from seqgen.conditioning import aligned
from seqgen.config import DEFAULT_PRESET, Overrides
from seqgen.config import preset as get_preset
from seqgen.engine import threads as _threads  # noqa: F401  (its first CPU reading, pre-torch)
from seqgen.engine.settings import SampleSettings
from seqgen.errors import SeqgenError
from seqgen.options import parse_options

if TYPE_CHECKING:
    from seqgen.engine.train import ProgressFn, TrainResult
    from seqgen.inference import Model

#: what --resume may change: how long and how often, and where; never what shaped the model
RESUME_MAY_CHANGE = ("max_steps", "max_time", "eval_every", "save_every", "log_every",
                     "device")

INIT_AND_RESUME = "--init-from starts a new run and --resume continues one: give one of them"

__all__ = ["SampleSettings", "check_budget", "eval_cli", "load", "progress_plan", "sample_cli",
           "train"]


def train(domain: str | None = None, data: str | None = None, *,
          run: str | Path | None = None, preset: str | None = None,
          options: Sequence[str] | dict[str, Any] | None = None, resume: bool = False,
          progress: ProgressFn | bool | None = None, overrides: Overrides | None = None,
          threads: int | None = None, init_from: str | Path | None = None,
          **fields: Any) -> TrainResult:
    """Train (or with resume=True, continue) a model; returns the TrainResult of the run.

    ``overrides`` sets model and training fields over the preset; its fields may also be given
    as keywords (``seqgen.train("text", max_time="10m", hidden=128)``): layers, hidden, embed,
    dropout, skip, seq_len, batch_size, lr, optimizer, max_steps, max_time ("10m" or seconds),
    eval_every, save_every, log_every, seed, device.

    ``progress``: None (or True) prints plain progress lines on stderr, as the CLI does in a
    log; False prints nothing (status lines of slow steps included); a callable
    ``(step, record)`` receives each record instead. Every problem a user can fix (a name,
    a value, a file, a download offline) raises ``seqgen.SeqgenError`` with the one-line
    message the CLI prints. ``threads``: torch's CPU threads (default: chosen from the
    model's size and what the CPUs are doing, engine/threads.py).

    ``domain``: None means "text", or the source's domain with ``init_from``. ``preset``:
    None means "small". ``init_from``: fine-tune, starting from a run directory or a shipped
    model's name (seqgen/finetune.py): its weights and codec, its vocabulary grown by the new
    corpus's symbols, its shape (a contradicting shape field or option is refused), its
    training settings with the fine-tuning defaults over them.
    """
    given = dataclasses.replace(overrides or Overrides(), **fields).given()
    check_budget(given)
    if threads is not None and threads < 1:
        raise SeqgenError(f"--threads {threads}: must be at least 1")
    if progress is False:
        from seqgen.engine.status import silenced

        with silenced(True):
            return train(domain, data, run=run, preset=preset, options=options,
                         resume=resume, progress=_silent, overrides=overrides,
                         threads=threads, init_from=init_from, **fields)
    callback = None if progress is True or progress is None else progress
    if init_from is not None:
        return _finetune(init_from, domain, data, run, preset, options, resume, given,
                         callback, threads)
    domain = domain or "text"
    if resume:
        _check_resume(run, domain, given, options)
        from seqgen.training import resume_run

        return resume_run(domain, run, callback, given, threads)
    cls = plugins.get_domain(domain)  # every name and value checked before torch loads
    opts = parse_options(cls.Options, options)
    p = cls.preset(preset or DEFAULT_PRESET)
    from seqgen.training import new_run

    return new_run(cls(opts), data, p, given, run, callback, threads)


def _finetune(init_from: str | Path, domain: str | None, data: str | None,
              run: str | Path | None, preset: str | None,
              options: Sequence[str] | dict[str, Any] | None, resume: bool,
              given: dict[str, Any], callback: ProgressFn | None,
              threads: int | None) -> TrainResult:
    """train(init_from=...): every refusal in one line before torch loads."""
    from seqgen import finetune
    from seqgen.options import option_items, options_to_dict

    if resume:
        raise SeqgenError(INIT_AND_RESUME)
    source = finetune.resolve(init_from)
    if domain is not None:
        plugins.get_domain(domain)  # an unknown name is its own line
    parsed = options_to_dict(parse_options(plugins.get_domain(source.domain).Options, options))
    asked = {k: parsed[k] for k, _ in option_items(options) if k in parsed}
    finetune.check(source, domain, given, asked, preset)
    from seqgen.training import finetune_run

    return finetune_run(source, data, given, run, callback, threads)


def progress_plan(*, preset: str | None, max_steps: int | None,
                  max_time: str | float | None, resume: bool, run: str | Path | None,
                  domain: str | None,
                  init_from: str | Path | None = None) -> tuple[int, float | None]:
    """What a progress display counts to: the planned steps, or the seconds when --max-time
    alone bounds the run; for --resume, the run's own plan (no torch is loaded)."""
    from seqgen.config import TIME_BOUND_STEPS, parse_duration
    from seqgen.engine.rundir import read_config
    from seqgen.finetune import FINETUNE

    seconds = parse_duration(max_time)
    if resume and init_from is not None:
        raise SeqgenError(INIT_AND_RESUME)
    if not resume:
        planned = FINETUNE["max_steps"] if init_from is not None else \
            get_preset(preset or DEFAULT_PRESET).train.max_steps
        if seconds is not None and max_steps is None:
            return planned, seconds  # the clock ends the run
        return max_steps or planned, None
    latest_of = (domain or "text") if run is None else None
    plan = read_config(runs.resolve_run(run, latest_of))["train"]
    total = max_steps or int(plan.get("max_steps", 0))
    if total >= TIME_BOUND_STEPS:  # a run planned by the clock: count its seconds
        return total, seconds or plan.get("max_time")
    return total, None


def _check_resume(run: str | Path | None, domain: str | None, given: dict[str, Any],
                  options: Sequence[str] | dict[str, Any] | None) -> None:
    """--resume continues a run as it was trained: a flag or -o that would change what shaped
    it is refused in one line naming them (the same values as the run's are fine)."""
    from seqgen.engine.rundir import read_config
    from seqgen.options import option_items

    cfg = read_config(runs.resolve_run(run, domain if run is None else None))
    saved = {**cfg.get("model", {}), **cfg.get("train", {})}
    refused = [f"--{k.replace('_', '-')}" for k, v in given.items()
               if k not in RESUME_MAY_CHANGE and saved.get(k) != v]
    kept = cfg.get("domain", {}).get("options", {})
    if any(str(kept.get(k)) != str(v) for k, v in option_items(options)):
        refused.append("-o")
    if refused:
        raise SeqgenError(f"--resume continues the run as it was trained: "
                          f"{', '.join(refused)} cannot change (drop them, or start a new run)")


def _silent(step: int, record: dict[str, Any]) -> None:
    """progress=False: no lines at all."""


def check_budget(given: dict[str, Any]) -> None:
    """A run must be allowed to take a step: a zero or negative budget is one line."""
    if given.get("max_time") is not None and given["max_time"] <= 0:
        raise SeqgenError(f"--max-time {given['max_time']:g}s: give a positive time "
                          f"(90s, 10m, 1h)")
    for key in ("max_steps", "seq_len", "batch_size", "layers", "hidden", "embed",
                "eval_every", "save_every", "log_every"):
        if given.get(key) is not None and given[key] < 1:
            raise SeqgenError(f"--{key.replace('_', '-')} {given[key]}: must be at least 1")


def load(run_or_domain: str | Path | None = None, device: str = "cpu",
         options: Sequence[str] | None = None, *, model: str | None = None) -> Model:
    """Load a run directory, or a domain by name: its latest local run, else the model its
    plugin ships (said in one line on stderr). ``model`` names a shipped model
    (``seqgen models``) instead.

    ``options`` are ``KEY=VALUE`` render options (the domain's fields marked ``render``).
    """
    from seqgen.inference import Model

    if run_or_domain is None:
        return Model(models.resolve(None, None, model), device=device, options=options)
    path = Path(run_or_domain)
    if (path / "config.json").exists() or path.is_dir() or path.is_file():
        # a run directory, or a runs/DOMAIN/latest pointer file
        return Model(models.resolve(path, None, model), device=device, options=options)
    return Model(models.resolve(None, str(run_or_domain), model), str(run_or_domain), device,
                 options)


def _open(domain: str | None, run: str | Path | None,
          options: Sequence[str] | None = None, threads: int | None = None,
          model: str | None = None, style: int | str | None = None) -> Model:
    """The model a command uses; with ``style``, a saved style's name, the run fine-tuned on
    that style where there is one (seqgen/style_tuning.py)."""
    from seqgen.inference import Model

    path = models.resolve(run, domain, model)
    if isinstance(style, str):
        from seqgen.style_tuning import swap

        path = swap(path, style)
    return Model(path, domain, options=options, threads=threads)


def sample_cli(settings: SampleSettings, *, domain: str | None, run: str | Path | None,
               render: Path | None, text_file: Path | None = None,
               attention: Path | None = None,
               options: Sequence[str] | None = None, threads: int | None = None,
               model_name: str | None = None, tuned: bool = True) -> list[Path]:
    """``seqgen sample``: stream text to stdout, or write files with a renderer. ``tuned``:
    with a saved style's name, the run fine-tuned on it where there is one."""
    import sys

    settings.check()  # before the model loads: a bad value is refused at once
    model = _open(domain, run, options, threads, model_name, settings.style if tuned else None)
    if text_file is not None:
        if settings.text is not None:
            raise SeqgenError("give --text or --text-file, not both")
        try:
            settings.text = text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SeqgenError(f"{text_file}: cannot read the text ({exc})") from None
    if settings.text is None and (model.vocab is not None or aligned(model.domain)):
        said = list(dict.fromkeys(model.default_texts(settings.num)))
        cond = model.config["condition"] or {"examples": model.config.get("examples")}
        where = (f"{cond.get('examples_from', 'held-out')} lines of its corpus"
                 if cond.get("examples") else "a pangram")
        print(f"seqgen: no --text given: writing {' | '.join(map(repr, said))} ({where}; "
              f"--text chooses)", file=sys.stderr)
    num = settings.num
    stream = render is None and num == 1 and model.domain.stream_decoder() is not None

    def write(out: str) -> None:
        sys.stdout.write(out)
        sys.stdout.flush()

    samples = model.sample(settings, on_text=write if stream else None)
    if attention is not None:
        print(f"wrote {model.plot_attention(attention)}", file=sys.stderr)
    if stream:
        write("\n")
        return []
    if render is None and all(isinstance(s, str) for s in samples):
        for i, s in enumerate(samples):
            write(f"=== sample {i + 1} ===\n{s}\n" if num > 1 else f"{s}\n")
        return []
    out = render or _free_name(Path(f"{model.domain.name}-sample{model.domain.default_render}"))
    paths = model.render(samples, out)
    for p in paths:
        print(f"wrote {p}", file=sys.stderr)
    return paths


def _free_name(path: Path) -> Path:
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def eval_cli(*, domain: str | None, run: str | Path | None, data: str | None,
             threads: int | None = None, model_name: str | None = None) -> dict[str, float]:
    """``seqgen eval``: the held-out loss of a run in its domain's units."""
    return _open(domain, run, threads=threads, model=model_name).evaluate(data)
