"""The heavy half of ``seqgen.train``: a run from a domain, its corpus and the settings.

``seqgen.api.train`` checks every name and value first, without torch, so that a mistyped
flag is refused at once; then it calls ``new_run`` or ``resume_run`` here.
"""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from seqgen.engine import collector, threads  # threads: its first CPU reading, before torch

with collector.paused():  # torch's import builds ~300,000 objects: collections walking them
    # as they are built find nothing to free (1 to 2 s of a loaded machine, engine/collector.py)
    import torch

    from seqgen import finetune, plugins, runs
    from seqgen.assembly import (
        batches,
        build_model,
        condition_texts,
        domain_from_config,
        example_texts,
        fit_vocab,
        held_out_texts,
        no_validation,
        run_config,
        sequences,
        val_batches,
    )
    from seqgen.config import (
        TIME_BOUND_STEPS,
        ModelConfig,
        Preset,
        TrainConfig,
        apply_overrides,
        from_dict,
        to_dict,
    )
    from seqgen.datasets import cache_dir
    from seqgen.domain import Aligned, Domain
    from seqgen.engine import checkpoint as ckpt
    from seqgen.engine import distributed
    from seqgen.engine.data import Encoded, encode_corpus, split
    from seqgen.engine.grow import load_grown
    from seqgen.engine.holdout import stream_cut
    from seqgen.engine.optim import resolve_device
    from seqgen.engine.status import say
    from seqgen.engine.train import ProgressFn, Trainer, TrainResult
    from seqgen.engine.vocab import TextVocab
    from seqgen.errors import SeqgenError
    from seqgen.progress import plain_progress


def new_run(dom: Domain, data: str | None, p: Preset, given: dict[str, Any],
            run: str | Path | None, progress: ProgressFn | None,
            n_threads: int | None = None) -> TrainResult:
    run_dir = _fresh_run_dir(dom, run)
    corpus = dom.load_corpus(data)  # first: a domain may choose its mode by the corpus
    parts = dom.companions() if isinstance(dom, Aligned) and dom.aligned() else {}
    for name, (options, fields, share) in parts.items():
        # first, so that an interrupted main run still samples (its weights are saved)
        say(f"training the {name} model of {run_dir} first ({share:.0%} of the budget)")
        # plain progress lines of its own: the caller's display counts the main run's plan
        done = new_run(type(dom)(options), data, p, {**_share(given, p, share), **fields},
                       run_dir / name, None, n_threads)
        if done.interrupted:  # Ctrl-C or SIGTERM stops the run, not only this part of it
            return done
    own = 1 - sum(share for _, _, share in parts.values())
    if parts:
        given = _share(given, p, own)
    dom.fit(corpus.documents)
    vocab = fit_vocab(dom, corpus.documents, data)
    enc = encode_corpus(dom, corpus, cache_dir(), vocab)
    mcfg, tcfg = apply_overrides(p.model, given), apply_overrides(p.train, given)
    if not sequences(dom):
        tcfg = _fit_small(tcfg, enc, given, data)
    config = run_config(dom, mcfg, tcfg, data, enc.key, vocab)
    if parts:  # each one's share of the steps and time asked for (the recipe checks them)
        config["companions"] = {name: share for name, (_, _, share) in parts.items()}
    if isinstance(dom, Aligned) and dom.aligned():  # what `seqgen sample` says given no --text
        config["examples"] = held_out_texts(dom, corpus.documents, tcfg.val_fraction)
    return _train_run(dom, enc, mcfg, tcfg, run_dir, config, progress, vocab, resume=False,
                      paced="eval_every" not in given, n_threads=n_threads)


