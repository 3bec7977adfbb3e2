"""Speech as a sequence of acoustic feature frames (log-mel or MFCC), spoken from a text.

One step is one frame (hop 256 at 22050 Hz: 11.6 ms). The model input and output are the
normalised frame followed by a stop flag (1.0 on an utterance's last frame); the engine's
``gmm`` head predicts both, a mixture of diagonal Gaussians over the frame and a Bernoulli for
the stop. In ``synthesis`` mode the model reads the transcript through the engine's soft window
(Graves 2013 section 5); in ``prediction`` mode it speaks unconditioned. The mode names are
handwriting's, Graves's words for the same two models; ``tts`` and ``babble`` are accepted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.datasets import cache_dir
from seqgen.domain import (
    Aligned,
    Batching,
    Corpus,
    Domain,
    HeadSpec,
    Prime,
    Renderer,
    StopRule,
    TextConditioned,
    VectorInput,
    Voiced,
)
from seqgen.engine.files import load_npz
from seqgen.errors import SeqgenError
from seqgen_speech import modes
from seqgen_speech.aligned import Inventory
from seqgen_speech.options import MODE_ALIASES, SpeechOptions
from seqgen_speech.reader import Utterance

FRAMES_PER_SECOND = 22050 / 256
MIN_FRAMES = 20  # a sampled stop flag ends a sample only after this many frames
STOP_RUN = 3  # synthesis: consecutive sampled stop flags that end a sample
PAUSE_FRAMES = 20  # silence between the lines of a multi-line --text
# v4: 2 to 18 words, questions, numbers, times (sentences.py); v3: phonemes and their frames;
# v2: -o voices= (v1 blended six voices, four rates, three pitches)
CORPUS_VERSION = "espeak-v4"


class SpeechDomain(Voiced, Aligned, TextConditioned, Domain):
    name = "speech"
    version = "1.0"
    description = "Speech as log-mel frames, spoken from a text; WAV through Griffin-Lim"
    input_formats = ("directory of WAV/FLAC/OGG", "LJSpeech metadata.csv", "audio file")
    default_corpus = ("espeak: short English sentences synthesised on first use with eSpeak NG "
                      "(synthetic speech; the en-us voice, -o voices= for up to six), "
                      "with transcripts")
    batching = Batching.SEQUENCES
    unit = "frame"
    default_render = ".wav"
    default_length = 1000
    max_steps_per_char = 15
    keep_prime = False
    Options = SpeechOptions
    # batch 16 beat 32 in 20 minutes (issue 15); feedback_dropout 0.5 (mode phonemes) took
    # Whisper's WER on unseen sentences from 1.05 to 0.39 in 4 minutes (docs/domains/speech.md)
    preset_tuning = {"small": {"batch_size": 16, "feedback_dropout": 0.5}}

    def __init__(self, options: Any = None, state: dict[str, Any] | None = None) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.voices: list[str] = []
        self.inventory: Inventory | None = None  # modes phonemes and durations
        self.dur_stats = (0.0, 1.0)  # mode durations: log(1 + frames) mean and std
        super().__init__(options, state)
        self.options.mode = MODE_ALIASES.get(self.options.mode, self.options.mode)
        if int(self.options.reduction) < 1:
            raise SeqgenError("option reduction must be at least 1")
        # the caps on steps are set in frames; a step holds r of them
        self.max_steps_per_char = max(1, round(type(self).max_steps_per_char / self.r))
        self.default_length = -(-type(self).default_length // self.r)

    @property
    def kind(self) -> str:
        return str(self.options.features)

    @property
    def r(self) -> int:
        return int(self.options.reduction)

    @property
    def dim(self) -> int:
        from seqgen_speech.features import N_MELS, N_MFCC

        return N_MFCC if self.kind == "mfcc" else N_MELS

    # ---- corpus ---------------------------------------------------------------------------
    def load_corpus(self, source: str | None) -> Corpus:
        cache = cache_dir() / "speech"
        if source is None:
            got = self._embedded(cache)
        else:
            from seqgen_speech.reader import read_directory

            folders = str(self.options.voices).strip() == "folders"
            utts, key = read_directory(Path(source), cache, speakers=folders)
            got = Corpus(source, f"speech-user-{key}", utts)
        return modes.settle(self, got)  # auto decided; recordings aligned for phonemes

    def _embedded(self, cache: Path) -> Corpus:
        from seqgen_speech import corpus
        from seqgen_speech.features import log_mel

        n, seed = int(self.options.sentences), int(self.options.corpus_seed)
        if n < 1:
            raise SeqgenError("option sentences must be at least 1")
        if str(self.options.voices).strip() == "folders":
            raise SeqgenError("option voices=folders names the speakers of --data DIR by its "
                              "folders; the embedded corpus takes eSpeak voices (en-us, ...)")
        voices = corpus.parse_voices(str(self.options.voices))
        key = f"{CORPUS_VERSION}-n{n}-s{seed}-{'+'.join(voices)}"
        path = cache / f"{key}.npz"
        z = load_npz(path)  # None when absent or damaged: built (again)
        if z is None:
            corpus.build(n, seed, path, log_mel, voices)
            z = np.load(path)
        return Corpus("espeak", key, corpus.utterances(z))

    # ---- codec ----------------------------------------------------------------------------
    def _feats(self, utt: Utterance) -> np.ndarray:
        from seqgen_speech.features import mfcc_from_log_mel

        return mfcc_from_log_mel(utt.frames) if self.kind == "mfcc" else utt.frames

    def fit(self, documents: Sequence[Any]) -> None:
        if self.timed:
            modes.fit(self, documents)
        feats = np.concatenate([self._feats(d) for d in documents]).astype(np.float64)
        self.mean = feats.mean(0).astype(np.float32)
        self.std = np.maximum(feats.std(0), 1e-3).astype(np.float32)
        self.fit_voices(documents)

    def voice_of(self, document: Any) -> str | None:
        return document.voice if isinstance(document, Utterance) else None

    def get_state(self) -> dict[str, Any]:
        if self.mean is None or self.std is None:
            return {}
        return {"features": self.kind, "mean": self.mean.tolist(), "std": self.std.tolist(),
                "voices": list(self.voices), "durations": list(self.dur_stats),
                "phonemes": self.inventory.symbols if self.inventory else None}

    def set_state(self, state: dict[str, Any]) -> None:
        if state:
            self.mean = np.asarray(state["mean"], np.float32)
            self.std = np.asarray(state["std"], np.float32)
            self.voices = [str(v) for v in state.get("voices", [])]  # runs before voices: []
            if state.get("phonemes"):
                self.inventory = Inventory([str(p) for p in state["phonemes"]])
                mu, sd = state["durations"]
                self.dur_stats = (float(mu), float(sd))

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.std is None:
            raise SeqgenError("the speech codec has no normalisation statistics (fit first)")
        return self.mean, self.std

    def encode(self, document: Any) -> np.ndarray:
        if self.options.mode == "durations":
            return modes.encode_durations(self, document)  # (P, 2 + S + C)
        mean, std = self._stats()
        x = (self._feats(document) - mean) / std  # (T, D)
        # Tacotron's reduction factor: r consecutive frames make one step; the last group is
        # padded by repeating the last frame
        pad = -len(x) % self.r
        x = np.concatenate([x, np.repeat(x[-1:], pad, 0)]).reshape(-1, self.r * self.dim)
        stop = np.zeros((len(x), 1), np.float32)
        stop[-1:] = 1.0
        steps = np.concatenate([x, stop], 1).astype(np.float32)  # (T / r, r * D + 1)
        steps = self.mark(steps, self.voice_of(document))  # (T / r, r * D + 1 + S)
        if self.timed:  # the known columns: (T / r, r * D + 1 + S + C)
            steps = np.concatenate([steps, modes.known_frames(self, document, len(steps))], 1)
        return steps

    def decode(self, array: np.ndarray) -> Any:
        from seqgen_speech.features import log_mel_from_mfcc

        if self.options.mode == "durations":  # frames per phoneme
            return modes.durations_of(self, array, float(self.options.rate))
        mean, std = self._stats()
        full = np.asarray(array, np.float32)
        # a prime's steps carry the voice columns; the head's samples do not
        a = (full[:, :self.r * self.dim + 1] if full.ndim == 2 else full).reshape(
            -1, self.r * self.dim + 1)
        feats = a[:, :-1].reshape(-1, self.dim) * std + mean  # (T, D)
        frames = log_mel_from_mfcc(feats) if self.kind == "mfcc" else feats
        spec = self.input_spec()
        # encoded steps (not samples) keep their known columns: encode takes them back
        track = full[:, -spec.known:] if spec.known and full.ndim == 2 and \
            full.shape[1] == spec.dim else None
        return Utterance(frames.astype(np.float32), track=track)

    def input_spec(self) -> VectorInput:
        own = 1 if self.options.mode == "durations" else self.r * self.dim
        known = modes.known_dims(self) if self.timed else 0
        # r frames (or a log-duration), stop, voice, then the known columns
        return VectorInput(own + 1 + self.voice_dims + known, known=known)

    def head_spec(self) -> HeadSpec:
        if self.options.mode == "durations":
            return HeadSpec("gmm", {"dim": 1, "components": 2})
        return HeadSpec("gmm", {"dim": self.r * self.dim,
                                "components": int(self.options.components)})

    # ---- text conditioning ----------------------------------------------------------------
    def conditioned(self) -> bool:
        return bool(self.options.mode == "synthesis")

    @property
    def timed(self) -> bool:
        """The duration-informed modes: they read phonemes at known durations."""
        return self.options.mode in ("phonemes", "durations")

    def aligned(self) -> bool:
        return bool(self.options.mode == "phonemes")

    @property
    def default_bias(self) -> float:  # type: ignore[override]
        """Mode phonemes: 1, measured (Whisper's WER and the MCD: docs/domains/speech.md)."""
        return 1.0 if self.aligned() else 0.0

    def tracks(self, texts: list[str], companion: Callable[[str], Any]) -> list[np.ndarray]:
        return modes.tracks(self, texts, companion)

    def companions(self) -> dict[str, tuple[Any, dict[str, Any], float]]:
        if self.options.mode != "phonemes":
            return {}
        opts = dataclasses.replace(self.options, mode="durations")
        return {"durations": (opts, dict(modes.DURATION_MODEL), modes.DURATION_SHARE)}

    def text_of(self, document: Any) -> str | None:
        return document.text if isinstance(document, Utterance) else None

    def normalise_text(self, text: str, alphabet: str) -> str:
        """As the corpus's transcripts are: lower case (LJSpeech's normalized text is lowered
        too), a sentence's end mark a full stop and a pause mark a comma where the alphabet
        lacks it, runs of spaces one."""
        out = text.lower() if text.lower() != text and any(c.islower() for c in alphabet) \
            else text
        for marks, plain in (("!?", "."), (";:", ",")):
            if plain in alphabet:
                out = "".join(plain if c in marks and c not in alphabet else c for c in out)
        return " ".join(out.split())

    def with_text(self, sample: Any, text: str) -> Any:
        if isinstance(sample, Utterance):
            sample.text = text  # the .png renderer draws the eSpeak reference of this text
        return sample

    def feedback(self, sampled: np.ndarray) -> np.ndarray:
        """The stop flag is cleared before it is fed back: an utterance's last step is only
        ever a target in training, so the inputs never show a 1 there."""
        out = np.array(sampled, dtype=np.float32, copy=True)
        out[:, -1] = 0.0
        return self.mark(out)  # (B, r * D + 1 + S): the chosen voice's one-hot

    # ---- sampling -------------------------------------------------------------------------
    def style_prime(self, index: int) -> tuple[np.ndarray, str | None]:
        """Voice N of the embedded corpus saying a short sentence (stop flags cleared)."""
        from seqgen_speech import corpus

        utt = corpus.style_example(index)
        text = str(utt.text)
        enc = self.encode(utt)
        enc[:, self.r * self.dim] = 0.0  # the stop flag (the voice's columns follow it)
        return enc, text

    def join_lines(self, lines: list[Any]) -> Any:
        from seqgen_speech.features import LOG_FLOOR

        gap = np.full((PAUSE_FRAMES, lines[0].frames.shape[1]), np.log(LOG_FLOOR), np.float32)
        parts: list[np.ndarray] = []
        for i, ln in enumerate(lines):
            parts += ([gap] if i else []) + [ln.frames]
        texts = [ln.text for ln in lines if ln.text]
        return Utterance(np.concatenate(parts), " ".join(texts) if texts else None)

    def length_rule(self, length: str | None,
                    prime: Prime | None = None) -> tuple[int, StopRule | None]:
        """--length in frames or seconds ("3s"); sampled stop flags end a sample."""
        if length is None:
            steps = self.default_length
        else:
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s?)\s*", length)
            if not m:
                raise SeqgenError(f"--length {length!r}: expected frames (500) or seconds (3s)")
            value = float(m.group(1))
            frames = value * FRAMES_PER_SECOND if m.group(2) else value
            steps = int(-(-round(frames) // self.r))  # a step holds r frames
        # A text-conditioned sample also ends where the window passes the text (the engine),
        # so there one stray stop flag must not cut it short: it takes STOP_RUN in a row
        if self.timed:  # the phonemes' known columns end a sample
            return max(steps, 1), None
        need = STOP_RUN if self.conditioned() else 1
        count = [0]
        run: list[np.ndarray] = []

        def stop(sampled: np.ndarray) -> np.ndarray:
            flag = np.asarray(sampled)[:, -1] > 0.5
            run[:] = [np.where(flag, run[0] + 1, 0) if run else flag.astype(np.int64)]
            count[0] += 1
            return (run[0] >= need) & (count[0] * self.r >= MIN_FRAMES)
        return max(steps, 1), stop

    # ---- output ---------------------------------------------------------------------------
    def renderers(self) -> dict[str, Renderer]:
        from seqgen_speech import render

        return render.renderers()

    def metrics(self, nll: float, extra: dict[str, float] | None = None) -> dict[str, float]:
        # the engine's loss is per step, and a step holds r frames (and one stop flag)
        out = {"nats/frame": nll / self.r, "nats/step": nll,
               "nats/dim": nll / (self.r * self.dim + 1)}
        out.update(extra or {})
        return out
