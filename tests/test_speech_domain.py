"""The speech domain: eSpeak corpus, codec, stop rule, bad inputs and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer
from typer.testing import CliRunner

from seqgen.domain import parse_options
from seqgen.errors import SeqgenError
from seqgen.testing import check_domain
from seqgen_speech import corpus
from seqgen_speech.domain import SpeechDomain
from seqgen_speech.features import SR, log_mel

from conftest import cli, one_line_error

TINY_CORPUS = ["-o", "sentences=24", "-o", "mode=synthesis"]  # the window model




def _domain(**opts: object) -> SpeechDomain:
    """The window model's codec unless a mode is given (the phonemes one: test_speech_aligned)"""
    return SpeechDomain(parse_options(SpeechDomain.Options,
                                      {"sentences": 12, "mode": "synthesis", **opts}))


def test_corpus_is_deterministic_spoken_and_transcribed(tmp_path: Path) -> None:
    rows = corpus.script(12, 0, corpus.VOICES)
    assert rows == corpus.script(12, 0, corpus.VOICES) and rows != corpus.script(12, 1)
    assert len({r[1] for r in rows}) == len(corpus.VOICES)  # every voice speaks
    assert {r[1] for r in corpus.script(12, 0)} == {"en-us"}  # the default: one voice
    a = corpus.build(12, 0, tmp_path / "a.npz", log_mel, corpus.VOICES)
    b = corpus.build(12, 0, tmp_path / "b.npz", log_mel, corpus.VOICES)
    za, zb = np.load(a), np.load(b)
    # eSpeak NG's waveform varies by a few samples from call to call (the cache then fixes the
    # corpus): the same sentences, voices and lengths within a frame or two
    assert [str(v) for v in za["voices"]] == [str(v) for v in zb["voices"]]
    assert np.abs(za["lengths"] - zb["lengths"]).max() <= 3
    assert abs(float(za["frames"].mean()) - float(zb["frames"].mean())) < 0.05
    assert [str(t) for t in za["texts"]] == [r[0] for r in rows]
    assert len(za["lengths"]) == 12 and za["lengths"].sum() == len(za["frames"])
    assert (za["lengths"] > 20).all()  # each sentence lasts more than 0.2 s
    assert float(za["frames"].max()) > -2.0  # not silent (the floor is log(1e-5) = -11.5)
    audio = corpus.speak("hello world", "en-us")
    assert 0.4 * SR < len(audio) < 2.0 * SR and np.abs(audio).max() > 0.05
    longer = corpus.speak("hello world, hello world, hello world", "en-us")
    assert len(longer) > 2 * len(audio)


def test_codec_round_trip_state_and_stop_flag() -> None:
    dom = _domain(reduction=1)  # one frame a step (the default, 2, is tested below)
    docs = list(dom.load_corpus(None).documents)
    dom.fit(docs)
    enc = dom.encode(docs[0])
    assert enc.shape == (len(docs[0].frames), 81) and enc.dtype == np.float32
    assert enc[:-1, -1].sum() == 0 and enc[-1, -1] == 1.0
    np.testing.assert_allclose(dom.decode(enc).frames, docs[0].frames, atol=1e-4)
    allf = np.concatenate([dom.encode(d)[:, :-1] for d in docs])
    assert abs(allf.mean()) < 1e-3 and abs(allf.std() - 1) < 0.05
    fresh = SpeechDomain(dom.options, state=json.loads(json.dumps(dom.get_state())))
    assert np.array_equal(fresh.encode(docs[1]), dom.encode(docs[1]))
    assert dom.head_spec().name == "gmm" and dom.head_spec().kwargs["dim"] == 80
    assert dom.input_spec().dim == 81 and dom.conditioned()
    assert not _domain(mode="babble").conditioned()  # the old name of prediction
    assert _domain(mode="tts").options.mode == "synthesis" and _domain().conditioned()
    assert not _domain(mode="prediction").conditioned()