def finetune_run(source: finetune.Source, data: str | None, given: dict[str, Any],
                 run: str | Path | None, progress: ProgressFn | None,
                 n_threads: int | None = None,
                 record: dict[str, Any] | None = None) -> TrainResult:
    """A new run from ``source``'s weights and codec (seqgen/finetune.py), its vocabulary
    grown by the symbols of ``data`` it lacks; ``record``: more for its config.json (a saved
    style's fine-tune: ``{"style": ...}``, seqgen/style_tuning.py)."""
    dom = domain_from_config(source.config)
    run_dir = _fresh_run_dir(dom, run)
    corpus = dom.load_corpus(data)
    grown = list(dom.grow(corpus.documents))
    vocab = None
    if source.config.get("condition"):
        vocab, added = TextVocab(source.config["condition"]["chars"]).grown(
            condition_texts(dom, corpus.documents, data))
        grown += [c for c in added if c not in grown]
    enc = encode_corpus(dom, corpus, cache_dir(), vocab)
    mcfg, tcfg = finetune.configs(source, given)
    config = run_config(dom, mcfg, tcfg, data, enc.key, vocab)
    config["init_from"] = source.record(grown)
    config.update(record or {})
    if source.config.get("companions"):  # its duration model, as it was
        for name in source.config["companions"]:
            _copy_companion(source.path / name, run_dir / name)
        config["companions"] = source.config["companions"]
    weights = ckpt.load_tensors(source.path / "model.safetensors")
    return _train_run(dom, enc, mcfg, tcfg, run_dir, config, progress, vocab, resume=False,
                      paced="eval_every" not in given, n_threads=n_threads,
                      init=(weights, f"--init-from {source.spec}"))


