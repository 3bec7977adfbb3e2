"""Speaker voices (issue 16): ``-o voices=`` builds a corpus of several eSpeak voices, the model
learns one embedding per voice (a one-hot appended to every input step, seqgen.domain.Voiced),
and ``--voice NAME`` (``voice=`` in the API) chooses the voice of a sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import seqgen
from seqgen.domain import Voiced, parse_options
from seqgen.errors import SeqgenError
from seqgen_speech import corpus
from seqgen_speech.domain import SpeechDomain

from conftest import cli, one_line_error

TWO = ["-o", "sentences=16", "-o", "voices=en-us,en", "-o", "mode=synthesis"]  # the window


def _domain(**opts: object) -> SpeechDomain:
    return SpeechDomain(parse_options(SpeechDomain.Options,
                                      {"mode": "synthesis", "sentences": 16, **opts}))


def test_voices_option_parses_and_refuses_in_one_line() -> None:
    assert corpus.parse_voices("en, en-us,en") == ("en", "en-us")
    assert corpus.parse_voices("all") == corpus.VOICES
    for bad in ("", "klingon", "en,xx"):
        with pytest.raises(SeqgenError, match="option voices="):
            corpus.parse_voices(bad)


def test_codec_appends_the_voice_and_heads_never_see_it() -> None:
    dom = _domain(voices="en-us,en")
    docs = list(dom.load_corpus(None).documents)
    assert {d.voice for d in docs} == {"en-us", "en"}
    dom.fit(docs)
    assert dom.voices == ["en", "en-us"] and dom.voice_dims == 2
    width = 2 * 80 + 1
    assert dom.input_spec().dim == width + 2 and dom.head_spec().kwargs["dim"] == 2 * 80
    for d in docs[:4]:
        enc = dom.encode(d)  # (T, 163): frames, stop flag, one-hot voice
        assert enc.shape[1] == width + 2 and enc[-1, width - 1] == 1.0
        assert (enc[:, width + dom.voices.index(d.voice)] == 1).all()
        assert (enc[:, width:].sum(1) == 1).all()
        np.testing.assert_allclose(dom.decode(enc).frames[:len(d.frames)], d.frames, atol=1e-4)
    fresh = SpeechDomain(dom.options, state=json.loads(json.dumps(dom.get_state())))
    assert fresh.voices == dom.voices and np.array_equal(fresh.encode(docs[0]),
                                                         dom.encode(docs[0]))
    # sampling: the chosen voice's one-hot follows every fed-back step
    fresh.choose_voice("en-us")
    back = fresh.feedback(np.ones((3, width), np.float32))
    assert back.shape == (3, width + 2) and (back[:, -1] == 1).all()
    assert (back[:, width - 1] == 0).all()  # the stop flag is cleared before it is fed back
    with pytest.raises(SeqgenError, match="knows the voices en, en-us"):
        fresh.choose_voice("en-gb")
    # one voice: no column, as before voices existed; its name is still known
    one = _domain()
    one.fit(list(one.load_corpus(None).documents))
    assert isinstance(one, Voiced) and one.voices == ["en-us"] and one.voice_dims == 0
    assert one.input_spec().dim == width
    nameless = SpeechDomain(one.options, state={**one.get_state(), "voices": []})
    with pytest.raises(SeqgenError, match="trained without voice names"):
        nameless.choose_voice("en-us")  # a run from before voices (the shipped espeak)


def test_train_and_sample_each_voice_through_cli_and_api(runner: CliRunner) -> None:
    out = cli(runner, "train", "--domain", "speech", "--preset", "tiny", "--quiet",
              "--max-steps", "3", "--batch-size", "4", *TWO)
    assert out.exit_code == 0, out.output
    info = cli(runner, "info", "--domain", "speech")
    assert info.exit_code == 0 and "voices" in info.stdout and "en, en-us" in info.stdout
    frames = {}
    for v in ("en", "en-us"):
        res = cli(runner, "sample", "--domain", "speech", "--text", "hi", "--voice", v,
                  "--render", f"{v}.npy", "--seed", "1", "--length", "40")
        assert res.exit_code == 0, res.output
        frames[v] = np.load(f"{v}.npy")
    # same seed, other voice: the input differs, so the sample does
    assert not np.array_equal(frames["en"][:10], frames["en-us"][:10])
    default = cli(runner, "sample", "--domain", "speech", "--text", "hi", "--render",
                  "d.npy", "--seed", "1", "--length", "40")
    assert default.exit_code == 0 and np.array_equal(np.load("d.npy"), frames["en"])
    err = one_line_error(cli(runner, "sample", "--domain", "speech", "--text", "hi",
                             "--voice", "en-gb"))
    assert "--voice 'en-gb'" in err and "en, en-us" in err
    model = seqgen.load("speech")
    assert model.voices() == ["en", "en-us"]
    [api] = model.sample(text="hi", voice="en-us", seed=1, length=40)
    np.testing.assert_allclose(api.frames, frames["en-us"], atol=1e-5)
    # the torch step (the GPU path, or a batch over the numpy limit) speaks the same voice
    from seqgen.engine import sample as engine_sample

    engine_sample.NUMPY_MAX_BATCH, keep = 0, engine_sample.NUMPY_MAX_BATCH
    try:
        [torch_step] = model.sample(text="hi", voice="en-us", seed=1, length=40)
    finally:
        engine_sample.NUMPY_MAX_BATCH = keep
    np.testing.assert_allclose(torch_step.frames, frames["en-us"], atol=1e-3)
    # speech-eval speaks each held-out sentence in its reference's voice
    from seqgen_speech.evaluate import evaluate_speech, generate, held_out_utterances

    docs = held_out_utterances(model, 2)
    got = evaluate_speech(model, num=2, pitch=False)
    assert [r["voice"] for r in got["rows"]] == [d.voice for d in docs]
    for d in docs:
        again = model.sample(text=d.text, seed=1, bias=1.0, voice=d.voice)[0].frames
        np.testing.assert_allclose(generate(model, d, 1, 1.0), again, atol=1e-6)


def test_a_domain_without_voices_refuses_voice(runner: CliRunner, tmp_path: Path) -> None:
    out = cli(runner, "train", "--domain", "text", "--data", str(_text(tmp_path)),
              "--preset", "tiny", "--quiet", "--max-steps", "2")
    assert out.exit_code == 0, out.output
    err = one_line_error(cli(runner, "sample", "--domain", "text", "--voice", "en"))
    assert "has no voices" in err


def _text(tmp_path: Path) -> Path:
    p = tmp_path / "t.txt"
    p.write_text("hello there, general kenobi.\n" * 40, encoding="utf-8")
    return p


def test_data_folders_are_speakers(tmp_path: Path, runner: CliRunner) -> None:
    import soundfile as sf

    from seqgen_speech.reader import speaker_of

    data = tmp_path / "vctk"
    t = np.arange(int(0.6 * 22050)) / 22050
    for spk, f0 in (("p225", 120.0), ("p226", 210.0)):
        (data / spk).mkdir(parents=True)
        for i in range(4):
            tone = 0.3 * np.sin(2 * np.pi * f0 * (1 + i / 20) * t)
            sf.write(data / spk / f"{spk}_{i:03d}.wav", tone, 22050)
    assert speaker_of(data, data / "p225" / "x.wav") == "p225"
    assert speaker_of(data, data / "top.wav") is None
    out = cli(runner, "train", "--domain", "speech", "--data", str(data), "--preset", "tiny",
              "--quiet", "--max-steps", "2", "--batch-size", "2", "-o", "mode=prediction",
              "-o", "voices=folders")
    assert out.exit_code == 0, out.output
    assert seqgen.load("speech").voices() == ["p225", "p226"]
    res = cli(runner, "sample", "--domain", "speech", "--voice", "p226", "--length", "30",
              "--render", "p.npy", "--seed", "1")
    assert res.exit_code == 0, res.output
    assert np.load("p.npy").shape[1] == 80
    err = one_line_error(cli(runner, "train", "--domain", "speech", "--preset", "tiny",
                             "--max-steps", "1", "-o", "voices=folders"))
    assert "voices=folders" in err and "--data" in err
