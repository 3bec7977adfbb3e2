"""Duration-informed speech (issue 25): the engine's known columns, the phoneme features, the
frame and duration models trained in one run, and sampling any sentence from them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from seqgen.config import ModelConfig
from seqgen.engine.batching import Sequences
from seqgen.engine.data import Encoded
from seqgen.engine.heads import Head
from seqgen.engine.mixture import DiagGMMHead
from seqgen.engine.model import SeqNet
from seqgen.engine.sample import Plan, SampleSettings, generate
from seqgen.engine.specs import VectorInput
from seqgen_speech import aligned

from conftest import cli, one_line_error

TINY = ["--preset", "tiny", "--quiet", "-o", "sentences=30"]


def test_the_input_at_step_t_carries_step_t_known_columns() -> None:
    # two documents of 4 and 3 steps: 2 own columns (value = step), 1 known (10 + step)
    docs = [np.array([[t, t, 10 + t] for t in range(n)], np.float32) for n in (4, 3)]
    enc = Encoded(np.concatenate(docs), np.array([0, 4]), "k")
    seqs = Sequences(enc, 2, 16, 0, np.zeros(3, np.float32), None, known=1)
    x, y, mask = seqs.batch(0)[:3]
    for b in range(2):
        n = int(mask[b].sum())
        assert x[b, :n, 2].tolist() == [10 + t for t in range(n)]  # its own step's
        assert x[b, :n, 0].tolist() == [0] + list(range(n - 1))  # the step before's
        assert y[b, :n, 0].tolist() == list(range(n))


class _Spy(SeqNet):
    """A SeqNet that records every input it is given."""

    seen: list[torch.Tensor]

    def forward(self, x, state=None, resets=None, cond=None):  # type: ignore[no-untyped-def]
        self.seen.append(x.detach().clone())
        return super().forward(x, state, resets, cond)


def _spy(dim: int, known: int, head: Head) -> _Spy:
    net = _Spy(ModelConfig(layers=1, hidden=8, embed=4), VectorInput(dim, known), head)
    net.seen = []
    return net


def test_sampling_feeds_each_rows_known_columns_and_ends_with_them() -> None:
    net = _spy(4, 2, DiagGMMHead(8, dim=1, components=1))  # own: 1 value + stop
    known = np.zeros((2, 5, 2), np.float32)
    known[..., 0] = np.arange(5)
    known[1, :, 1] = 7.0
    plan = Plan(rows=2, steps=100, known=known, known_len=np.array([5, 3]))
    got = generate(net, np.zeros((1, 4), np.float32), SampleSettings(seed=0), plan,
                   use_numpy=False)
    assert [len(s) for s in got.sequences] == [5, 3]
    fed = torch.cat(net.seen, 1)[:, :, -2:].numpy()  # (B, steps, 2)
    assert fed[0, :, 0].tolist() == [0, 1, 2, 3, 4] and (fed[1, :3, 1] == 7).all()


def test_feedback_dropout_hides_the_fed_back_columns_only() -> None:
    cfg = ModelConfig(layers=1, hidden=8, embed=4, feedback_dropout=1.0)
    net = SeqNet(cfg, VectorInput(5, 2), DiagGMMHead(8, dim=2, components=1)).train()
    x = torch.ones(2, 3, 5)
    dropped = net._drop_feedback(x)
    assert (dropped[..., :3] == 0).all() and (dropped[..., 3:] == 1).all()
    other = x.clone()
    other[..., :3] = 5.0  # at 1 nothing is fed back, in sampling either (torch and numpy)
    assert torch.equal(net.eval()(x)[0], net(other)[0])
    plan = Plan(rows=1, known=np.ones((1, 4, 2), np.float32), known_len=np.array([4]))
    fast = generate(net, np.zeros((1, 5), np.float32), SampleSettings(seed=3), plan)
    slow = generate(net, np.zeros((1, 5), np.float32), SampleSettings(seed=3), plan,
                    use_numpy=False)
    assert np.allclose(fast.sequences[0], slow.sequences[0], atol=1e-4)
    net.train()
    cfg.feedback_dropout = 0.0
    a, _ = net(x)
    b, _ = net.eval()(x)
    assert torch.allclose(a, b)  # no dropout: training and sampling see the same input


def test_phoneme_features_of_frames_and_phonemes() -> None:
    inv = aligned.Inventory.fit([["", "h", "ə", "l", "ˈoʊ"]])
    assert inv.symbols == ["", "h", "l", "oʊ", "ə", "?"]  # the pause first, unknown last
    assert inv.ids(["ˈoʊ", "ʒ"]).tolist() == [3, 5] and inv.unknown(["ʒ", "h"]) == ["ʒ"]
    phones, dur = ["", "h", "ə", "l", "ˈoʊ"], np.array([2, 3, 0, 2, 4])
    track = aligned.frame_track(phones, dur, inv)
    assert track.shape == (11, aligned.frame_dims(inv))
    S = inv.size
    cur = track[:, S:2 * S].argmax(1)  # each frame's own phoneme
    assert cur.tolist() == [0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3]
    assert track[2, 2 * S + 4] == 1  # "h"'s next is "ə", even with no frames of its own
    assert track[7, 3 * S] == 1 and track[5, 3 * S] == 0  # primary stress on "oʊ"
    assert np.allclose(track[7:11, 3 * S + 2], [0.125, 0.375, 0.625, 0.875])  # place in it
    pt = aligned.phone_track(phones, inv, question=True)
    assert pt.shape == (5, aligned.phone_dims(inv)) and (pt[:, -2] == 1).all()
    assert aligned.step_track(track, 2).shape[0] == 6
    assert aligned.frames_of(aligned.log_durations(dur)).tolist() == dur.tolist()
    assert aligned.frames_of(aligned.log_durations(dur), rate=2.0).tolist() == [1, 2, 0, 1, 2]


def test_a_run_trains_both_models_and_speaks_any_sentence(runner, tmp_path: Path) -> None:
    out = cli(runner, "train", "--domain", "speech", *TINY, "--max-steps", "14",
              "--run", "r")
    assert out.exit_code == 0, out.output
    run = Path("r")
    main, durs = (json.loads((p / "config.json").read_text()) for p in (run, run / "durations"))
    assert main["domain"]["options"]["mode"] == "phonemes"  # auto, from the timed corpus
    assert durs["domain"]["options"]["mode"] == "durations" and durs["model"]["hidden"] == 128
    from seqgen_speech import modes

    assert main["step"] + durs["step"] == 14  # the duration model's share of the steps
    share = modes.DURATION_SHARE
    assert main["companions"] == {"durations": share}
    info = cli(runner, "info", "r")
    assert "durations model" in info.stdout and f"{share:.0%} of the budget" in info.stdout
    import seqgen

    model = seqgen.load(run)
    text = "The train leaves at 4:30. Is it late?"
    model.domain.options.durations = "espeak"
    got = model.sample(text=text, seed=0)[0]
    frames = int(modes.say(text, "en-us")[1].sum())
    assert got.frames.shape == (frames + frames % 2, 80)  # eSpeak's, to the step of 2
    model.domain.options.durations = "model"
    own = model.sample(text=text, seed=0)[0]
    assert len(own.frames) > 0 and own.text == text
    model.domain.options.rate = 2.0
    assert len(model.sample(text=text, seed=0)[0].frames) < 0.7 * len(own.frames)
    wav = cli(runner, "sample", "--run", "r", "--text", "Hello, world.", "--render", "o.wav")
    assert wav.exit_code == 0 and Path("o.wav").stat().st_size > 1000
    for rate, out in (("1", "slow.npy"), ("2", "fast.npy")):  # --rate: -o rate= by its name
        assert cli(runner, "sample", "--run", "r", "--text", text, "--rate", rate,
                   "--render", out).exit_code == 0
    assert len(np.load("fast.npy")) < 0.7 * len(np.load("slow.npy"))
    bare = cli(runner, "sample", "--run", "r", "--render", "bare.wav", "--seed", "1")
    assert bare.exit_code == 0 and "no --text given: writing '" in bare.stderr
    assert "held-out lines of its corpus" in bare.stderr and main["examples"]
    tuned = cli(runner, "train", "--init-from", "r", "--max-steps", "2", "--quiet", "-o",
                "sentences=30", "--run", "ft")  # fine-tuning keeps the duration model
    assert tuned.exit_code == 0, tuned.output
    assert Path("ft/durations/model.safetensors").is_file()
    assert len(seqgen.load("ft").sample(text="hello", seed=0)[0].frames) > 0
    for bad, words in (("", "empty"), ("...", "nothing to say")):
        line = one_line_error(cli(runner, "sample", "--run", "r", "--text", bad))
        assert words in line


def test_the_shipped_form_carries_the_duration_model(runner, tmp_path: Path) -> None:
    from seqgen import shipping

    assert cli(runner, "train", "--domain", "speech", *TINY, "--max-steps", "8",
               "--run", "r").exit_code == 0
    recipe = {"command": "seqgen train --domain speech --preset tiny -o sentences=30 "
                         "--max-steps 8 --run ship/x"}
    dest = shipping.ship(Path("r"), tmp_path / "models" / "x", name="x", corpus="espeak",
                         recipe=recipe, figures={})
    assert (dest / "durations" / "model.safetensors").is_file()
    import seqgen

    said = seqgen.load(dest).sample(text="one two three", seed=0)[0]
    assert len(said.frames) > 10


def test_auto_mode_follows_the_corpus(tmp_path: Path) -> None:
    from test_speech_domain import _speech_dir

    from seqgen.domain import parse_options
    from seqgen_speech import modes
    from seqgen_speech.domain import SpeechDomain, SpeechOptions

    def dom(**kw: str) -> SpeechDomain:
        return SpeechDomain(parse_options(SpeechOptions, {"sentences": "12", **kw}))

    embedded = dom()
    embedded.load_corpus(None)
    assert embedded.options.mode == "phonemes" and embedded.aligned()
    recordings = dom()
    docs = recordings.load_corpus(str(_speech_dir(tmp_path / "lj"))).documents
    assert recordings.options.mode == "synthesis" and recordings.conditioned()
    timed = dom(mode="phonemes")
    with pytest.raises(Exception, match="has no phoneme timings.*mode=synthesis"):
        modes.fit(timed, docs)


def test_ctc_forced_alignment_finds_each_labels_first_step() -> None:
    from seqgen.engine.align import ctc_align, durations
    from seqgen.errors import SeqgenError

    path = [0, 0, 1, 1, 0, 2, 0, 2, 2, 3, 3, 0]  # a blank must part the two 2s
    logp = np.full((len(path), 4), np.log(0.02))
    logp[np.arange(len(path)), path] = np.log(0.94)
    starts = ctc_align(logp, [1, 2, 2, 3])
    assert starts.tolist() == [2, 5, 7, 9]
    lead, lengths = durations(starts, 24, scale=2)
    assert lead == 4 and lengths.tolist() == [6, 4, 4, 6] and lead + lengths.sum() == 24
    with pytest.raises(SeqgenError, match="3 steps cannot hold 3 labels"):
        ctc_align(logp[:3], [1, 2, 2])  # a repeat needs a blank between


def test_recordings_in_the_ljspeech_layout_are_aligned_and_trained(runner,
                                                                   tmp_path: Path) -> None:
    from test_speech_domain import _speech_dir

    from seqgen.domain import parse_options
    from seqgen_speech.domain import SpeechDomain, SpeechOptions

    root = _speech_dir(tmp_path / "lj")
    dom = SpeechDomain(parse_options(SpeechOptions, {"mode": "phonemes", "align_seconds": "2"}))
    docs = dom.load_corpus(str(root)).documents
    assert len(docs) == 5
    for d in docs:
        assert d.phones[0] == "" and d.durations is not None
        assert int(d.durations.sum()) == len(d.frames) and (d.durations >= 0).all()
    from seqgen_speech.espeak import phonemes

    assert list(docs[0].phones[1:]) == [p for w in phonemes(str(docs[0].text)) for p in w]
    out = cli(runner, "train", "--domain", "speech", "--data", str(root), "-o", "mode=phonemes",
              "-o", "align_seconds=2", "--preset", "tiny", "--quiet", "--max-steps", "6",
              "--run", "lj")
    assert out.exit_code == 0, out.output
    assert Path("lj/durations/model.safetensors").is_file()
    wav = cli(runner, "sample", "--run", "lj", "--text", "good night.", "--render", "g.wav")
    assert wav.exit_code == 0, wav.output
