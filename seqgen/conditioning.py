"""The mixins of a domain that writes from something given: a text through the engine's soft
window (``TextConditioned``), a voice (``Voiced``), or columns known at every step
(``Aligned``: phonemes at their durations). ``seqgen.domain`` re-exports them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError, closest


class TextConditioned(ABC):
    """Mixin of a domain that writes from a text through the engine's soft window (Graves 2013
    section 5): handwriting synthesis, speech. Only such domains have these parts."""

    #: text-conditioned sampling stops at this many steps per character of the text at most
    max_steps_per_char: int = 40
    #: write a text's lines one after another, each primed with the line before (seqgen/lines.py:
    #: one hand down the page) rather than side by side as batch rows
    chain_lines: bool = False
    #: with chain_lines: the most characters of the line before that prime the next (its last
    #: words; 0 = the whole line), so the prime and the line stay near a training line's length
    chain_chars: int = 0
    #: a text of several lines, given no prime or style, is written with every line primed with
    #: this style example (``style_prime``), so that the page keeps one hand (sjvasquez's
    #: ``lines=`` primes every line with one style); None: each line in a style of its own
    page_style: int | None = None
    #: steps a character of text takes in the training data (0: unknown): a sampled line far
    #: longer than that has gone wrong and is drawn again (seqgen/redraw.py)
    expected_steps_per_char: float = 0.0

    def conditioned(self) -> bool:
        """True when this instance's model reads a text (a mode option may turn it off)."""
        return True

    @abstractmethod
    def text_of(self, document: Any) -> str | None:
        """The text a document is conditioned on (its transcription), or None."""

    def style_prime(self, index: int) -> tuple[np.ndarray, str | None]:
        """``--prime-style N``: the N-th style example, encoded, with its text."""
        raise SeqgenError(f"domain {getattr(self, 'name', '?')!r} has no --prime-style "
                          f"examples")

    # ---- a writer's own hand: saved styles (seqgen/styles.py) -------------------------------
    #: the suffix of a saved style's example files; None: this domain keeps no styles
    example_suffix: str | None = None

    def _no_styles(self) -> SeqgenError:
        return SeqgenError(f"domain {getattr(self, 'name', '?')!r} keeps no styles of its own")

    def drawn(self, strokes: Sequence[Sequence[Sequence[float]]], text: str) -> Any:
        """A document from strokes drawn on a screen (each a list of (x, y, t): pixels with y
        pointing down, milliseconds) and the text written."""
        raise self._no_styles()

    def read_examples(self, source: str) -> list[Any]:
        """Every document (with its text) in a file, folder or glob of example lines."""
        raise self._no_styles()

    def write_example(self, document: Any, path: Path) -> None:
        """Write one line, with its text, as a file that ``read_examples`` reads back."""
        raise self._no_styles()

    def prime_from(self, documents: Sequence[Any]) -> tuple[np.ndarray, str]:
        """One prime (encoded steps and their text) from a saved style's lines, in the order
        they were written."""
        raise self._no_styles()

    def normalise_text(self, text: str, alphabet: str) -> str:
        """A --text in the form the corpus's transcripts take (speech: lower case), given the
        model's alphabet; what is still outside it is refused by the engine in one line."""
        return text

    def with_text(self, sample: Any, text: str) -> Any:
        """A decoded sample, labelled with the text it says."""
        return sample

    def line_width(self) -> int | None:
        """The longest line (in characters) the model writes well, or None: a longer line of
        --text is wrapped at word boundaries into lines of at most this many (a word longer
        than that is kept whole), so that a paragraph comes out as lines, not one strip."""
        return None

    def prime_start(self, steps: np.ndarray, at: int) -> int:
        """The first step at or after ``at`` where a prime cut from ``steps`` may begin (a
        chained line's prime: seqgen/lines.py); by default ``at`` itself."""
        return at

    def join_lines(self, lines: list[Any]) -> Any:
        """Compose one sample from the decoded lines of a multi-line --text."""
        return lines


