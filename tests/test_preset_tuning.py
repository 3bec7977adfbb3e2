"""Domain.preset_tuning: a domain's measured fields over a named preset, under the user's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import seqgen
from seqgen.config import PRESETS, tuned
from seqgen.errors import SeqgenError
from seqgen.shipping import check_recipe
from seqgen_text.domain import TextDomain


@pytest.fixture
def tuned_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TextDomain, "preset_tuning", {"tiny": {"batch_size": 4, "hidden": 24}})


def _config(run: Path) -> dict:
    return json.loads((run / "config.json").read_text())


def test_tuning_applies_to_its_preset_only(tuned_text: None, corpus: Path,
                                           tmp_path: Path) -> None:
    seqgen.train("text", str(corpus), preset="tiny", run=tmp_path / "a", max_steps=2,
                 progress=False)
    cfg = _config(tmp_path / "a")
    assert (cfg["train"]["batch_size"], cfg["model"]["hidden"]) == (4, 24)
    assert cfg["train"]["lr"] == PRESETS["tiny"].train.lr  # untouched fields stay the preset's
    # the recipe check expects what the domain's tuning gives, so the run's recipe passes
    assert check_recipe(f"seqgen train --domain text --data {corpus} --preset tiny",
                        cfg) == []


def test_the_users_values_win(tuned_text: None, corpus: Path, tmp_path: Path) -> None:
    seqgen.train("text", str(corpus), preset="tiny", run=tmp_path / "b", max_steps=2,
                 batch_size=6, progress=False)
    cfg = _config(tmp_path / "b")
    assert (cfg["train"]["batch_size"], cfg["model"]["hidden"]) == (6, 24)


def test_unknown_field_is_one_line(monkeypatch: pytest.MonkeyPatch, corpus: Path) -> None:
    monkeypatch.setattr(TextDomain, "preset_tuning", {"tiny": {"batch_sise": 4}})
    with pytest.raises(SeqgenError, match="domain text: preset_tuning names unknown fields "
                                          "batch_sise"):
        seqgen.train("text", str(corpus), preset="tiny", max_steps=1, progress=False)


def test_tuned_copies_the_preset() -> None:
    before = PRESETS["small"].train.batch_size
    p = tuned(PRESETS["small"], {"batch_size": before + 1, "dropout": 0.5}, "x")
    assert (p.train.batch_size, p.model.dropout) == (before + 1, 0.5)
    assert PRESETS["small"].train.batch_size == before and PRESETS["small"].model.dropout == 0.0
