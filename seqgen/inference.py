"""A trained run, loaded for sampling, evaluation and rendering (``seqgen.load``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.assembly import build_model, domain_from_config, sequences, val_batches
from seqgen.config import ModelConfig, TrainConfig, from_dict
from seqgen.datasets import cache_dir
from seqgen.domain import Aligned, Prime, TextConditioned, VectorInput, Voiced, aligned
from seqgen.engine import checkpoint as ckpt
from seqgen.engine import threads
from seqgen.engine.data import encode_corpus, pad_ids, split
from seqgen.engine.evaluate import evaluate
from seqgen.engine.optim import resolve_device
from seqgen.engine.sample import Plan, SampleSettings, StepCallback, generate
from seqgen.engine.specs import either
from seqgen.engine.vocab import TextVocab
from seqgen.errors import SeqgenError
from seqgen.redraw import own_line, redrawn
from seqgen.render import render
from seqgen.streaming import streamer

#: written by a text-conditioned run that recorded no example texts (an older run)
PANGRAM = "the quick brown fox jumps over the lazy dog"


def _float32(tensors: dict[str, Any]) -> dict[str, Any]:
    """Shipped models store their weights in float16 (half the size); the CPU runs float32."""
    return {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}


def _both(first: StepCallback | None, then: StepCallback) -> StepCallback:
    """One step callback that calls two (the text streamer, then the caller's own)."""
    if first is None:
        return then

    def both(tokens: np.ndarray, done: np.ndarray) -> None:
        first(tokens, done)
        then(tokens, done)
    return both


def _padded(tracks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(T_b, C) arrays -> (B, T, C) zero-padded, and each row's length (B,)."""
    lens = np.array([len(t) for t in tracks], np.int64)
    out = np.zeros((len(tracks), int(lens.max()), tracks[0].shape[1]), np.float32)
    for b, t in enumerate(tracks):
        out[b, :len(t)] = t
    return out, lens


class Model:
    """A trained run, ready to sample and evaluate."""

    def __init__(self, run_dir: Path, expect_domain: str | None = None,
                 device: str = "cpu", options: Sequence[str] | None = None,
                 threads: int | None = None) -> None:
        self.run_dir, self.threads = run_dir, threads
        self.config = ckpt.read_config(run_dir)
        self.domain = domain_from_config(self.config, expect_domain, options)
        cond = self.config.get("condition")
        self.vocab = TextVocab(cond["chars"]) if cond else None
        self.device = resolve_device(device)
        self.net = build_model(self.domain, from_dict(ModelConfig, self.config["model"]),
                               self.vocab)
        try:
            self.net.load_state_dict(_float32(ckpt.load_tensors(run_dir / "model.safetensors")))
        except RuntimeError as exc:
            raise SeqgenError(f"{run_dir}/model.safetensors does not match config.json: "
                              f"{str(exc).splitlines()[0]}") from None
        self.net.to(self.device).eval()
        #: the attention window of the last conditioned sample, per batch row: (T, U) arrays
        self.attention: list[np.ndarray] = []
        self.texts: list[str] = []
        self._companions: dict[str, Model] = {}

    def companion(self, name: str) -> Model:
        """The run's companion model ``name`` (Aligned.companions), loaded once."""
        if name not in self._companions:
            where = self.run_dir / name
            if not (where / "config.json").is_file():
                raise SeqgenError(f"{self.run_dir} has no {name} model beside it (it trains "
                                  f"with the run, into {where}): train the run again")
            self._companions[name] = Model(where, device=self.device, threads=self.threads)
        return self._companions[name]

    def sample_steps(self, tracks: list[np.ndarray],
                     settings: SampleSettings | None = None) -> list[np.ndarray]:
        """The raw steps (not decoded) an aligned model draws for each (T, C) array of known
        columns, one batch row each (a companion model's use)."""
        s = settings or SampleSettings()
        plan = Plan(rows=len(tracks), feedback=self.domain.feedback)
        plan.known, plan.known_len = _padded(tracks)
        plan.steps = plan.known.shape[1]
        return generate(self.net, self._context(Prime()), s, plan, self.device).sequences

    def _prime(self, prime: str | None, style: int | str | None) -> Prime:
        if prime is not None and style is not None:
            raise SeqgenError("give --prime or --prime-style, not both")
        got: Any = None
        if prime:
            got = self.domain.encode_prime(prime)
        elif style is not None:
            if not isinstance(self.domain, TextConditioned):
                raise SeqgenError(f"domain {self.domain.name!r} has no --prime-style examples")
            from seqgen.styles import style_prime  # the N-th example, or a saved style

            got = style_prime(self.domain, style, self.vocab.chars if self.vocab else None)
        if got is None:
            start = None if prime else self.domain.start_prime()
            return Prime(steps=start, source=prime or f"--prime-style {style}", shown=False)
        steps, text = got if isinstance(got, tuple) else (got, None)
        if self.vocab is not None and not text:
            raise SeqgenError("this model writes from a text: its prime needs a transcription")
        return Prime(np.asarray(steps), text or "", prime or f"--prime-style {style}")

    def _rows(self, num: int, text: str | None, prime: Prime) -> tuple[list[str], int]:
        """The conditioning text of each batch row: num samples x lines of the text."""
        if self.vocab is None and not aligned(self.domain):
            if text:
                raise SeqgenError("this model is not conditioned on text (it was trained "
                                  "without transcriptions); sample without --text")
            return [], 1
        if self.vocab is None:  # an aligned model: its domain reads any text as it is
            chosen = self._chosen(num, text, str.strip)
            return [ln for sample in chosen for ln in sample], len(chosen[0])
        assert isinstance(self.domain, TextConditioned)
        fix, chars = self.domain.normalise_text, self.vocab.chars
        chosen = self._chosen(num, text, lambda ln: fix(ln.strip(), chars))
        # Graves 2013 section 5.4: prime with the prime's text followed by the new text
        gap = " " if prime.text and " " in self.vocab.index else ""
        rows = [f"{prime.text}{gap}{ln}" for sample in chosen for ln in sample]
        for r in {*rows}:
            self.vocab.encode(r)  # unknown characters: one clear error before sampling
        return rows, len(chosen[0])

    def _chosen(self, num: int, text: str | None,
                fix: Callable[[str], str]) -> list[list[str]]:
        """Each sample's lines: those of the text (through ``fix``), or with no text the
        i-th of default_texts for sample i (one line each)."""
        width = self.domain.line_width() if isinstance(self.domain, TextConditioned) else None
        lines = [fix(part) for ln in (text or "").splitlines() if ln.strip()
                 for part in _wrap(ln.strip(), width)]
        if text is not None and not lines:
            raise SeqgenError("--text is empty: give the text to write or say")
        return [[ln] for ln in self.default_texts(num)] if not lines else [lines] * num

    def default_texts(self, num: int) -> list[str]:
        """What a text-conditioned model writes when given no text: held-out lines of its
        corpus (recorded at training), else a pangram cut to the model's alphabet."""
        examples = (self.config.get("condition") or {}).get("examples") or \
            self.config.get("examples") or []
        if not examples and self.vocab is None:  # an aligned model speaks any text
            return [PANGRAM] * num
        if not examples:
            assert self.vocab is not None
            words = [w for w in PANGRAM.split() if all(c in self.vocab.index for c in w)]
            if not words and PANGRAM.upper() != PANGRAM:
                words = [w for w in PANGRAM.upper().split()
                         if all(c in self.vocab.index for c in w)]
            gap = " " if " " in self.vocab.index else ""
            examples = [gap.join(words)] if words else []
        if not examples:
            raise SeqgenError("this model writes from a text: give --text")
        return [examples[i % len(examples)] for i in range(num)]

    def sample(self, settings: SampleSettings | None = None, /, *,
               on_text: Callable[[str], None] | None = None,
               on_step: StepCallback | None = None, **fields: Any) -> list[Any]:
        """Generate samples and decode them with the domain's codec.

        ``settings`` is a ``SampleSettings``; its fields may also be given as keywords
        (``model.sample(prime="ROMEO:", temperature=0.8, seed=1)``), over it. ``text``
        conditions a text-conditioned model (each line a batch row, joined back into one
        sample by the domain); ``style`` primes with the domain's N-th style example, or with
        a saved style by name (seqgen.styles).
        ``on_text`` receives a text sample as it is written; ``on_step`` each step's samples
        (B, ...) and done flags (B,) as they are drawn (``seqgen serve`` streams pen points).
        """
        s = dataclasses.replace(settings or SampleSettings(), **fields)
        if s.bias is None:
            s.bias = float(self.domain.default_bias)
        if s.temperature is None:
            given = self.domain.melody_temperature if s.melody is not None else None
            s.temperature = float(self.domain.default_temperature if given is None else given)
        s.check()
        self._voice(s.voice)
        p = self._prime(s.prime, s.style)
        keep = (self.domain.keep_prime if s.keep_prime is None else s.keep_prime) and p.shown
        texts, n_lines = self._rows(s.num, s.text, p)
        page = getattr(self.domain, "page_style", None)
        if n_lines > 1 and page is not None and s.prime is None and s.style is None:
            p = self._prime(None, page)  # every line in one style: the page keeps one hand
            texts, n_lines = self._rows(s.num, s.text, p)
        if n_lines > 1 and isinstance(self.domain, TextConditioned) and not keep \
                and self.domain.chain_lines:  # one hand down the page: line after line
            from seqgen.lines import chained

            return chained(self, s, p, on_step)
        plan = self._plan(s, p, texts, keep, on_text)
        if on_step is not None:
            plan.on_step = _both(plan.on_step, on_step)
        self._threads(plan.rows or s.num, 1)  # a step at a time: one thread, as a rule
        got = generate(self.net, self._context(p), s, plan, self.device)
        self.texts = texts
        self.attention = [] if got.attention is None else [
            got.attention[b, :len(got.sequences[b]), :len(t)] for b, t in enumerate(texts)]
        seqs = got.sequences if on_step is not None or not texts else \
            redrawn(self, s, p, texts, keep, got.sequences)  # a stream is not taken back
        return self._decode(seqs, p, texts, n_lines, keep)

    def _plan(self, s: SampleSettings, p: Prime, texts: list[str], keep: bool,
              on_text: Callable[[str], None] | None) -> Plan:
        dom = self.domain
        steps, stop_rule = dom.length_rule(None if s.length is None else str(s.length), p)
        stop_rule = either(stop_rule, dom.stop_rule(p))  # --length, or the domain's own end
        if texts and s.length is None and self.vocab is not None:
            assert isinstance(dom, TextConditioned)
            steps = dom.max_steps_per_char * max(len(t) for t in texts)
        if steps < 1:
            raise SeqgenError("--num and --length must be at least 1")
        stream = streamer(dom, on_text, p, keep) if s.num == 1 and not texts else None
        given = None
        if s.melody is not None:  # a given part: its steps kept, the rest sampled around them
            if s.prime is not None or s.style is not None:
                raise SeqgenError("--melody is the sample's given part: it takes no --prime")
            given, stop_rule = dom.encode_melody(s.melody), None
        plan = Plan(rows=len(texts) or s.num, steps=steps, stop_token=dom.separator(),
                    stop_rule=stop_rule, cond=self._cond(texts) if self.vocab else None,
                    feedback=dom.feedback, on_step=stream, never=dom.never_sampled(),
                    constraint=dom.constraint_rule(p), given=given)
        if isinstance(dom, Aligned) and dom.aligned():  # each row's known columns: its length
            if s.prime is not None or s.style is not None:
                raise SeqgenError("this model speaks from known phonemes: it takes no "
                                  "--prime or --prime-style")
            plan.known, plan.known_len = _padded(dom.tracks(texts, self.companion))
            plan.steps = plan.known.shape[1]
        return plan

    def _decode(self, seqs: list[np.ndarray], p: Prime, texts: list[str], n_lines: int,
                keep: bool) -> list[Any]:
        dom = self.domain
        if keep and p.steps is not None:
            seqs = [np.concatenate([p.steps.astype(q.dtype), q]) for q in seqs]
        decoded = [dom.decode(q) if keep or p.steps is None
                   else dom.decode_continuation(p.steps, q) for q in seqs]
        if texts:  # each row says its line (and the prime's text when the prime is kept)
            assert isinstance(dom, TextConditioned)
            said = texts if keep else [own_line(t, p) for t in texts]
            decoded = [dom.with_text(d, t) for d, t in zip(decoded, said, strict=True)]
        if n_lines > 1:
            assert isinstance(dom, TextConditioned)
            return [dom.join_lines(decoded[i:i + n_lines])
                    for i in range(0, len(decoded), n_lines)]
        return decoded

    def _voice(self, name: str | None) -> None:
        """--voice NAME: every row speaks it (the domain appends its one-hot to each input)."""
        if isinstance(self.domain, Voiced):
            self.domain.choose_voice(name)
        elif name is not None:
            raise SeqgenError(f"--voice {name!r}: domain {self.domain.name!r} has no voices")

    def voices(self) -> list[str]:
        """The voices this model was trained on ([] where its domain names none)."""
        return list(self.domain.voices) if isinstance(self.domain, Voiced) else []

    def _context(self, p: Prime) -> np.ndarray:
        sep, spec = self.domain.separator(), self.domain.input_spec()
        start = np.array([sep]) if sep is not None else np.zeros(
            (1, spec.dim if isinstance(spec, VectorInput) else 1), np.float32)
        if isinstance(self.domain, Voiced) and isinstance(spec, VectorInput):
            own = spec.dim - self.domain.voice_dims - spec.known  # the voice before the known
            start = np.concatenate([self.domain.mark(np.zeros((1, own), np.float32)),
                                    np.zeros((1, spec.known), np.float32)], 1)
        return start if p.steps is None else np.concatenate([start, p.steps.astype(start.dtype)])

    def _cond(self, texts: list[str]) -> np.ndarray:
        assert self.vocab is not None
        return pad_ids([self.vocab.encode(t) for t in texts])  # (B, U)

    def evaluate(self, data: str | None = None) -> dict[str, float]:
        """Held-out loss in the domain's units: the run's validation split, or all of ``data``."""
        tcfg = from_dict(TrainConfig, self.config["train"])
        source = data if data is not None else self.config["data"]["source"]
        corpus = self.domain.load_corpus(source)
        enc = encode_corpus(self.domain, corpus, cache_dir(), self.vocab)
        held = enc if data is not None else split(enc, tcfg.val_fraction,
                                                  sequences(self.domain))[1]
        batches = val_batches(self.domain, held, tcfg)
        if batches is None:
            raise SeqgenError(f"{source or 'the default corpus'}: too little held-out data "
                              f"to evaluate (need more than one batch of {tcfg.seq_len} steps)")
        self._threads(tcfg.batch_size, tcfg.seq_len, forward_only=True)
        nll, extra = evaluate(self.net, batches, self.device, 10**9, what="eval")
        return self.domain.metrics(nll, extra) if extra else self.domain.metrics(nll)

    def _threads(self, batch: int, seq_len: int, forward_only: bool = False) -> None:
        """Torch's threads for this work, by the rule training uses (engine/threads.py)."""
        if self.device != "cpu":
            return
        macs = threads.step_macs(from_dict(ModelConfig, self.config["model"]), batch, seq_len)
        threads.apply(threads.choose(macs / 3 if forward_only else macs, self.threads)[0])

    def render(self, samples: list[Any], out: str | Path) -> list[Path]:
        return render(self.domain, samples, out)

    def plot_attention(self, out: str | Path, row: int = 0) -> Path:
        """The attention window of the last conditioned sample as a PNG heat map."""
        from seqgen.engine.plot import plot_attention

        if not self.attention:
            raise SeqgenError("--attention needs a text-conditioned model and a --text")
        return plot_attention(self.attention[row], self.texts[row], Path(out))


def _wrap(line: str, width: int | None) -> list[str]:
    """A line cut at word boundaries into lines of at most ``width`` characters."""
    import textwrap

    if not width or len(line) <= width:
        return [line]
    return textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
