"""A trained run, loaded for sampling, evaluation and rendering (``seqgen.load``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.assembly import build_model, domain_from_config, val_batches
from seqgen.config import ModelConfig, TrainConfig, from_dict
from seqgen.datasets import cache_dir
from seqgen.domain import VectorInput
from seqgen.engine import checkpoint as ckpt
from seqgen.engine.data import encode_corpus, split
from seqgen.engine.sample import SampleSettings, generate
from seqgen.engine.train import evaluate, resolve_device
from seqgen.engine.vocab import TextVocab
from seqgen.errors import SeqgenError
from seqgen.render import render


@dataclass
class Prime:
    """What sampling starts from: encoded steps and, for conditioned models, their text."""

    steps: np.ndarray | None = None
    text: str = ""


#: written by a text-conditioned run that recorded no example texts (an older run)
PANGRAM = "the quick brown fox jumps over the lazy dog"


class Model:
    """A trained run, ready to sample and evaluate."""

    def __init__(self, run_dir: Path, expect_domain: str | None = None,
                 device: str = "cpu", options: Sequence[str] | None = None) -> None:
        self.run_dir = run_dir
        self.config = ckpt.read_config(run_dir)
        self.domain = domain_from_config(self.config, expect_domain, options)
        cond = self.config.get("condition")
        self.vocab = TextVocab(cond["chars"]) if cond else None
        self.device = resolve_device(device)
        self.net = build_model(self.domain, from_dict(ModelConfig, self.config["model"]),
                               self.vocab)
        try:
            self.net.load_state_dict(ckpt.load_tensors(run_dir / "model.safetensors"))
        except RuntimeError as exc:
            raise SeqgenError(f"{run_dir}/model.safetensors does not match config.json: "
                              f"{str(exc).splitlines()[0]}") from None
        self.net.to(self.device).eval()
        #: the attention window of the last conditioned sample, per batch row: (T, U) arrays
        self.attention: list[np.ndarray] = []
        self.texts: list[str] = []

    def _prime(self, prime: str | None, style: int | None) -> Prime:
        if prime is not None and style is not None:
            raise SeqgenError("give --prime or --prime-style, not both")
        got: Any = None
        if prime:
            got = self.domain.encode_prime(prime)
        elif style is not None:
            got = self.domain.style_prime(style)
        if got is None:
            return Prime()
        steps, text = got if isinstance(got, tuple) else (got, None)
        if self.vocab is not None and not text:
            raise SeqgenError("this model writes from a text: its prime needs a transcription")
        return Prime(np.asarray(steps), text or "")

    def _rows(self, num: int, text: str | None, prime: Prime) -> tuple[list[str], int]:
        """The conditioning text of each batch row: num samples x lines of the text."""
        if self.vocab is None:
            if text:
                raise SeqgenError("this model is not conditioned on text (it was trained "
                                  "without transcriptions); sample without --text")
            return [], 1
        lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
        if text is not None and not lines:
            raise SeqgenError("--text is empty: give the text to write")
        # with no text, sample i writes the i-th of default_texts (one line each)
        chosen = [[ln] for ln in self.default_texts(num)] if not lines else [lines] * num
        # Graves 2013 section 5.4: prime with the prime's text followed by the new text
        gap = " " if prime.text and " " in self.vocab.index else ""
        rows = [f"{prime.text}{gap}{ln}" for sample in chosen for ln in sample]
        for r in {*rows}:
            self.vocab.encode(r)  # unknown characters: one clear error before sampling
        return rows, len(chosen[0])

    def default_texts(self, num: int) -> list[str]:
        """What a text-conditioned model writes when given no text: held-out lines of its
        corpus (recorded at training), else a pangram cut to the model's alphabet."""
        assert self.vocab is not None
        examples = (self.config.get("condition") or {}).get("examples") or []
        if not examples:
            words = [w for w in PANGRAM.split() if all(c in self.vocab.index for c in w)]
            if not words and PANGRAM.upper() != PANGRAM:
                words = [w for w in PANGRAM.upper().split()
                         if all(c in self.vocab.index for c in w)]
            gap = " " if " " in self.vocab.index else ""
            examples = [gap.join(words)] if words else []
        if not examples:
            raise SeqgenError("this model writes from a text: give --text")
        return [examples[i % len(examples)] for i in range(num)]

    def sample(self, num: int = 1, length: int | str | None = None, prime: str | None = None,
               temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, bias: float = 0.0,
               seed: int | None = None, keep_prime: bool | None = None,
               on_text: Callable[[str], None] | None = None, text: str | None = None,
               style: int | None = None) -> list[Any]:
        """Generate ``num`` samples and decode them with the domain's codec.

        ``text`` conditions a text-conditioned model (each line a batch row, joined back into
        one sample by the domain); ``style`` primes with the domain's N-th style example.
        """
        dom = self.domain
        keep = dom.keep_prime if keep_prime is None else keep_prime
        p = self._prime(prime, style)
        texts, n_lines = self._rows(num, text, p)
        steps, stop_rule = dom.length_rule(None if length is None else str(length))
        if texts and length is None:
            steps = dom.max_steps_per_char * max(len(t) for t in texts)
        B = len(texts) or num
        s = SampleSettings(B, steps, temperature, top_k, top_p, bias, seed, keep)
        _check_settings(s)
        context = self._context(p)
        on_step = self._streamer(on_text, prime, keep) if num == 1 and not texts else None
        cond = self._cond(texts) if texts else None
        self.attention, self.texts = [], texts
        phis: list[np.ndarray] = []
        seqs = generate(self.net, context, s, dom.separator(), on_step, self.device,
                        stop_rule=stop_rule, cond=cond, attention=phis, feedback=dom.feedback)
        if phis:
            att = np.stack(phis, 1)  # (B, T, U)
            self.attention = [att[b, :len(seqs[b]), :len(t)] for b, t in enumerate(texts)]
        if keep and p.steps is not None:
            seqs = [np.concatenate([p.steps.astype(q.dtype), q]) for q in seqs]
        decoded = [dom.decode(q) for q in seqs]
        if texts:  # each row says its line (and the prime's text when the prime is kept)
            said = texts if keep else [t[len(p.text):].lstrip() if p.text else t for t in texts]
            decoded = [dom.with_text(d, t) for d, t in zip(decoded, said, strict=True)]
        if n_lines > 1:
            return [dom.join_lines(decoded[i:i + n_lines]) for i in range(0, B, n_lines)]
        return decoded

    def _context(self, p: Prime) -> np.ndarray:
        sep, spec = self.domain.separator(), self.domain.input_spec()
        start = np.array([sep]) if sep is not None else np.zeros(
            (1, spec.dim if isinstance(spec, VectorInput) else 1), np.float32)
        return start if p.steps is None else np.concatenate([start, p.steps.astype(start.dtype)])

    def _cond(self, texts: list[str]) -> np.ndarray:
        assert self.vocab is not None
        ids = [self.vocab.encode(t) for t in texts]
        out = np.zeros((len(ids), max(len(i) for i in ids)), dtype=np.int64)  # (B, U)
        for b, i in enumerate(ids):
            out[b, :len(i)] = i
        return out

    def _streamer(self, on_text: Callable[[str], None] | None, prime: str | None,
                  keep: bool) -> Any:
        decoder = self.domain.stream_decoder()
        if on_text is None or decoder is None:
            return None
        if keep and prime:
            on_text(prime)

        def on_step(tokens: np.ndarray, done: np.ndarray) -> None:
            if not done[0]:
                on_text(decoder(int(tokens[0])))
        return on_step

    def evaluate(self, data: str | None = None) -> dict[str, float]:
        """Held-out loss in the domain's units: the run's validation split, or all of ``data``."""
        tcfg = from_dict(TrainConfig, self.config["train"])
        source = data if data is not None else self.config["data"]["source"]
        corpus = self.domain.load_corpus(source)
        enc = encode_corpus(self.domain, corpus, cache_dir(), self.vocab)
        held = enc if data is not None else split(enc, tcfg.val_fraction,
                                                  self.domain.batching == "sequences")[1]
        batches = val_batches(self.domain, held, tcfg)
        if batches is None:
            raise SeqgenError(f"{source or 'the default corpus'}: too little held-out data "
                              f"to evaluate (need more than one batch of {tcfg.seq_len} steps)")
        nll, extra = evaluate(self.net, batches, self.device, 10**9)
        return self.domain.metrics(nll, extra) if extra else self.domain.metrics(nll)

    def render(self, samples: list[Any], out: str | Path) -> list[Path]:
        return render(self.domain, samples, out)

    def plot_attention(self, out: str | Path, row: int = 0) -> Path:
        """The attention window of the last conditioned sample as a PNG heat map."""
        from seqgen.engine.plot import plot_attention

        if not self.attention:
            raise SeqgenError("--attention needs a text-conditioned model and a --text")
        return plot_attention(self.attention[row], self.texts[row], Path(out))


def _check_settings(s: SampleSettings) -> None:
    if s.num < 1 or s.length < 1:
        raise SeqgenError("--num and --length must be at least 1")
    if s.temperature < 0 or not 0 < s.top_p <= 1 or s.top_k < 0:
        raise SeqgenError("need --temperature >= 0, 0 < --top-p <= 1 and --top-k >= 0")