def test_mfcc_option_and_conformance_kit() -> None:
    dom = _domain(features="mfcc")
    docs = list(dom.load_corpus(None).documents)
    dom.fit(docs)
    enc = dom.encode(docs[0])
    assert enc.shape[1] == 2 * 40 + 1  # two frames of 40 MFCCs a step, and the stop flag
    np.testing.assert_allclose(dom.encode(dom.decode(enc)), enc, atol=1e-3)
    check_domain(SpeechDomain, options={"sentences": 12})


def test_stop_rule_and_length() -> None:
    dom = _domain(reduction=1)
    dom.fit(list(dom.load_corpus(None).documents))
    steps, rule = dom.length_rule("2s")
    assert steps == 172 and rule is not None
    frame = np.zeros((2, 81), np.float32)
    frame[0, -1] = 1.0
    early = [rule(frame).tolist() for _ in range(19)]
    assert all(e == [False, False] for e in early)  # not before 20 frames
    assert rule(frame).tolist() == [True, False]
    # tts: one stray stop flag does not end a sample, three in a row do
    _, rule = dom.length_rule(None)
    assert rule is not None
    off = np.zeros_like(frame)
    got = [rule(f).tolist()[0] for f in [off] * 20 + [frame, off, frame, frame, frame]]
    assert got[-5:] == [False, False, False, False, True]
    babble = _domain(mode="babble", reduction=1)
    babble.fit(list(babble.load_corpus(None).documents))
    _, rule = babble.length_rule(None)
    assert rule is not None
    assert [rule(f).tolist()[0] for f in [off] * 20 + [frame]][-1] is True
    assert dom.length_rule("300")[0] == 300
    with pytest.raises(SeqgenError, match="--length"):
        dom.length_rule("soon")
    joined = dom.join_lines([dom.decode(np.zeros((5, 81))), dom.decode(np.zeros((7, 81)))])
    assert len(joined.frames) == 5 + 20 + 7


