"""The music domain: polyphonic pieces as performance events, one event per step."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqgen import plugins
from seqgen.domain import (
    Batching,
    Corpus,
    Domain,
    HeadSpec,
    LengthRule,
    Prime,
    Renderer,
    StopRule,
    TokenInput,
)
from seqgen.errors import SeqgenError
from seqgen_music import augment, corpus, melody, satb, scores, voicing
from seqgen_music.encoding import ENCODINGS, SEP, PerformanceCodec, Piece

#: fewer events than this and a model mostly learns the corpus by heart (said at train time)
TINY_CORPUS_EVENTS = 20_000
PRIME_BARS = voicing.PRIME_BARS
VOICES_TEMPERATURE, HARMONIZE_TEMPERATURE = 0.8, 0.6


@dataclass
class MusicOptions:
    encoding: str = field(default="auto", metadata={
        "help": "voices: four-part scores as soprano, alto, tenor and bass, a frame per 16th "
                "note (BachBot); performance: NOTE_ON/NOTE_OFF/TIME_SHIFT/VELOCITY "
                "(PerformanceRNN); duration: NOTE_ON followed by its DURATION; auto: voices for "
                "a corpus of four-part scores (the chorales), else duration",
        "choices": (*ENCODINGS, "voices", "auto")})
    transpose: str = field(default="auto", metadata={
        "help": "transposition augmentation of the corpus in semitones: N means -N..N, or "
                "LOW..HIGH (e.g. -5..6); every piece is kept in each key; auto: for voices "
                "every key that keeps each voice in Bach's range (DeepBach), else none"})
    key: str = field(default="keep", metadata={
        "help": "keep: pieces as they are; c: transpose each to C major / A minor first "
                "(Krumhansl-Schmuckler estimate; primers too)", "choices": ("keep", "c")})
    drums: str = field(default="drop", metadata={
        "help": "percussion (MIDI channel 10): drop it, or train on it only (a drum model); "
                "never mixed with pitched notes", "choices": ("drop", "only")})
    sustain: bool = field(default=True, metadata={
        "help": "apply the sustain pedal (CC 64) to note lengths when reading MIDI"})
    qpm: float = field(default=100.0, metadata={
        "help": "tempo (quarter notes a minute) for reading scores and writing MIDI/MusicXML"})
    time_step: int = field(default=10, metadata={
        "help": "time resolution in ms (TIME_SHIFT unit); 150 at qpm 100 is a 16th-note grid"})
    max_shift: int = field(default=1000, metadata={
        "help": "longest single TIME_SHIFT in ms (longer rests take several)"})
    velocity_bins: int = field(default=32, metadata={
        "help": "velocity resolution (0: no VELOCITY events, every note at 80)"})
    voice_leading: bool = field(default=True, metadata={
        "help": "voices: while sampling, keep each voice in Bach's range, no voice above the "
                "one over it, no parallel fifths or octaves (the grammar of frames is always "
                "kept)"})
    relative: bool = field(default=True, metadata={
        "help": "voices: pitch tokens count from the key's tonic, so every key of a piece "
                "reads the same (BachBot's transposition to C, in the tokens); false: MIDI "
                "pitches (measured worse: docs/domains/music.md)"})
    limit: int = field(default=0, metadata={
        "help": "read at most this many files or tunes of the source (0: all)"})


@dataclass
class _Length:
    """What --length asked for, in events and/or seconds, less what a primer already used."""

    events: int
    seconds: float | None = None


#: a sample asked for S seconds may not end (draw its end-of-piece token) before this share of S
HOLD_END = 0.9
#: past S, it stops at the next cadence: this many seconds with no new note (a long chord, a
#: fermata, a rest) ...
CADENCE_SECONDS = 0.75
#: ... and at the latest at this share of S
LATEST_END = 1.15


def _length_rule(want: _Length, shift_steps: np.ndarray, step: float) -> LengthRule:
    """Stop at --length: for seconds, not before HOLD_END of it (the end token held back),
    then at the first cadence past it, cut at LATEST_END at the latest."""
    count: dict[str, Any] = {"events": 0, "time": None, "quiet": None}

    def stop(tokens: np.ndarray) -> np.ndarray:
        toks = np.clip(np.asarray(tokens, dtype=np.int64), 0, len(shift_steps) - 1)
        shift = shift_steps[toks]  # (B,) time steps this event moves the clock
        count["events"] += 1
        count["time"] = shift if count["time"] is None else count["time"] + shift
        quiet = np.zeros_like(shift) if count["quiet"] is None else count["quiet"]
        count["quiet"] = np.where(shift > 0, quiet + shift, 0)  # time since the last note
        done = np.full(len(toks), count["events"] >= want.events)
        if want.seconds is not None:
            secs = count["time"] * step
            cadence = (secs >= want.seconds - 1e-9) & (count["quiet"] * step >= CADENCE_SECONDS)
            done |= cadence | (secs >= LATEST_END * want.seconds - 1e-9)
        return done

    def hold() -> np.ndarray:
        if want.seconds is None or count["time"] is None:  # (1,): every row alike
            return np.array([want.seconds is not None])
        return count["time"] * step < HOLD_END * want.seconds  # (B,)

    return LengthRule(stop, hold)


class MusicDomain(Domain):
    name = "music"
    version = "1.0"
    description = "Polyphonic music as note events (PerformanceRNN style), one per step"
    input_formats = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".abc", ".krn",
                     "directory", "glob", "music21:CORPUS", "bach/bwv66.6")
    default_corpus = (f"{corpus.DEFAULT_NAME}: the ~350 Bach chorales that music21 ships "
                      "(offline; parsed once, then cached)")
    batching = Batching.STREAMS
    unit = "event"
    default_render = ".mid"
    default_length = 2000
    melody_formats = melody.FORMATS
    Options = MusicOptions
    #: BachBot (Liang 2016): dropout took its validation from 0.65 to 0.477 nats on chorales
    preset_tuning = {"small": {"dropout": 0.3}}

    def __init__(self, options: Any = None, state: dict[str, Any] | None = None) -> None:
        opts = options if options is not None else MusicOptions()
        if opts.time_step < 1 or opts.max_shift < opts.time_step:
            raise SeqgenError("need time_step >= 1 ms and max_shift >= time_step")
        if not 0 <= opts.velocity_bins <= 127 or opts.qpm <= 0:
            raise SeqgenError("need 0 <= velocity_bins <= 127 and qpm > 0")
        self.shifts = augment.parse_transpose("0" if opts.transpose == "auto" else opts.transpose)
        self.codec = PerformanceCodec(opts.time_step, opts.max_shift, opts.velocity_bins,
                                      opts.encoding if opts.encoding in ENCODINGS else "duration")
        self.events_per_second = 0.0
        super().__init__(opts, state)

    # ---- corpus ---------------------------------------------------------------------------
    def _settings(self) -> corpus.ParseSettings:
        o = self.options
        return corpus.ParseSettings(float(o.qpm), o.drums, bool(o.sustain), int(o.limit))

    @property
    def voiced(self) -> bool:
        """Whether pieces are four explicit voices (the ``voices`` encoding)."""
        return self.options.encoding == "voices"

    @property
    def vocab_size(self) -> int:
        return satb.VOCAB if self.voiced else self.codec.vocab_size

    def load_corpus(self, source: str | None) -> Corpus:
        if self.options.encoding in ("voices", "auto"):
            got = voicing.load_corpus(self, source)
            if got is not None:
                return got
            self.options.encoding = "duration"  # auto, and not a corpus of four-part scores
        label, pieces = corpus.load_pieces(source, self._settings())
        if self.options.key == "c":
            pieces = [augment.normalise_key(p) for p in pieces]
        pieces = augment.transpose_all(pieces, self.shifts)
        return Corpus(label, augment.content_key(pieces), pieces)

    # ---- codec ----------------------------------------------------------------------------
    def fit(self, documents: Sequence[Any]) -> None:
        if self.voiced:
            return voicing.fit(self, documents)
        events = sum(len(self.encode(d)) + 1 for d in documents)
        seconds = sum(d.duration for d in documents)
        self.events_per_second = events / seconds if seconds > 0 else 0.0
        if events < TINY_CORPUS_EVENTS:
            plugins.warn(f"the corpus holds only {events} events ({len(documents)} pieces, "
                         f"{seconds:.0f} s), fewer than {TINY_CORPUS_EVENTS}: the model will "
                         f"mostly copy it (seqgen stats shows how much); add music or "
                         f"-o transpose=N")

    def get_state(self) -> dict[str, Any]:
        return {"events_per_second": round(self.events_per_second, 6),
                "vocab_size": self.vocab_size}

    def set_state(self, state: dict[str, Any]) -> None:
        self.events_per_second = float(state.get("events_per_second", 0.0))
        size = state.get("vocab_size", self.vocab_size)
        if size != self.vocab_size:
            raise SeqgenError(f"codec state has {size} event classes, these options give "
                              f"{self.codec.vocab_size}")

    def input_spec(self) -> TokenInput:
        return TokenInput(self.vocab_size)

    def head_spec(self) -> HeadSpec:
        return HeadSpec("categorical", {"num_classes": self.vocab_size})

    def separator(self) -> int:
        return SEP

    def encode(self, document: Any) -> np.ndarray:
        if self.voiced:
            return voicing.encode(document, bool(self.options.relative))
        notes = document.notes if isinstance(document, Piece) else np.asarray(document)
        return self.codec.encode(notes)

    def decode(self, array: np.ndarray) -> Any:
        if self.voiced:
            piece = satb.decode(array, getattr(self, "title", "seqgen sample"),
                                relative=bool(self.options.relative))
            piece.qpm = float(self.options.qpm)
            return piece
        return Piece(self.codec.decode(array), "seqgen sample", self.options.drums == "only")

    # ---- sampling -------------------------------------------------------------------------
    @property
    def default_temperature(self) -> float:  # type: ignore[override]
        """Voices: measured on the shipped model (docs/domains/music.md: at 0.7 the samples
        copied more of the training chorales than held-out Bach does; BachBot sampled at 0.8);
        harmonizing a tune, lower (``melody_temperature``). Events: 1."""
        return VOICES_TEMPERATURE if self.voiced else 1.0

    @property
    def melody_temperature(self) -> float | None:  # type: ignore[override]
        """Harmonizing: at 0.8 triads fell under half the chords (49 %); at 0.6, 56 %, and
        the harmonizations copy less than held-out Bach does (docs/domains/music.md)."""
        return HARMONIZE_TEMPERATURE if self.voiced else None

    def length_rule(self, length: str | None,
                    prime: Prime | None = None) -> tuple[int, StopRule | None]:
        """``500``: events; ``30s``: seconds of music (counted in TIME_SHIFTs). Both count the
        primer too: a primer as long as that is an error."""
        if self.voiced:
            return voicing.length_rule(self, length, prime)
        text = (length or "").strip().lower()
        if not text:
            want = _Length(self.default_length)
        elif m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*s", text):
            secs = float(m.group(1))
            want = _Length(int(secs * (self.events_per_second or 40.0) * 4) + 256, secs)
        elif text.isdigit():
            want = _Length(int(text))
        else:
            raise SeqgenError(f"--length {length!r}: expected events (500) or seconds (30s)")
        if want.events < 1 or (want.seconds is not None and want.seconds <= 0):
            raise SeqgenError("--length must be positive")
        cap = want.events
        if prime is not None and prime.steps is not None and len(prime.steps):
            events, secs = len(prime.steps), self.codec.seconds(prime.steps)
            if events >= want.events or (want.seconds is not None and secs >= want.seconds):
                asked = f"{want.seconds:g}s" if want.seconds is not None else f"{want.events}"
                raise SeqgenError(f"--prime {prime.source} is {events} events ({secs:.1f} s), "
                                  f"as long as --length {asked} or longer: raise --length or "
                                  f"shorten the primer")
            want.events -= events
            if want.seconds is not None:
                want.seconds -= secs
        rule = _length_rule(want, self.codec.shift_steps, self.codec.step)
        return cap, rule if text else rule.stop  # no --length: the model's own ending

    def encode_prime(self, prime: str) -> np.ndarray:
        """A MIDI or score file (whole), or a music21 work such as ``bach/bwv66.6`` (its first
        four bars)."""
        if self.voiced:
            return voicing.encode_prime(self, prime)
        path = Path(prime)
        settings = self._settings()
        if path.is_file():
            if path.suffix.lower() not in corpus.SUFFIXES:
                raise SeqgenError(f"--prime {prime}: not a music file "
                                  f"({', '.join(corpus.SUFFIXES)})")
            arrays, note = corpus.parse_item(corpus.Item(str(path)), settings)
            if not arrays:
                raise SeqgenError(f"--prime {prime}: {note}")
            if note is not None:
                plugins.warn(f"--prime {prime}: {note}: read anyway")
            notes = arrays[0]  # of a type 2 MIDI file, its first sequence
        else:
            work = scores.find_work(prime)
            if work is None:
                raise SeqgenError(f"--prime {prime!r}: no such MIDI or score file, nor a music21 "
                                  f"work (for example bach/bwv66.6)")
            pitched, drums = scores.to_notes(scores.parse(work), settings.qpm, bars=PRIME_BARS)
            notes = drums if settings.drums == "only" else pitched
        piece = Piece(notes, prime, settings.drums == "only")
        if self.options.key == "c":
            piece = augment.normalise_key(piece)
        tokens = self.encode(piece)
        if not len(tokens):
            raise SeqgenError(f"--prime {prime}: no notes")
        return tokens

    def constraint_rule(self, prime: Prime | None = None
                        ) -> Callable[[np.ndarray], np.ndarray] | None:
        """Voices: the frames' grammar, and voice leading unless ``-o voice_leading=false``."""
        return voicing.constraint_rule(self) if self.voiced else None

    def takes_melody(self) -> bool:
        return self.voiced  # the events encodings have no soprano to keep

    def melodies(self) -> list[str]:
        return melody.tune_names() if self.voiced else []

    def encode_melody(self, source: str) -> np.ndarray:
        """A tune (MusicXML, MIDI, ABC) as the soprano, alto, tenor and bass left to sample."""
        if not self.voiced:
            raise SeqgenError("--melody needs a model of four voices (-o encoding=voices; the "
                              "shipped chorales model is one)")
        return voicing.encode_melody(self, source)

    # ---- output ---------------------------------------------------------------------------
    def renderers(self) -> dict[str, Renderer]:
        from seqgen_music.render import renderers

        return {**renderers(float(self.options.qpm)), **super().renderers()}

    def metrics(self, nll: float, extra: dict[str, float] | None = None) -> dict[str, float]:
        out = {**(extra or {}), "nats/event": nll, "bits/event": nll / float(np.log(2))}
        if self.events_per_second > 0:
            out["nats/second"] = nll * self.events_per_second
            out["events/second"] = self.events_per_second
        return out