class Voiced:
    """Mixin of a vector-input domain whose documents each carry a speaker (or writer) label.

    When the fitted corpus has more than one voice, a one-hot of the voice is appended to every
    input step (``voice_dims`` columns after the domain's own), so the input projection holds
    one learned embedding per voice (W [x; onehot] = W_x x + e_voice), the speaker embedding of
    multi-speaker synthesis (Arik et al. 2017, Deep Voice 2); the model then learns each voice
    instead of their blend. Heads read only the domain's own columns, so targets are unchanged.
    At sampling, ``--voice NAME`` (``voice=`` in the API) chooses the voice of every row; the
    first voice is the default. With one voice no column is added and only its name is kept.
    """

    #: the fitted corpus's voices, in column order (the run's state keeps them)
    voices: list[str]
    #: the voice that ``mark`` writes where a document names none (set by ``choose_voice``)
    voice: int = 0

    @abstractmethod
    def voice_of(self, document: Any) -> str | None:
        """A document's voice, or None where the corpus names none."""

    @property
    def voice_dims(self) -> int:
        return len(self.voices) if len(self.voices) > 1 else 0

    def fit_voices(self, documents: Sequence[Any]) -> None:
        self.voices = sorted({v for v in map(self.voice_of, documents) if v is not None})
        self.voice = 0

    def choose_voice(self, name: str | None) -> None:
        """The voice samples speak in; one line naming the known voices for any other name."""
        if name is None:
            self.voice = 0
            return
        if not self.voices:
            raise SeqgenError(f"--voice {name!r}: this model was trained without voice names "
                              "(sample it without --voice)")
        if name not in self.voices:
            raise SeqgenError(f"--voice {name!r}: this model knows the voices "
                              f"{', '.join(self.voices)}{closest(name, self.voices)}")
        self.voice = self.voices.index(name)

    def mark(self, steps: np.ndarray, voice: str | None = None) -> np.ndarray:
        """``steps`` (T, D) -> (T, D + voice_dims): the one-hot of ``voice`` appended to every
        step; the chosen voice where ``voice`` is None or one the model does not know (a
        corpus of other speakers evaluated on it speaks through its default voice)."""
        if not self.voice_dims:
            return steps
        cols = np.zeros((len(steps), self.voice_dims), np.float32)  # (T, S)
        cols[:, self.voices.index(voice) if voice in self.voices else self.voice] = 1.0
        return np.concatenate([np.asarray(steps, np.float32), cols], 1)


class Aligned(ABC):
    """Mixin of a vector domain whose steps each carry columns known before they are drawn
    (``VectorInput.known``): a frame's phoneme, its place in the phoneme and its neighbours,
    as the duration-informed synthesis of Zen and Sak 2015, Merlin and Non-Attentive Tacotron
    feed them. The model is a plain LSTM stack over steps (the fused kernel, no window loop);
    a sample is as long as its known columns.

    What the known columns hold at sampling may come from other models of the same run:
    ``companions`` names them (speech's duration model), ``seqgen train`` trains each into
    the run's own folder of that name, and ``tracks`` receives a function that loads one.
    """

    def aligned(self) -> bool:
        """True when this instance's model reads known columns (a mode option may turn it off)."""
        return True

    @abstractmethod
    def tracks(self, texts: list[str], companion: Callable[[str], Any]) -> list[np.ndarray]:
        """The known columns of every step of a sample saying each text: (T, C) arrays.
        ``companion(name)`` is the run's companion model of that name (``seqgen.Model``)."""

    def companions(self) -> dict[str, tuple[Any, dict[str, Any], float]]:
        """The models trained beside this one, by name: their options (an instance of this
        domain's Options), their model and training fields, and their share of the run's
        steps and time."""
        return {}


def conditioned(domain: Any) -> bool:
    """Whether a domain instance trains and samples with the text window."""
    return isinstance(domain, TextConditioned) and domain.conditioned()


def aligned(domain: Any) -> bool:
    """Whether a domain instance trains and samples with known columns."""
    return isinstance(domain, Aligned) and domain.aligned()
