"""The sampling view keeps the best validation's weights, the checkpoints the last (issue 28
item 7, built with fine-tuning: small corpora over-fit within minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

import seqgen
from seqgen.engine import checkpoint as ckpt


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_best_validation_is_what_sampling_reads(tmp_path: Path) -> None:
    net, config = torch.nn.Linear(3, 2), {"step": 0}
    best = ckpt.BestWeights()
    best.write(tmp_path, net, config)  # no validation yet: the model itself
    assert _same(ckpt.load_tensors(tmp_path / "model.safetensors"), net.state_dict())
    best.offer(10, 2.0, net)
    at_10 = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net.weight.add_(1.0)  # training goes on...
    best.write(tmp_path, net, config)
    assert _same(ckpt.load_tensors(tmp_path / "model.safetensors"), at_10)
    best.offer(20, 3.0, net)  # ...and over-fits: a worse validation changes nothing
    best.offer(25, float("nan"), net)
    best.write(tmp_path, net, config)
    assert _same(ckpt.load_tensors(tmp_path / "model.safetensors"), at_10)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert (saved["best_step"], saved["best_val_loss"]) == (10, 2.0)
    best.offer(30, 1.5, net)  # better again: written at the next save
    best.write(tmp_path, net, config)
    assert _same(ckpt.load_tensors(tmp_path / "model.safetensors"), net.state_dict())
    again = ckpt.BestWeights(best.record())  # what a resumed run restores from trainer.json
    assert (again.step, again.val) == (30, 1.5)


def test_a_run_samples_its_best_and_resumes_from_its_last(tmp_path: Path) -> None:
    data = tmp_path / "shift.txt"  # trained on "abab", held out on "aabb": it over-fits at once
    data.write_text("ab" * 2700 + "aabb" * 150, encoding="utf-8")
    res = seqgen.train("text", str(data), run="r", preset="tiny", max_steps=30,
                       eval_every=5, save_every=5, progress=False)
    cfg = json.loads(Path("r/config.json").read_text())
    vals = [json.loads(ln) for ln in Path("r/metrics.jsonl").read_text().splitlines()]
    vals = [(r["step"], r["val_loss"]) for r in vals if "val_loss" in r]
    step, val = min(vals, key=lambda sv: sv[1])
    assert (cfg["best_step"], cfg["best_val_loss"]) == (step, val)
    last = ckpt.load_tensors(ckpt.latest_checkpoint(Path("r")) / "model.safetensors")
    sampled = ckpt.load_tensors(Path("r/model.safetensors"))
    assert step < res.step  # this run wandered: its best came before its end...
    assert not _same(sampled, last)  # ...so what it samples is not what it resumes from
    info = cli_info(Path("r"))
    assert f"step {step} (the best validation" in info


def cli_info(run: Path) -> str:
    from typer.testing import CliRunner

    from seqgen.cli.main import app

    return CliRunner().invoke(app, ["info", str(run)]).output
