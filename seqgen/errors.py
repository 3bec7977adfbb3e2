"""Errors that reach the user as one line and exit code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SeqgenError(Exception):
    """A problem with the user's input: shown as one line, exit code 2, no traceback."""

    exit_code = 2


def closest(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean X?)' for the nearest choice, or '' when nothing is close."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""
