"""What a user asks of sampling, with no torch to import: the CLI builds and checks it before
any model loads."""

from __future__ import annotations

from dataclasses import dataclass

from seqgen.errors import SeqgenError


@dataclass
class SampleSettings:
    """What a user asks of sampling: the one settings object that goes from the CLI (``seqgen
    sample``) through the Python API (``Model.sample``) to the engine (``generate``)."""

    num: int = 1
    #: a step count, or a domain's own unit ("30s" of music); None: the domain's default
    length: int | str | None = None
    prime: str | None = None
    #: whether samples include the prime; None: the domain's default
    keep_prime: bool | None = None
    temperature: float | None = None  # 0 = greedy; None: the domain's default_temperature
    top_k: int = 0  # 0 = all
    top_p: float = 1.0  # 1 = off
    bias: float | None = None  # Graves 2013 eq. 61-62; None: the domain's default_bias
    seed: int | None = None
    #: the text a text-conditioned model writes (one line per line); None: its own choice
    text: str | None = None
    #: prime with the domain's N-th style example, or a saved style of that name
    style: int | str | None = None
    #: the voice (speaker, writer) of a model trained on several; None: its first
    voice: str | None = None
    #: a given part to keep step for step (music: a tune to harmonize, its soprano kept)
    melody: str | None = None
    #: a line that went wrong (far too many steps for its text) is drawn again up to this many
    #: times (seqgen/redraw.py; domains that say their expected steps per character)
    redraw: int = 2

    def check(self) -> None:
        """One clear error for settings no sampler can honour."""
        if self.redraw < 0:
            raise SeqgenError("--redraw must be at least 0")
        if self.num < 1 or (isinstance(self.length, int) and self.length < 1):
            raise SeqgenError("--num and --length must be at least 1")
        if (self.temperature or 0) < 0 or not 0 < self.top_p <= 1 or self.top_k < 0:
            raise SeqgenError("need --temperature >= 0, 0 < --top-p <= 1 and --top-k >= 0")