def _fit_small(tcfg: TrainConfig, enc: Encoded, given: dict[str, Any],
               data: str | None) -> TrainConfig:
    """A corpus too small for the preset's batch of streams (the first corpus of a plugin
    author: 805 steps against 4,129): fewer streams, then shorter chunks, said in one line.
    A --batch-size or --seq-len given is kept (and refused in one line if it cannot fit)."""
    n = stream_cut(len(enc), tcfg.val_fraction) if tcfg.val_fraction > 0 else len(enc)
    B, T = tcfg.batch_size, tcfg.seq_len
    if n - 1 >= B * (T + 1) + B or "batch_size" in given or "seq_len" in given or n < 20:
        return tcfg  # fits; the user's choice; or too small for any batch (one line later)
    T = min(T, max(8, (n - 1) // 8 - 1))  # room for at least 4 streams of 2 chunks
    if len(enc) - n > 10:  # and for one chunk of the held-out tail (validation)
        T = min(T, max(8, len(enc) - n - 3))
    B = max(1, min(B, (n - 1) // (2 * (T + 1))))
    say(f"{data or 'the corpus'}: {n} training steps, fewer than a batch of {tcfg.batch_size} "
        f"x {tcfg.seq_len} needs: training {B} streams of {T} steps (--batch-size, "
        f"--seq-len choose)")
    return dataclasses.replace(tcfg, batch_size=B, seq_len=T)


def _copy_companion(src: Path, dest: Path) -> None:
    """A fine-tuned aligned run speaks with its source's companion model (copied as is)."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copyfile(src / f, dest / f)


def _share(given: dict[str, Any], p: Preset, share: float) -> dict[str, Any]:
    """``given`` with its steps and time cut to ``share`` of them (a companion's part)."""
    out = dict(given)
    steps = given.get("max_steps", p.train.max_steps)
    if steps < TIME_BOUND_STEPS:
        out["max_steps"] = max(1, round(steps * share))
    for key in ("max_time", "time_limit"):
        if given.get(key) is not None:
            out[key] = given[key] * share
    return out


def _fresh_run_dir(dom: Domain, run: str | Path | None) -> Path:
    run_dir = Path(run) if run is not None else runs.new_run_dir(dom.name)
    if (run_dir / "config.json").exists():
        _check_not_training(run_dir)  # another trainer holds it: say that first
        raise SeqgenError(f"{run_dir} already holds a run: use --resume, or another --run")
    return run_dir


def resume_run(domain: str | None, run: str | Path | None, progress: ProgressFn | None,
               given: dict[str, Any], n_threads: int | None = None) -> TrainResult:
    run_dir = runs.resolve_run(run, domain)
    _check_not_training(run_dir)
    config = ckpt.read_config(run_dir)
    dom = domain_from_config(config, None if run is not None else domain)
    mcfg = from_dict(ModelConfig, config["model"])
    limit = given.pop("max_time", None)  # this invocation's clock, not the run's plan
    if given.get("max_steps") == TIME_BOUND_STEPS and limit is not None:
        del given["max_steps"]  # a time limit alone on resume does not end the run's plan
    plan = apply_overrides(from_dict(TrainConfig, config["train"]), given)
    config["train"] = to_dict(dataclasses.replace(plan, time_limit=None))  # what is saved
    tcfg = dataclasses.replace(plan, time_limit=limit)
    corpus = dom.load_corpus(config["data"]["source"])
    vocab = TextVocab(config["condition"]["chars"]) if config.get("condition") else None
    enc = encode_corpus(dom, corpus, cache_dir(), vocab)
    if enc.key != config["data"]["key"]:
        plugins.warn(f"the corpus {config['data']['source'] or '(default)'} or the domain's code "
                     f"changed since {run_dir} started: resuming on the new encoding")
    return _train_run(dom, enc, mcfg, tcfg, run_dir, config, progress, vocab, resume=True,
                      paced="eval_every" not in given, n_threads=n_threads)


def _train_run(dom: Domain, enc: Encoded, mcfg: ModelConfig, tcfg: TrainConfig, run_dir: Path,
               config: dict[str, Any], progress: ProgressFn | None, vocab: TextVocab | None,
               resume: bool, paced: bool, n_threads: int | None = None,
               init: tuple[dict[str, torch.Tensor], str] | None = None) -> TrainResult:
    collector.freeze_at_exit()  # the exit's collections need not walk torch's objects either
    world, device = distributed.init(resolve_device(tcfg.device))
    if progress is None:  # the Python API, given no callback: plain lines, as the CLI in a log
        timed = tcfg.max_steps >= TIME_BOUND_STEPS
        progress = plain_progress(tcfg.max_steps, tcfg.time_limit or tcfg.max_time
                                  if timed else None)
    tr, va = split(enc, tcfg.val_fraction, sequences(dom))
    train_b = batches(dom, tr, tcfg, f"corpus {config['data']['source'] or '(default)'}")
    val_b = val_batches(dom, va, tcfg)
    if vocab is not None and not resume:  # what `seqgen sample` writes when given no --text
        config["condition"].update(examples=example_texts(va if len(va) else tr, vocab),
                                   examples_from="held-out" if len(va) else "training")
    if val_b is None and world.main and "style" not in config:  # a style's few lines all
        plugins.warn(no_validation(config, enc, tcfg, sequences(dom)))  # train, as asked
    macs = threads.step_macs(mcfg, tcfg.batch_size, tcfg.seq_len)
    n, why = threads.choose(macs, n_threads)
    if device == "cpu":
        threads.apply(n)
    torch.manual_seed(tcfg.seed)
    net = build_model(dom, mcfg, vocab)
    if init is not None:  # fine-tuning: the source's weights, grown with the vocabulary
        load_grown(net, *init)
    net = net.to(device)
    runs.ensure_writable(run_dir)  # before any work: a read-only run fails in one line
    # one training process per run directory (rank 0 holds the lock for a DDP group)
    with runs.lock(run_dir) if world.main else nullcontext():
        # an explicit --eval-every is the only rule; else validate at least every tenth
        with collector.paused():  # a torch.optim optimizer (GPU, RMSprop) imports torch._dynamo
            trainer = Trainer(run_dir, net, train_b, val_b, tcfg, config, device, world,
                              paced=paced)
        trainer.threads_note = f"{n} ({why})" if device == "cpu" else None
        if device == "cpu" and world.size == 1 and threads.automatic(n_threads, macs):
            trainer.governor = threads.Governor(n)  # other jobs come and go: re-read the CPUs
        if resume:
            trainer.resume()
        elif world.main:
            (run_dir / "metrics.jsonl").unlink(missing_ok=True)
            ckpt.save_model(run_dir, net, config)
        if world.main and run_dir.resolve().parent == (runs.runs_root() / dom.name).resolve():
            runs.set_latest(dom.name, run_dir)
        try:
            return trainer.run(progress)
        finally:
            distributed.finish()


def _check_not_training(run_dir: Path) -> None:
    """One line when another process trains this run now (it holds runs.lock's flock)."""
    import fcntl

    path = run_dir / ".lock"
    if not path.is_file():
        return
    try:
        with open(path) as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = f.read().strip() or "?"
                raise SeqgenError(f"{run_dir} is being trained by another process (pid "
                                  f"{owner}); wait for it or stop it") from None
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    except OSError:
        return  # unreadable: runs.lock says what is wrong when training starts
