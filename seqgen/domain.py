"""The Domain base class: everything the engine needs to know about one kind of sequence.

A domain reads a corpus, turns documents into arrays (``encode``) and back (``decode``), names
the input encoding and output head the engine should build, and writes samples to files
(renderers). The engine never imports a domain; plugins register Domain subclasses through the
``register_domains`` hook. This module stays free of torch so that ``seqgen --help`` is fast.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqgen.conditioning import Aligned, TextConditioned, Voiced, aligned, conditioned
from seqgen.config import Preset, preset, tuned
from seqgen.engine.specs import (
    Batching,
    Corpus,
    HeadSpec,
    InputSpec,
    LengthRule,
    StopRule,
    TokenInput,
    VectorInput,
)
from seqgen.errors import SeqgenError
from seqgen.options import option_fields, options_to_dict, parse_options, sample_options

__all__ = ["Aligned", "Batching", "Corpus", "Domain", "HeadSpec", "InputSpec", "NoOptions",
           "Prime", "LengthRule", "Renderer", "StopRule", "TextConditioned", "TokenInput",
           "VectorInput", "Voiced", "aligned", "check_domain_class", "conditioned",
           "option_fields", "options_to_dict", "parse_options", "sample_options"]


@dataclass(frozen=True)
class Renderer:
    """Writes samples to a file whose name ends in ``suffix``.

    ``write(samples, path)`` receives every sample when ``multi`` is true (one file holds all of
    them), else one sample per call (the engine numbers the files ``out-1.ext``, ``out-2.ext``).
    The engine passes a temporary path and renames it into place, so writes are atomic.
    ``read``, when given, is an independent reader of the format: the conformance kit
    (seqgen.testing) checks that it accepts what ``write`` wrote.
    """

    suffix: str
    write: Callable[[Any, Path], None]
    description: str = ""
    multi: bool = False
    read: Callable[[Path], Any] | None = None


@dataclass
class Prime:
    """What sampling starts from: the encoded --prime (or style example), its text for a
    text-conditioned model, and where it came from (for messages)."""

    steps: np.ndarray | None = None
    text: str = ""
    source: str = ""
    #: False for the domain's own start (``start_prime``): never part of the samples
    shown: bool = True


@dataclass
class NoOptions:
    """A domain with no options."""


class Domain(ABC):
    """Base class of every domain. Subclass it, set the class attributes, implement the five
    abstract methods (corpus, codec, input and head); the rest have working defaults.

    A domain that writes from a text (Graves 2013 section 5) also takes ``TextConditioned``.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    description: ClassVar[str] = ""
    #: file suffixes or source kinds that load_corpus accepts, for ``seqgen domains``
    input_formats: ClassVar[tuple[str, ...]] = ()
    #: one line saying what trains when no --data is given
    default_corpus: ClassVar[str] = ""
    #: STREAMS (documents cut into parallel streams, state carried) or SEQUENCES
    batching: ClassVar[Batching] = Batching.STREAMS
    #: what one step of the sequence is, for metric names ("char", "event", "point", ...)
    unit: ClassVar[str] = "token"
    default_render: ClassVar[str] = ".txt"
    #: steps to sample when --length is not given (an instance may set its own, from options)
    default_length: int = 500
    #: whether samples include the prime when neither --keep-prime nor --no-keep-prime is given
    keep_prime: ClassVar[bool] = True
    Options: ClassVar[type] = NoOptions
    #: model and training fields over a named preset for this domain, found by measurement
    #: (``{"small": {"batch_size": 16}}``); what the command line gives applies over them
    preset_tuning: ClassVar[dict[str, dict[str, Any]]] = {}
    #: the sampling bias (Graves 2013 eq. 61-62) when none is given, found by measurement
    default_bias: float = 0.0
    #: the sampling temperature when none is given, found by measurement
    default_temperature: float = 1.0
    #: the same for a sample around a given part (``--melody``), where it differs (None: as
    #: default_temperature): a given tune constrains the rest more than a free sample is
    melody_temperature: float | None = None
    #: file suffixes ``--melody`` reads (".mid", ".abc", ...), where ``takes_melody()``
    melody_formats: tuple[str, ...] = ()

    @classmethod
    def preset(cls, name: str) -> Preset:
        """The named preset as this domain trains it: ``preset_tuning``'s fields over it."""
        return tuned(preset(name), cls.preset_tuning.get(name, {}), f"domain {cls.name}")

    def __init__(self, options: Any = None, state: dict[str, Any] | None = None) -> None:
        self.options = options if options is not None else self.Options()
        if state is not None:
            self.set_state(state)

    # ---- corpus ---------------------------------------------------------------------------
    @abstractmethod
    def load_corpus(self, source: str | None) -> Corpus:
        """Read documents from a path, glob or dataset name; None means the embedded default."""

    # ---- codec ----------------------------------------------------------------------------
    def fit(self, documents: Sequence[Any]) -> None:
        """Build the codec state (vocabulary, normalisation statistics) from training documents."""
        return None  # optional: a codec with nothing to learn needs no fitting

    def grow(self, documents: Sequence[Any]) -> list[str]:
        """``--init-from``: append what ``documents`` hold and this (the source's) vocabulary
        lacks at its end and return it, or raise SeqgenError naming it; default: nothing."""
        return []

    def get_state(self) -> dict[str, Any]:
        """The codec state as JSON-serialisable data, saved in the checkpoint's config.json."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore the codec state returned by get_state."""
        return None  # optional, like fit

    @abstractmethod
    def encode(self, document: Any) -> np.ndarray:
        """One document as an array: (T,) integer tokens or (T, D) float32 frames."""

    def encode_chunks(self, document: Any) -> Iterator[np.ndarray]:
        """A document encoded piece by piece: override for documents too large for memory."""
        yield self.encode(document)

    @abstractmethod
    def decode(self, array: np.ndarray) -> Any:
        """The inverse of encode: an array of tokens or frames back to a document."""

    @abstractmethod
    def input_spec(self) -> InputSpec:
        """How the engine feeds inputs to the network."""

    @abstractmethod
    def head_spec(self) -> HeadSpec:
        """Which output head the engine builds."""

    def separator(self) -> int | None:
        """Token that separates documents (start and end of each); None for vector inputs."""
        return None

    # ---- sampling -------------------------------------------------------------------------
    def encode_prime(self, prime: str) -> np.ndarray | tuple[np.ndarray, str]:
        """Turn the user's --prime into an encoded array (and, when conditioned, its text)."""
        raise SeqgenError(f"domain {self.name!r} does not take a --prime")

    def start_prime(self) -> np.ndarray | None:
        """What a sample starts from, after the separator, when the user gives no --prime (it
        is not part of the samples); None: the separator alone. A corpus of one document
        shows the model its separator once, so the separator alone starts it nowhere."""
        return None

    def never_sampled(self) -> tuple[int, ...]:
        """Tokens the sampler never draws (their logits set to -inf): an unknown-character
        token decodes to nothing the corpus holds."""
        return ()

    def length_rule(self, length: str | None,
                    prime: Prime | None = None) -> tuple[int, StopRule | None]:
        """Turn --length into a step cap and an optional per-step stop rule.

        The default reads a whole number of steps. A domain may accept units (music: "30s")
        and return a StopRule: called after every step with the sampled steps (B,) or (B, D),
        it returns (B,) booleans, true where a sample is complete. ``prime`` is what the
        sample starts from (music counts a primer into a length in seconds).
        """
        if length is None:
            return self.default_length, None
        try:
            steps = int(length)
        except ValueError:
            raise SeqgenError(f"--length {length!r}: expected a whole number of steps") from None
        return steps, None

    def stop_rule(self, prime: Prime | None = None) -> StopRule | None:
        """When a sample is complete by its own content, or None (the default): called after
        every step with the tokens (or frames) just drawn, (B,) or (B, D), it returns (B,)
        booleans, True where the sample ends with that step (a game at checkmate, a gene at
        its stop codon). The engine ends a row at this rule, the length rule (``--length``)
        or the separator, whichever comes first; no need to override ``length_rule``. It is
        made once per sample call, so it may keep state across steps."""
        return None

    def constraint_rule(self, prime: Prime | None = None
                        ) -> Callable[[np.ndarray], np.ndarray] | None:
        """A rule that forbids tokens given the sequence so far, or None (the default).

        Called before every sampling step with the tokens (B, T) so far (the separator, the
        prime, then what was drawn), it returns (B, V) booleans, True where a token may not
        be drawn next: an illegal move, a note out of a voice's range. A row that would have
        nothing left is drawn unconstrained. Token domains only (categorical heads). A sample
        asks ``length_rule`` first, then ``encode_melody`` (with ``--melody``), then this: a
        rule may depend on what those two were asked (music ends on the tonic there).
        """
        return None

    def encode_melody(self, source: str) -> np.ndarray:
        """``--melody``: a given part as the steps of a sample, (T,) tokens: >= 0 where the
        step is given (kept as it is), -1 where the model samples it. The sample is T steps;
        the constraint rule still rules the free steps. Music reads a tune as the soprano of
        a chorale, which its alto, tenor and bass harmonize."""
        raise SeqgenError(f"domain {self.name!r} does not take a --melody")

    def takes_melody(self) -> bool:
        """Whether this model takes ``--melody`` (a file of ``melody_formats`` or one of
        ``melodies()``). The default: whether the domain implements ``encode_melody``; a
        domain that harmonizes in one encoding only says so here (music: four voices). The
        playground offers its tunes and an upload only where this is true."""
        return type(self).encode_melody is not Domain.encode_melody

    def melodies(self) -> list[str]:
        """The given parts the domain ships, by name: what ``--melody NAME`` takes besides a
        file (music: a few hymn and folk tunes); none by default."""
        return []

    def feedback(self, sampled: np.ndarray) -> np.ndarray:
        """The next step's input made from the step just sampled, (B,) or (B, D).

        The default feeds the sample back unchanged. A domain whose output carries a flag the
        inputs never show in training (speech's stop flag: an utterance's last frame is only
        ever a target) clears it here, so that sampling stays on the training distribution.
        """
        return sampled

    def stream_decoder(self) -> Callable[..., str] | None:
        """A function ``token -> text`` for printing samples as they are generated, or None;
        or ``(token, position) -> text``, where position counts the sample's tokens from its
        start, the prime's included (ply 4 is white's third move). The streamed texts joined
        are the sample ``decode`` gives."""
        return None

    def decode_continuation(self, prime: np.ndarray, steps: np.ndarray) -> Any:
        """The sampled steps alone, decoded in the context of the prime they continue
        (``--no-keep-prime``, or a prime never shown: a style, the line before): a chess
        plugin writes ``3... Nf6``, not ``1. Nf6``; a line of ink starts at its own origin. The
        default decodes the steps alone."""
        return self.decode(steps)

    # ---- output ---------------------------------------------------------------------------
    def renderers(self) -> dict[str, Renderer]:
        """The domain's own renderers by file suffix (".txt", ".mid", ...); those that other
        plugins add through ``register_renderers`` join them in ``plugins.renderers_of``."""
        return {}

    def metrics(self, nll: float, extra: dict[str, float] | None = None) -> dict[str, float]:
        """Held-out loss in the domain's own units, from nats per step.

        ``extra`` holds what the head measures besides the loss, e.g. ``sse`` (the mean
        sum-squared error of the predicted mean) for the mixture density heads.
        """
        out = {f"nats/{self.unit}": nll, f"bits/{self.unit}": nll / float(np.log(2))}
        out.update(extra or {})
        return out


def check_domain_class(cls: type) -> None:
    """Refuse, in one line, a class that is no complete Domain (what registration checks)."""
    where = f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}"
    if not (isinstance(cls, type) and issubclass(cls, Domain)):
        raise SeqgenError(f"{where} is not a seqgen Domain subclass")
    if not cls.name:
        raise SeqgenError(f"{where} has no name (set the class attribute name)")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise SeqgenError(f"domain {cls.name!r} ({where}) does not implement "
                          f"{', '.join(missing)}")
    try:
        Batching(cls.batching)
    except ValueError:
        raise SeqgenError(f"domain {cls.name!r} ({where}): batching {cls.batching!r} is not "
                          f"one of {', '.join(b.value for b in Batching)}") from None
