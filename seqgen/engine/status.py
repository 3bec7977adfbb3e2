"""Status lines for the slow steps around training: a corpus parsed, written or spoken on first
use, an evaluation, a speech-eval. One plain line on stderr, ``seqgen: WHAT: 120/371``, once a
step has run for a couple of seconds and then every few seconds, so that neither a terminal
nor a log file sits silent through a long start; a step that ends sooner prints nothing.

The engine and the plugins share this one helper (it imports nothing of seqgen, nor torch).
``silenced(True)`` (``seqgen train --quiet``) turns every line off, and so does being a rank
other than 0 of a multi-process run, whose ranks all load the same corpus.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

T = TypeVar("T")
FIRST = 2.0  # seconds before a step's first line: quicker steps stay silent
EVERY = 5.0  # seconds between a step's lines
_quiet = [False]  # a list, so that silenced() can restore the caller's setting


@contextmanager
def silenced(quiet: bool = True) -> Iterator[None]:
    """Within the block, status lines print only if ``quiet`` is false."""
    before = _quiet[0]
    _quiet[0] = quiet
    try:
        yield
    finally:
        _quiet[0] = before


def is_quiet() -> bool:
    return _quiet[0] or os.environ.get("RANK", "0") != "0"


def say(line: str, stream: TextIO | None = None) -> None:
    """One ``seqgen: LINE`` on stderr (looked up now: a test runner may have replaced it)."""
    if not is_quiet():
        out = stream or sys.stderr
        print(f"seqgen: {line}", file=out, flush=True)


def clock(seconds: float) -> str:
    """``45 s``, ``3 m 05 s``, ``1 h 02 m``: a duration as a person reads it."""
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} m {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} m"


class Steps:
    """The progress of one slow step: call it with how far it is (``done`` of ``total``)."""

    def __init__(self, what: str, total: int | None = None, *, unit: str = "",
                 at_once: bool = False, first: float | None = None,
                 every: float | None = None) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.every = EVERY if every is None else every  # the module's, read now (tests)
        self.started = time.monotonic()
        wait = 0.0 if at_once else FIRST if first is None else first
        self.next = self.started + wait  # when the next line is due
        self.said = False
        self.done = 0

    def _line(self, end: str = "") -> str:
        count = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        return f"{self.what}: {count}{' ' + self.unit if self.unit else ''}{end}"

    def __call__(self, done: int | None = None) -> None:
        """Advance to ``done`` (by one when not given); a line when one is due."""
        self.done = self.done + 1 if done is None else done
        now = time.monotonic()
        if now >= self.next:
            say(self._line())
            self.said, self.next = True, now + self.every

    def start(self) -> None:
        """Say the step at once (``0/N``): one known to be long, such as a first-use build."""
        say(self._line())
        self.said, self.next = True, time.monotonic() + self.every

    def close(self) -> None:
        """The closing line with the time taken, if the step said anything at all."""
        if self.said:
            say(self._line(f" in {clock(time.monotonic() - self.started)}"))


@contextmanager
def steps(what: str, total: int | None = None, *, unit: str = "", at_once: bool = False,
          first: float | None = None, every: float | None = None) -> Iterator[Steps]:
    """``with steps("eval: batch", 40) as tick: ... tick(k)``; the closing line at the end
    (not after an error, whose own line is what the user needs)."""
    s = Steps(what, total, unit=unit, at_once=at_once, first=first, every=every)
    if at_once:
        s.start()
    yield s
    s.close()


def counted(items: Iterable[T], what: str, total: int | None = None, *, unit: str = "",
            at_once: bool = False) -> Iterator[T]:
    """The items, one by one, with a status line every few seconds: ``what: 120/371 unit``."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with steps(what, total, unit=unit, at_once=at_once) as tick:
        for item in items:
            yield item
            tick()
