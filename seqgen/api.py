"""The Python API: what the CLI does, for notebooks and scripts.

    run = seqgen.train("text", data="tinyshakespeare", preset="small", max_time="10m")
    model = seqgen.load(run.run_dir)            # or seqgen.load("text"): the latest text run
    print(model.sample(prime="ROMEO:", temperature=0.8, seed=1)[0])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from seqgen import plugins, runs
from seqgen.assembly import (
    batches,
    build_model,
    domain_from_config,
    example_texts,
    fit_vocab,
    no_validation,
    run_config,
    sequences,
    val_batches,
)
from seqgen.config import (
    DEFAULT_PRESET,
    ModelConfig,
    Overrides,
    TrainConfig,
    apply_overrides,
    from_dict,
    to_dict,
)
from seqgen.config import preset as get_preset
from seqgen.datasets import cache_dir
from seqgen.domain import Domain, parse_options
from seqgen.engine import checkpoint as ckpt
from seqgen.engine import distributed
from seqgen.engine.data import Encoded, encode_corpus, split
from seqgen.engine.optim import resolve_device
from seqgen.engine.sample import SampleSettings
from seqgen.engine.train import ProgressFn, Trainer, TrainResult
from seqgen.engine.vocab import TextVocab
from seqgen.errors import SeqgenError
from seqgen.inference import Model


def train(domain: str = "text", data: str | None = None, *, run: str | Path | None = None,
          preset: str = DEFAULT_PRESET, options: Sequence[str] | dict[str, Any] | None = None,
          resume: bool = False, progress: ProgressFn | None = None,
          overrides: Overrides | None = None, **fields: Any) -> TrainResult:
    """Train (or with resume=True, continue) a model; returns the TrainResult of the run.

    ``overrides`` sets model and training fields over the preset; its fields may also be given
    as keywords (``seqgen.train("text", max_time="10m", hidden=128)``): layers, hidden, embed,
    dropout, skip, seq_len, batch_size, lr, optimizer, max_steps, max_time ("10m" or seconds),
    eval_every, save_every, log_every, seed, device.
    """
    given = dataclasses.replace(overrides or Overrides(), **fields).given()
    if resume:
        return _resume(domain, run, progress, given)
    cls = plugins.get_domain(domain)
    dom = cls(parse_options(cls.Options, options))
    corpus = dom.load_corpus(data)
    dom.fit(corpus.documents)
    vocab = fit_vocab(dom, corpus.documents, data)
    enc = encode_corpus(dom, corpus, cache_dir(), vocab)
    p = get_preset(preset)
    mcfg, tcfg = apply_overrides(p.model, given), apply_overrides(p.train, given)
    run_dir = Path(run) if run is not None else runs.new_run_dir(domain)
    if (run_dir / "config.json").exists():
        raise SeqgenError(f"{run_dir} already holds a run: use --resume, or another --run")
    config = run_config(dom, mcfg, tcfg, data, enc.key, vocab)
    return _train_run(dom, enc, mcfg, tcfg, run_dir, config, progress, vocab, resume=False)


def _resume(domain: str | None, run: str | Path | None, progress: ProgressFn | None,
            overrides: dict[str, Any]) -> TrainResult:
    run_dir = runs.resolve_run(run, domain)
    config = ckpt.read_config(run_dir)
    dom = domain_from_config(config, None if run is not None else domain)
    mcfg = from_dict(ModelConfig, config["model"])
    allowed = {k: overrides.get(k) for k in ("max_steps", "max_time", "eval_every",
                                             "save_every", "device")}
    tcfg = apply_overrides(from_dict(TrainConfig, config["train"]), allowed)
    config["train"] = to_dict(tcfg)
    corpus = dom.load_corpus(config["data"]["source"])
    vocab = TextVocab(config["condition"]["chars"]) if config.get("condition") else None
    enc = encode_corpus(dom, corpus, cache_dir(), vocab)
    if enc.key != config["data"]["key"]:
        plugins.warn(f"the corpus {config['data']['source'] or '(default)'} changed since "
                     f"{run_dir} started: resuming on the new contents")
    return _train_run(dom, enc, mcfg, tcfg, run_dir, config, progress, vocab, resume=True)


def _train_run(dom: Domain, enc: Encoded, mcfg: ModelConfig, tcfg: TrainConfig, run_dir: Path,
         config: dict[str, Any], progress: ProgressFn | None, vocab: TextVocab | None,
         resume: bool) -> TrainResult:
    world, device = distributed.init(resolve_device(tcfg.device))
    tr, va = split(enc, tcfg.val_fraction, sequences(dom))
    train_b = batches(dom, tr, tcfg, f"corpus {config['data']['source'] or '(default)'}")
    val_b = val_batches(dom, va, tcfg)
    if vocab is not None and not resume:  # what `seqgen sample` writes when given no --text
        config["condition"].update(examples=example_texts(va if len(va) else tr, vocab),
                                   examples_from="held-out" if len(va) else "training")
    if val_b is None and world.main:
        plugins.warn(no_validation(config, enc, tcfg, sequences(dom)))
    torch.manual_seed(tcfg.seed)
    model = build_model(dom, mcfg, vocab).to(device)
    runs.ensure_writable(run_dir)  # before any work: a read-only run fails in one line
    # one training process per run directory (rank 0 holds the lock for a DDP group)
    with runs.lock(run_dir) if world.main else nullcontext():
        trainer = Trainer(run_dir, model, train_b, val_b, tcfg, config, device, world)
        if resume:
            trainer.resume()
        elif world.main:
            (run_dir / "metrics.jsonl").unlink(missing_ok=True)
            ckpt.save_model(run_dir, model, config)
        if world.main and run_dir.resolve().parent == (runs.runs_root() / dom.name).resolve():
            runs.set_latest(dom.name, run_dir)
        try:
            return trainer.run(progress)
        finally:
            distributed.finish()


def load(run_or_domain: str | Path, device: str = "cpu",
         options: Sequence[str] | None = None) -> Model:
    """Load a run directory, or the latest run of a domain given by name.

    ``options`` are ``KEY=VALUE`` render options (the domain's fields marked ``render``).
    """
    path = Path(run_or_domain)
    if (path / "config.json").exists() or path.is_dir():
        return Model(path, device=device, options=options)
    return Model(runs.resolve_run(None, str(run_or_domain)), str(run_or_domain), device,
                 options)


def _open(domain: str | None, run: str | Path | None,
          options: Sequence[str] | None = None) -> Model:
    return Model(runs.resolve_run(run, domain), domain, options=options)


def sample_cli(settings: SampleSettings, *, domain: str | None, run: str | Path | None,
               render: Path | None, text_file: Path | None = None,
               attention: Path | None = None,
               options: Sequence[str] | None = None) -> list[Path]:
    """``seqgen sample``: stream text to stdout, or write files with a renderer."""
    import sys

    model = _open(domain, run, options)
    if text_file is not None:
        if settings.text is not None:
            raise SeqgenError("give --text or --text-file, not both")
        try:
            settings.text = text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SeqgenError(f"{text_file}: cannot read the text ({exc})") from None
    if settings.text is None and model.vocab is not None:
        said = list(dict.fromkeys(model.default_texts(settings.num)))
        cond = model.config["condition"]
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


def eval_cli(*, domain: str | None, run: str | Path | None, data: str | None) -> dict[str, float]:
    """``seqgen eval``: the held-out loss of a run in its domain's units."""
    return _open(domain, run).evaluate(data)
