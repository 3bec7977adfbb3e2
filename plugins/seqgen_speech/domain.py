"""Speech as a sequence of acoustic feature frames (log-mel or MFCC), spoken from a text.

One step is one frame (hop 256 at 22050 Hz: 11.6 ms). The model input and output are the
normalised frame followed by a stop flag (1.0 on an utterance's last frame); the engine's
``gmm`` head predicts both, a mixture of diagonal Gaussians over the frame and a Bernoulli for
the stop. In ``synthesis`` mode the model reads the transcript through the engine's soft window
(Graves 2013 section 5); in ``prediction`` mode it speaks unconditioned. The mode names are
handwriting's, Graves's words for the same two models; ``tts`` and ``babble`` are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.datasets import cache_dir
from seqgen.domain import (
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
from seqgen_speech.reader import Utterance

FRAMES_PER_SECOND = 22050 / 256
MIN_FRAMES = 20  # a sampled stop flag ends a sample only after this many frames
STOP_RUN = 3  # synthesis: consecutive sampled stop flags that end a sample
#: the names this option had before it took handwriting's (runs saved with them still load)
MODE_ALIASES = {"tts": "synthesis", "babble": "prediction"}
PAUSE_FRAMES = 20  # silence between the lines of a multi-line --text
# v3: each sentence's phonemes and their frames; v2: -o voices= (v1 blended six voices, four
# rates, three pitches)
CORPUS_VERSION = "espeak-v3"


@dataclass
class SpeechOptions:
    mode: str = field(default="synthesis", metadata={
        "help": "synthesis (or tts): spoken from the transcript (soft window); prediction (or "
                "babble): unconditioned",
        "choices": ("synthesis", "prediction", *MODE_ALIASES)})
    features: str = field(default="logmel", metadata={
        "help": "logmel: 80 log-mel bins (Tacotron 2); mfcc: 40 MFCCs of those",
        "choices": ("logmel", "mfcc")})
    sentences: int = field(default=3000, metadata={
        "help": "size of the embedded eSpeak corpus (sentences)"})
    corpus_seed: int = field(default=0, metadata={
        "help": "seed of the embedded corpus's sentences"})
    voices: str = field(default="en-us", metadata={
        "help": "eSpeak NG voices of the embedded corpus: a comma list of en-us, en, "
                "en-gb-x-rp, en-029, en-us-nyc, en-gb-scotland, or all; with --data DIR, "
                "folders: each file's first folder below DIR is its speaker. With more than "
                "one voice the model learns a speaker embedding and samples take --voice NAME"})
    components: int = field(default=4, metadata={"help": "Gaussians in the output mixture"})
    reduction: int = field(default=2, metadata={
        "help": "frames per step (Tacotron's reduction factor r): r frames in, r frames out"})


class SpeechDomain(Voiced, TextConditioned, Domain):
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
    # batch 16 beat 32 in the same 20 minutes (MCD 9.97 against 10.87 dB, CER 0.66 against
    # 1.09, length 1.11 against 1.72: docs/domains/speech.md, issue 15's search)
    preset_tuning = {"small": {"batch_size": 16}}

    def __init__(self, options: Any = None, state: dict[str, Any] | None = None) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.voices: list[str] = []
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
            return self._embedded(cache)
        from seqgen_speech.reader import read_directory

        folders = str(self.options.voices).strip() == "folders"
        utts, key = read_directory(Path(source), cache, speakers=folders)
        return Corpus(source, f"speech-user-{key}", utts)

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
        return Corpus("espeak", key, _utterances(z))

    # ---- codec ----------------------------------------------------------------------------
    def _feats(self, utt: Utterance) -> np.ndarray:
        from seqgen_speech.features import mfcc_from_log_mel

        return mfcc_from_log_mel(utt.frames) if self.kind == "mfcc" else utt.frames

    def fit(self, documents: Sequence[Any]) -> None:
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
                "voices": list(self.voices)}

    def set_state(self, state: dict[str, Any]) -> None:
        if state:
            self.mean = np.asarray(state["mean"], np.float32)
            self.std = np.asarray(state["std"], np.float32)
            self.voices = [str(v) for v in state.get("voices", [])]  # runs before voices: []

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.std is None:
            raise SeqgenError("the speech codec has no normalisation statistics (fit first)")
        return self.mean, self.std

    def encode(self, document: Any) -> np.ndarray:
        mean, std = self._stats()
        x = (self._feats(document) - mean) / std  # (T, D)
        # Tacotron's reduction factor: r consecutive frames make one step; the last group is
        # padded by repeating the last frame
        pad = -len(x) % self.r
        x = np.concatenate([x, np.repeat(x[-1:], pad, 0)]).reshape(-1, self.r * self.dim)
        stop = np.zeros((len(x), 1), np.float32)
        stop[-1:] = 1.0
        steps = np.concatenate([x, stop], 1).astype(np.float32)  # (T / r, r * D + 1)
        return self.mark(steps, self.voice_of(document))  # (T / r, r * D + 1 + S)

    def decode(self, array: np.ndarray) -> Any:
        from seqgen_speech.features import log_mel_from_mfcc

        mean, std = self._stats()
        a = np.asarray(array, np.float32)
        # a prime's steps carry the voice columns; the head's samples do not
        a = (a[:, :self.r * self.dim + 1] if a.ndim == 2 else a).reshape(-1, self.r * self.dim + 1)
        feats = a[:, :-1].reshape(-1, self.dim) * std + mean  # (T, D)
        frames = log_mel_from_mfcc(feats) if self.kind == "mfcc" else feats
        return Utterance(frames.astype(np.float32))

    def input_spec(self) -> VectorInput:
        return VectorInput(self.r * self.dim + 1 + self.voice_dims)  # r frames, stop, voice

    def head_spec(self) -> HeadSpec:
        return HeadSpec("gmm", {"dim": self.r * self.dim,
                                "components": int(self.options.components)})

    # ---- text conditioning ----------------------------------------------------------------
    def conditioned(self) -> bool:
        return bool(self.options.mode == "synthesis")

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
        from seqgen_speech.features import log_mel

        if not 0 <= index < len(corpus.VOICES):
            raise SeqgenError(f"--prime-style {index}: choose 0 to {len(corpus.VOICES) - 1} "
                              f"({', '.join(corpus.VOICES)})")
        text = "hello, peter."
        voice = corpus.VOICES[index]
        utt = Utterance(log_mel(corpus.speak(text, voice)), text, voice=voice)
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


def _utterances(z: Any) -> list[Utterance]:
    """The embedded corpus's utterances from its cache: frames, text, voice, phonemes."""
    bounds = np.cumsum([0, *z["lengths"].tolist()])
    frames = z["frames"].astype(np.float32)
    names = [tuple("" if p == "_" else p for p in str(s).split()) for s in z["phones"]]
    cuts = np.cumsum([0, *map(len, names)])
    durations = z["durations"]
    return [Utterance(frames[bounds[i]:bounds[i + 1]], str(t), f"{v}-{i}", str(v), names[i],
                      durations[cuts[i]:cuts[i + 1]])
            for i, (t, v) in enumerate(zip(z["texts"], z["voices"], strict=True))]
