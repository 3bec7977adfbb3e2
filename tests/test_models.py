"""Shipped models: the register_models hook, the default when a domain has no local run,
--model, float16 storage, `seqgen models`, and the recipe check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from typer.testing import CliRunner

import seqgen
from seqgen import models, plugins
from seqgen.errors import SeqgenError
from seqgen.hookspecs import hookimpl
from seqgen.models import ShippedModel
from seqgen.shipping import check_recipe, ship
from seqgen_text.domain import TextDomain

from conftest import TINY, cli, one_line_error


class VerseDomain(TextDomain):
    """A domain of its own, so that the built-in text domain's shipped model stays out."""

    name = "verse"
    version = "0.1"


def _tiny_model(runner: CliRunner, corpus: Path, dest: Path) -> tuple[Path, str]:
    command = f"seqgen train --domain verse --data {corpus} --preset tiny --seed 3"
    out = cli(runner, "train", "--domain", "verse", "--data", corpus, *TINY, "--seed", "3",
              "--run", dest.parent / "trained")
    assert out.exit_code == 0, out.output
    ship(dest.parent / "trained", dest, name="tiny-verse", corpus="a test corpus",
         recipe={"command": command}, figures={"val_nats": 3.2})
    return dest.parent / "trained", command


@pytest.fixture
def shipped(runner: CliRunner, corpus: Path, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    pm = plugins.get_plugin_manager()

    class Plugin:
        @staticmethod
        @hookimpl
        def register_domains(register: Callable[[type], None]) -> None:
            register(VerseDomain)

        @staticmethod
        @hookimpl
        def register_models(register: Callable[[ShippedModel], None]) -> None:
            register(ShippedModel("tiny-verse", "verse", tmp_path / "ship" / "tiny-verse"))

    pm.register(Plugin, name="verse-plugin")
    trained, _ = _tiny_model(runner, corpus, tmp_path / "ship" / "tiny-verse")
    assert not (tmp_path / "runs" / "verse").exists()  # the trained run is not a local run
    yield trained, tmp_path / "ship" / "tiny-verse"
    pm.unregister(name="verse-plugin")


def test_seqgen_models_lists_them(shipped: tuple[Path, Path], runner: CliRunner) -> None:
    found = models.shipped()
    assert found["tiny-verse"].domain == "verse"
    assert models.default_for("verse") == found["tiny-verse"]
    listing = cli(runner, "models", "--domain", "verse")
    assert listing.exit_code == 0 and "tiny-verse" in listing.stdout
    assert "a test corpus" in listing.stdout and "val_nats 3.2" in listing.stdout


def test_no_local_run_uses_the_shipped_model(shipped: tuple[Path, Path],
                                             runner: CliRunner) -> None:
    out = cli(runner, "sample", "--domain", "verse", "--length", "20", "--seed", "1")
    assert out.exit_code == 0, out.output
    assert "using the shipped model 'tiny-verse'" in out.stderr
    assert "seqgen train --domain verse" in out.stderr  # how to train your own
    assert len(out.stdout.strip()) > 0
    assert cli(runner, "eval", "--domain", "verse").exit_code == 0


def test_a_local_run_wins(shipped: tuple[Path, Path], runner: CliRunner, corpus: Path) -> None:
    assert cli(runner, "train", "--domain", "verse", "--data", corpus, *TINY).exit_code == 0
    out = cli(runner, "sample", "--domain", "verse", "--length", "10", "--seed", "1")
    assert out.exit_code == 0 and "shipped" not in out.stderr
    picked = cli(runner, "sample", "--model", "tiny-verse", "--length", "10", "--seed", "1")
    assert picked.exit_code == 0 and len(picked.stdout.strip()) > 0


def test_model_errors(shipped: tuple[Path, Path], runner: CliRunner) -> None:
    assert "seqgen models" in one_line_error(cli(runner, "sample", "--model", "tiny-vers"))
    assert "did you mean 'tiny-verse'" in one_line_error(
        cli(runner, "sample", "--model", "tiny-vers"))
    line = one_line_error(cli(runner, "sample", "--domain", "text", "--model", "tiny-verse"))
    assert "is a 'verse' model" in line
    assert "not both" in one_line_error(cli(runner, "sample", "--run", ".", "--model",
                                            "tiny-verse"))


def test_float16_on_disk_float32_in_memory(shipped: tuple[Path, Path]) -> None:
    trained, dest = shipped
    with safe_open(str(dest / "model.safetensors"), framework="pt") as f:
        dtypes = {f.get_tensor(k).dtype for k in f.keys()}
    assert dtypes == {torch.float16}
    model = seqgen.load("verse")  # the API takes the same road as the CLI
    assert model.run_dir == dest
    full = seqgen.load(trained)
    for (name, p), q in zip(model.net.named_parameters(), full.net.parameters(), strict=True):
        assert p.dtype == torch.float32, name
        torch.testing.assert_close(p, q, atol=2e-3, rtol=1e-3)
    card = json.loads((dest / "model.json").read_text())
    assert card["dtype"] == "float16" and card["parameters"] > 0


def test_recipe_check(shipped: tuple[Path, Path], corpus: Path, tmp_path: Path) -> None:
    trained, dest = shipped
    config = json.loads((trained / "config.json").read_text())
    assert check_recipe(f"seqgen train --domain verse --data {corpus} --preset tiny --seed 3",
                        config) == []
    wrong = check_recipe(f"seqgen train --domain verse --data {corpus} --seed 4", config)
    assert any("train.seed" in w for w in wrong) and any("model.hidden" in w for w in wrong)
    here = f"seqgen train --domain verse --data {corpus} --preset tiny --seed 3 --run "
    assert check_recipe(here + "ship/verse", config) == []  # anyone can run it
    assert "a path of the machine" in check_recipe(here + "/work/ship/verse", config)[0]
    with pytest.raises(SeqgenError, match="the recipe is not the run's"):
        ship(trained, tmp_path / "other", name="x", corpus="", figures={},
             recipe={"command": "seqgen train --domain verse --seed 4"})
    assert not (tmp_path / "other").exists()


BUILTIN = {"shakespeare": "text", "cursive": "handwriting", "chorales": "music",
           "espeak": "speech"}


def _sample(model: Any, domain: str, tmp_path: Path) -> list[Path]:
    settings: dict[str, Any] = {"seed": 1, "length": "40"}
    if domain in ("handwriting", "speech"):
        settings["text"] = "hi"
    if domain == "music":
        settings["length"] = "2s"
    samples = model.sample(**settings)
    suffix = model.domain.default_render
    return model.render(samples, tmp_path / f"out{suffix}")


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_model_is_shipped_loads_and_samples(name: str, tmp_path: Path) -> None:
    found = models.shipped()
    assert name in found, f"the shipped model {name!r} is not installed"
    m = found[name]
    assert m.domain == BUILTIN[name] and models.default_for(m.domain) == m
    card = m.card()
    config = json.loads((m.path / "config.json").read_text())
    assert check_recipe(card["recipe"]["command"], config) == []
    for key in ("commit", "machine", "trained"):
        assert card["recipe"][key], key
    model = seqgen.load(m.domain)
    assert model.run_dir == m.path
    paths = _sample(model, m.domain, tmp_path)
    assert paths and all(p.stat().st_size > 0 for p in paths)


def test_shipped_models_fit_in_30_mb() -> None:
    assert sum(m.size() for m in models.shipped().values()) < 30e6


def test_a_shipped_model_exports_to_onnx(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from seqgen.export import export_onnx

    out = export_onnx(None, tmp_path / "cursive.onnx", model="cursive")
    assert out.stat().st_size > 1e6 and not (tmp_path / "cursive.onnx.data").exists()
