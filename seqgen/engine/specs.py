"""What the engine knows of a domain: its input encoding, its output head, its corpus, and the
codec it calls (a Protocol that ``seqgen.domain.Domain`` satisfies).

The engine sits below the domains: it imports nothing from ``seqgen.domain`` or the layers
above it, so these small types live here and ``seqgen.domain`` re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class TokenInput:
    """Inputs are integer tokens in ``range(vocab_size)``: the engine embeds them."""

    vocab_size: int


@dataclass(frozen=True)
class VectorInput:
    """Inputs are float vectors of size ``dim``: the engine projects them linearly.

    The last ``known`` of the ``dim`` columns are known before the step is drawn: what a step
    is conditioned on, aligned to it (speech's phoneme and the frame's place in it, as the
    duration-informed synthesis of Zen and Sak 2015 and Merlin feeds them). In training the
    input at step t carries step t's own known columns beside step t-1's others (the target
    is step t); in sampling they come from ``Plan.known``, and a sample ends where they end.
    Heads read only a step's first columns, so the known ones are never predicted.
    """

    dim: int
    known: int = 0


InputSpec = TokenInput | VectorInput
#: called after every sampling step with the sampled steps (B,) or (B, D): True where done
StopRule = Callable[[np.ndarray], np.ndarray]


@dataclass
class LengthRule:
    """A StopRule that can also hold the end back: ``hold()`` gives the (B,) rows in which the
    document separator may not be drawn yet, so that a sample asked for 30 s does not end at
    19 s because the model drew its end-of-piece token early (its logit is set to -inf)."""

    stop: StopRule
    hold: Callable[[], np.ndarray] | None = None

    def __call__(self, steps: np.ndarray) -> np.ndarray:
        return self.stop(steps)


class Batching(StrEnum):
    """How a domain's documents become batches (engine/data.py).

    STREAMS: every document is ``[sep] + tokens``, all concatenated and cut into parallel
    streams, the state carried from chunk to chunk (truncated BPTT, as char-rnn). SEQUENCES:
    one document per row, bucketed by length, padded and masked, the state zeroed per batch
    (handwriting lines, utterances). The value is what a run's config.json records.
    """

    STREAMS = "streams"
    SEQUENCES = "sequences"


@dataclass(frozen=True)
class HeadSpec:
    """Which output head to build (a name in the head registry) and its arguments."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Corpus:
    """Documents read from one source. ``key`` identifies the contents (for the encode cache)."""

    source: str
    key: str
    documents: Sequence[Any]


class Codec(Protocol):
    """The part of a domain that encoding a corpus needs (engine/data.py)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def options(self) -> Any: ...

    def get_state(self) -> dict[str, Any]: ...
    def input_spec(self) -> InputSpec: ...
    def separator(self) -> int | None: ...
    def encode_chunks(self, document: Any) -> Iterator[np.ndarray]: ...


@runtime_checkable
class Transcribed(Protocol):
    """A codec whose documents carry a text (what a text-conditioned model reads)."""

    def text_of(self, document: Any) -> str | None: ...


def either(length: StopRule | None, own: StopRule | None) -> StopRule | None:
    """The length rule and the domain's own stop rule as one: a row ends at whichever says
    so first (both are called every step: either may keep state); a length rule's hold on
    the end token is kept."""
    if own is None or length is None:
        return own if length is None else length

    def stop(steps: np.ndarray) -> np.ndarray:
        a, b = np.asarray(length(steps), bool), np.asarray(own(steps), bool)
        return a | b
    return LengthRule(stop, length.hold) if isinstance(length, LengthRule) else stop