def test_reduction_factor_feedback_and_text() -> None:
    dom = _domain(reduction=3)
    docs = list(dom.load_corpus(None).documents)
    dom.fit(docs)
    frames = docs[0].frames  # (T, 80)
    enc = dom.encode(docs[0])
    assert enc.shape == (-(-len(frames) // 3), 3 * 80 + 1)
    assert enc[:-1, -1].sum() == 0 and enc[-1, -1] == 1.0
    back = dom.decode(enc).frames
    np.testing.assert_allclose(back[:len(frames)], frames, atol=1e-4)
    np.testing.assert_allclose(back[len(frames):], np.repeat(frames[-1:], len(back)
                                                             - len(frames), 0), atol=1e-4)
    assert dom.input_spec().dim == 241 and dom.head_spec().kwargs["dim"] == 240
    assert dom.length_rule("2s")[0] == 58 and dom.length_rule("301")[0] == 101
    assert dom.max_steps_per_char == 5 and dom.default_length == 334
    _, rule = dom.length_rule(None)
    assert rule is not None
    on = np.zeros((1, 241), np.float32)
    on[0, -1] = 1.0
    # three steps of three frames pass the 20-frame minimum after 7 steps
    assert [rule(on).tolist()[0] for _ in range(7)] == [False] * 6 + [True]
    fed = dom.feedback(on)
    assert fed[0, -1] == 0.0 and on[0, -1] == 1.0  # cleared in a copy
    utt = dom.with_text(dom.decode(enc), "hello")
    assert utt.text == "hello"
    assert dom.join_lines([utt, dom.with_text(dom.decode(enc), "you")]).text == "hello you"
    with pytest.raises(SeqgenError, match="reduction"):
        _domain(reduction=0)
    default = _domain()
    default.fit(docs)
    assert default.r == 2 and default.encode(docs[0]).shape[1] == 161
    m = dom.metrics(-30.0)  # the engine's loss is per step: r = 3 frames and a stop flag
    assert m["nats/frame"] == -10.0 and m["nats/step"] == -30.0 and m["nats/dim"] == -30 / 241


def _write(path: Path, audio: np.ndarray, rate: int = SR) -> Path:
    sf.write(str(path), audio, rate)
    return path


def _speech_dir(root: Path) -> Path:
    root.mkdir()
    (root / "wavs").mkdir()
    lines = []
    for i, text in enumerate(["hello world.", "a cat sleeps.", "good night, anna.",
                              "the dog runs.", "one two three."]):
        audio = corpus.speak(text, corpus.VOICES[i % 3])
        if i == 1:  # stereo at 44.1 kHz: mixed down and resampled, not an error
            from scipy.signal import resample_poly

            a44 = resample_poly(audio, 2, 1)
            _write(root / "wavs" / f"u{i}.wav", np.stack([a44, 0.5 * a44], 1), 44100)
        else:
            _write(root / "wavs" / f"u{i}.wav", audio)
        lines.append(f"u{i}|{text.upper()}|{text}")
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    return root


def test_reader_handles_stereo_and_other_rates(tmp_path: Path) -> None:
    root = _speech_dir(tmp_path / "lj")
    docs = list(_domain().load_corpus(str(root)).documents)
    assert [d.text for d in docs][:2] == ["hello world.", "a cat sleeps."]
    mono = log_mel(corpus.speak("a cat sleeps.", corpus.VOICES[1]))
    assert abs(len(docs[1].frames) - len(mono)) <= 2  # resampled to 22050 Hz
    assert docs[1].frames.max() > -2.0


def test_bad_inputs_through_the_cli(tmp_path: Path, runner: CliRunner) -> None:
    train = ["train", "--domain", "speech", "--preset", "tiny", "--quiet", "--data"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no WAV, FLAC or OGG" in one_line_error(cli(runner, *train, empty))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.wav").write_text("this is not audio\n" * 20)
    assert "notes.wav: not a readable audio file" in one_line_error(cli(runner, *train, junk))
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    _write(quiet / "silence.flac", np.zeros(SR, np.float32))
    assert "silence.flac: the recording is silent" in one_line_error(cli(runner, *train, quiet))
    root = _speech_dir(tmp_path / "lj")
    with (root / "metadata.csv").open("a") as f:
        f.write("u9|gone|gone\n")
    err = one_line_error(cli(runner, *train, root))
    assert "metadata.csv:6" in err and "'u9'" in err


def test_train_sample_render_and_eval(runner: CliRunner) -> None:
    out = cli(runner, "train", "--domain", "speech", "--preset", "tiny", "--quiet",
              "--max-steps", "3", "--batch-size", "4", *TINY_CORPUS)
    assert out.exit_code == 0, out.output
    out = cli(runner, "sample", "--domain", "speech", "--text", "hi", "--render", "out.wav",
              "--seed", "1")
    assert out.exit_code == 0, out.output
    audio, rate = sf.read("out.wav")
    assert rate == SR and audio.ndim == 1 and len(audio) >= 20 * 256 - 256
    assert np.abs(audio).max() > 0.0
    again = cli(runner, "sample", "--domain", "speech", "--text", "hi", "--render", "out.npy",
                "--seed", "1", "--length", "1s")
    assert again.exit_code == 0, again.output
    frames = np.load("out.npy")
    assert frames.shape[1] == 80 and 20 <= len(frames) <= 87
    # the headline command as typed, with no --text: a held-out sentence, named on stderr
    bare = cli(runner, "sample", "--domain", "speech", "--render", "bare.wav", "--seed", "1")
    assert bare.exit_code == 0, bare.output
    assert "no --text given: writing '" in bare.stderr and "held-out lines" in bare.stderr
    assert sf.read("bare.wav")[0].size > 256
    # the corpus's transcripts are lower case with . and ,: a shouted line is read as they are
    shout = cli(runner, "sample", "--domain", "speech", "--text", "HI  there!", "--render",
                "shout.npy", "--seed", "1", "--length", "40")
    assert shout.exit_code == 0, shout.output
    assert _domain().normalise_text("Stop; NOW?", " ,.abcdefghijklmnopqrstuvwxyz") == "stop, now."
    png = cli(runner, "sample", "--domain", "speech", "--text", "hi\nno", "--render", "o.png")
    assert png.exit_code == 0 and Path("o.png").read_bytes()[:4] == b"\x89PNG"
    import matplotlib.image

    # the sample carries its text, so the spectrogram has the eSpeak reference below it
    assert matplotlib.image.imread("o.png").shape[0] == 2 * round(1.9 * 80)
    assert "alphabet" in one_line_error(cli(runner, "sample", "-d", "speech", "--text", "h€"))
    ev = cli(runner, "eval", "--domain", "speech")
    assert ev.exit_code == 0 and "nats/frame" in ev.stdout
    # the speech-eval command, registered on a fresh Typer app through the plugin's hook
    import seqgen_speech

    app = typer.Typer()
    seqgen_speech.register_commands(app)

    @app.command()
    def other() -> None:  # a second command keeps typer's subcommand mode
        pass

    res = runner.invoke(app, ["speech-eval", "--num", "1", "--json", "e.json",
                              "--train-seconds", "1"])
    assert res.exit_code == 0, res.output
    got = json.loads(Path("e.json").read_text(), parse_constant=_refuse)
    assert got["utterances"] == 1 and got["mcd_db"] > 0 and got["empty_samples"] == 0
    assert got["voiced_fraction_references"] > 0 and "f0_median_hz_samples" in got
    assert "f0_range_semitones_references" in res.stdout
    assert got["cer_real"] >= 0 and got["cer_samples"] >= 0 and "read_sample" in got["rows"][0]
    assert "cer_real" in res.stdout and "read_real=" in res.stdout
    assert 0 < got["mcd_griffin_lim_floor_db"] < 8


def test_one_recording_and_wave_format_extensible(tmp_path: Path, runner: CliRunner) -> None:
    """WAVE_FORMAT_EXTENSIBLE (24-bit, as many recorders write it) reads as the plain WAV does;
    one recording is one document: no validation split, said once, null in config.json."""
    audio = corpus.speak("hello world.", corpus.VOICES[0])
    plain = _write(tmp_path / "plain.wav", audio)
    ext = tmp_path / "one" / "ext.wav"
    ext.parent.mkdir()
    sf.write(str(ext), audio, SR, subtype="PCM_24", format="WAVEX")
    (ext.parent / "metadata.csv").write_text("ext|Hello world.|hello world.\n")
    assert sf.info(str(ext)).format == "WAVEX" and ext.read_bytes()[20:22] == b"\xfe\xff"
    a = _domain().load_corpus(str(plain)).documents[0].frames
    b = _domain().load_corpus(str(ext.parent)).documents[0].frames
    assert a.shape == b.shape and np.abs(a - b).max() < 1e-2  # 16- against 24-bit samples
    out = cli(runner, "train", "--domain", "speech", "--data", ext.parent, "--preset", "tiny",
              "--quiet", "--max-steps", "2", "--batch-size", "2", "--run", "r")
    assert out.exit_code == 0, out.output
    said = [ln for ln in out.stderr.splitlines() if "no validation split" in ln]
    assert len(said) == 1 and "1 document," in said[0]
    config = json.loads(Path("r/config.json").read_text(), parse_constant=_refuse)
    assert config["val_loss"] is None
    bare = cli(runner, "sample", "--run", "r", "--render", "out.wav", "--length", "20")
    assert bare.exit_code == 0, bare.output
    assert "writing 'hello world.' (training lines" in bare.stderr


def _refuse(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")
