"""speech-eval's figures on a stand-in model: MCD, empty samples, pitch, the printed table and
the command's bad input; and the MCD of an utterance with no frames."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from seqgen.engine.specs import Corpus
from seqgen_speech import corpus
from seqgen_speech.evaluate import PITCH_KEYS, evaluate_speech, print_figures
from seqgen_speech.features import log_mel
from seqgen_speech.mcd import EmptyUtterance, mcd

TEXTS = [f"line {i}." for i in range(20)]  # 20 documents: the engine holds out 9 and 19
SILENT, COPIED = TEXTS[9], TEXTS[19]


def test_mcd_of_no_frames_is_a_clear_error() -> None:
    some = np.zeros((5, 80), np.float32)
    none = np.zeros((0, 80), np.float32)
    for a, b, which in ((none, some, "first"), (some, none, "second"), (none, none, "first")):
        for align in (True, False):
            with pytest.raises(EmptyUtterance, match=f"the {which} utterance has no frames"):
                mcd(a, b, align=align)
    with pytest.raises(ValueError, match="80 against 40 mel bins"):
        mcd(some, some[:, :40])
    with pytest.raises(ValueError, match=r"not \(T, bins\) frames: shape \(80,\)"):
        mcd(some[0], some)


def _model(frames: dict[str, np.ndarray], sample: dict[str, np.ndarray]) -> Any:
    """What evaluate_speech uses of a Model: its config, vocabulary, corpus, voices and
    sample."""
    docs = [SimpleNamespace(text=t, frames=frames.get(t, np.zeros((3, 80), np.float32)),
                            name=f"doc{i}", voice=None) for i, t in enumerate(TEXTS)]
    domain = SimpleNamespace(load_corpus=lambda source: Corpus(source, "k", docs))

    def speak(text: str, seed: int, bias: float, voice: str | None = None) -> list[Any]:
        assert voice is None  # a model of one voice is sampled without --voice
        return [SimpleNamespace(frames=sample[text])]
    return SimpleNamespace(config={"data": {"source": None}, "train": {"val_fraction": 0.1}},
                           vocab=SimpleNamespace(chars="abc"), domain=domain, sample=speak,
                           voices=lambda: [])


def _references() -> dict[str, np.ndarray]:
    return {SILENT: log_mel(corpus.speak("hello world.")),
            COPIED: log_mel(corpus.speak("good night, anna.", "en-gb-x-rp"))}


def test_empty_samples_are_counted_and_pitch_is_reported(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    refs = _references()
    # one sample stops at once; the other is its reference exactly (MCD 0, the same pitch)
    model = _model(refs, {SILENT: np.zeros((0, 80), np.float32), COPIED: refs[COPIED]})
    res = evaluate_speech(model, num=5, images=tmp_path / "img")
    assert res["utterances"] == 2 and res["empty_samples"] == 1
    assert res["mcd_db"] == 0.0 and 0 < res["mcd_griffin_lim_floor_db"] < 4
    assert res["frames_ratio"] == 0.5  # the empty sample counts as no length
    empty, copied = res["rows"]
    assert empty["mcd_gen"] is None and empty["pitch_sample"] is None
    assert copied["pitch_sample"] == copied["pitch_reference"]
    for key in PITCH_KEYS:
        assert res[f"{key}_samples"] == copied["pitch_sample"][key]
        assert res[f"{key}_references"] == pytest.approx(
            np.mean([empty["pitch_reference"][key], copied["pitch_reference"][key]]))
    # eSpeak's en-us and en-gb voices speak near 100 Hz, most frames voiced
    assert 70 < res["f0_median_hz_references"] < 140
    assert 0.3 < res["voiced_fraction_references"] <= 1.0
    assert res["voiced_utterances_references"] == 2 and res["voiced_utterances_samples"] == 1
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == [
        "speech-eval-1.png", "speech-eval-2.png"]  # the empty sample's picture says so
    print_figures(res)
    out = capsys.readouterr().out
    assert "empty_samples                  1" in out
    assert "f0_range_semitones_references" in out and "voiced_fraction_samples" in out


def test_all_empty_and_no_pitch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seqgen.fileio import write_json

    none = np.zeros((0, 80), np.float32)
    res = evaluate_speech(_model(_references(), {SILENT: none, COPIED: none}), pitch=False)
    assert res["empty_samples"] == 2 and res["mcd_db"] is None and res["frames_ratio"] == 0
    assert not any(k.startswith(("f0_", "voiced")) for k in res)
    assert "pitch_sample" not in res["rows"][0]
    write_json(tmp_path / "e.json", res)  # None is null: strict JSON
    assert json.loads((tmp_path / "e.json").read_text())["mcd_db"] is None
    print_figures(res)
    assert "mcd_db                         n/a" in capsys.readouterr().out


def _app() -> typer.Typer:
    import seqgen_speech

    app = typer.Typer()
    seqgen_speech.register_commands(app)

    @app.command()
    def other() -> None:  # a second command keeps typer's subcommand mode
        pass
    return app


@pytest.mark.parametrize(("args", "said"), [
    (["--num", "0"], "--num must be at least 1"),
    (["--train-seconds", "0"], "--train-seconds must be positive"),
    (["--no-wer"], "No such option"),  # pocketsphinx's WER is gone
])
def test_bad_options(runner: CliRunner, args: list[str], said: str) -> None:
    res = runner.invoke(_app(), ["speech-eval", *args])
    assert res.exit_code == 2 and said in res.output
