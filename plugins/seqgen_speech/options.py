"""The speech domain's options (``-o KEY=VALUE``; ``seqgen domains --options speech``)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: the names the mode option had before it took handwriting's (runs saved with them still load)
MODE_ALIASES = {"tts": "synthesis", "babble": "prediction"}


@dataclass
class SpeechOptions:
    mode: str = field(default="auto", metadata={
        "help": "auto: phonemes where the corpus has phoneme timings (the embedded one), "
                "else synthesis; phonemes: frames from eSpeak NG's phonemes at learned "
                "durations (duration-informed; a duration model trains beside it); "
                "durations: that duration model "
                "alone; synthesis (or tts): spoken from the transcript through the soft "
                "window (corpora without phoneme timings); prediction (or babble): "
                "unconditioned",
        "choices": ("auto", "phonemes", "durations", "synthesis", "prediction",
                    *MODE_ALIASES)})
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
    align_seconds: float = field(default=120.0, metadata={
        "help": "mode phonemes on recordings without phoneme timings (--data DIR): seconds "
                "to train the CTC recogniser that aligns their phonemes (cached)"})
    durations: str = field(default="model", metadata={
        "help": "mode phonemes: each phoneme's frames from the run's duration model, or "
                "eSpeak NG's own (espeak)", "choices": ("model", "espeak"), "render": True})
    rate: float = field(default=1.0, metadata={
        "help": "mode phonemes: speed of speech (durations divided by it: 2 is twice as "
                "fast)", "render": True})
