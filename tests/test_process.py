"""The whole training process (issue 15): loss.png drawn with Pillow (no matplotlib on
training's path), the phase marks that benchmarks/bench_process.py reads, and the garbage
collector paused through set-up and frozen at exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import seqgen
from seqgen.engine import phases
from seqgen.engine.plot import SIZE, TRAIN, VAL, plot_metrics, ticks


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _has(image: Image.Image, colour: tuple[int, int, int]) -> bool:
    return bool((np.asarray(image) == colour).all(-1).any())


def test_loss_curve_has_both_lines_and_skips_non_finite(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"step": s, "loss": 4.0 / s} for s in range(1, 101)]
    rows[10]["loss"] = None  # strict JSON's non-finite value
    rows += [{"step": s, "val_loss": 3.0 / s} for s in (10, 50, 100)]
    rows.append({"step": 7, "event": "rollback"})
    out = tmp_path / "loss.png"
    assert plot_metrics(_write(tmp_path / "m.jsonl", rows), out, "text: run")
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == SIZE
        rgb = im.convert("RGB")
    assert _has(rgb, TRAIN) and _has(rgb, VAL)


def test_loss_curve_of_one_point_and_of_nothing(tmp_path: Path) -> None:
    out = tmp_path / "loss.png"
    assert plot_metrics(_write(tmp_path / "one.jsonl", [{"step": 1, "loss": 4.2}]), out)
    with Image.open(out) as im:
        assert _has(im.convert("RGB"), TRAIN)
    out.unlink()
    assert not plot_metrics(_write(tmp_path / "none.jsonl", [{"step": 1, "loss": None}]), out)
    assert not plot_metrics(tmp_path / "missing.jsonl", out)
    assert not out.exists()


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 2000.0), (1.3, 4.6), (-4.1, -3.2), (0.5, 1.5),
                                        (1e-5, 3e-5)])
def test_ticks_are_round_and_inside(lo: float, hi: float) -> None:
    got = ticks(lo, hi)
    assert 3 <= len(got) <= 12
    assert all(lo - 1e-9 <= t <= hi + 1e-9 for t in got)
    steps = np.diff(got)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 5))


def test_marks_only_with_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "marks.jsonl"
    phases.mark("nothing")  # no $SEQGEN_PHASES: no file anywhere
    monkeypatch.setenv(phases.ENV, str(path))
    monkeypatch.setenv("RANK", "1")
    phases.mark("rank 1")  # under torchrun, rank 0's marks only
    assert not path.exists()
    monkeypatch.delenv("RANK")
    phases.mark("a")
    phases.mark("b")
    recs = [json.loads(ln) for ln in path.read_text().splitlines()]
    assert [r["phase"] for r in recs] == ["a", "b"] and recs[0]["t"] <= recs[1]["t"]


def test_training_marks_its_phases_in_order(corpus: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "marks.jsonl"
    monkeypatch.setenv(phases.ENV, str(path))
    seqgen.train("text", str(corpus), run="r", preset="tiny", max_steps=6, eval_every=100,
                 progress=False)
    recs = [json.loads(ln) for ln in path.read_text().splitlines()]
    names = [r["phase"] for r in recs]
    assert names == ["first_step", "last_step", "loop_end", "checkpoint", "plot"]
    assert [r["t"] for r in recs] == sorted(r["t"] for r in recs)
    assert Path("r/loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_training_imports_no_matplotlib(corpus: Path) -> None:
    code = ("import sys, seqgen; seqgen.train('text', sys.argv[1], run='r', preset='tiny', "
            "max_steps=3, progress=False); print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(corpus)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"  # its import was 1.7 s of a short run's tail


def test_collector_paused_restores_its_state() -> None:
    import gc

    from seqgen.engine import collector

    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():  # nested: the outer block's state comes back
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_a_training_process_freezes_at_exit_and_writes_its_files(corpus: Path) -> None:
    # registered before training's, so atexit (last in, first out) runs it after the freeze
    code = ("import atexit, gc, sys, seqgen\n"
            "atexit.register(lambda: print(gc.get_freeze_count() > 0))\n"
            "seqgen.train('text', sys.argv[1], run='r', preset='tiny', max_steps=2, "
            "progress=False)\n"
            "print(gc.get_freeze_count() > 0)\n")
    out = subprocess.run([sys.executable, "-c", code, str(corpus)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["False", "True"]  # frozen at exit, not before
    assert json.loads(Path("r/config.json").read_text())["step"] == 2
