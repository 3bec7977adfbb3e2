"""A generation request's JSON, checked field by field against the panel's view and the
limits, into the one ``SampleSettings`` that ``Model.sample`` takes. No field names a file:
a prime is text (the text domain), a style number, or one of a fixed list of music primers."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from seqgen.engine.settings import SampleSettings
from seqgen.serve.limits import Limits, RequestError

#: what each view's request may hold, besides the common seed / temperature / top_p
FIELDS = {
    "text": {"prime", "length"},
    "handwriting": {"text", "bias", "style"},
    "music": {"primer", "seconds"},
    "speech": {"text"},
    "generic": {"prime", "text", "length"},
}
COMMON = {"seed", "temperature", "top_p", "client"}
#: primers for the music panel: works of music21's corpus (its first bars), named, never paths
MUSIC_PRIMERS = ("bach/bwv66.6", "bach/bwv7.7", "bach/bwv10.7", "bach/bwv26.6")


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, or a 400 naming what is wrong."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError(400, f"the body is not JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    return body


def _number(body: dict[str, Any], key: str, low: float, high: float, default: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RequestError(400, f"{key} must be a number")
    if not low <= value <= high:
        raise RequestError(400, f"{key} {value:g}: must be between {low:g} and {high:g}")
    return float(value)


def _whole(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(400, f"{key} must be a whole number")
    if not low <= value <= high:
        raise RequestError(400, f"{key} {value}: must be between {low} and {high}")
    return value


def _text(body: dict[str, Any], key: str, limits: Limits, *, line: bool = False) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RequestError(400, f"{key} must be a string")
    if len(value) > limits.text_chars:
        raise RequestError(413, f"{key} is {len(value)} characters: at most "
                                f"{limits.text_chars}")
    if line and ("\n" in value or "\r" in value):
        raise RequestError(400, f"{key} must be one line")
    return value


def settings_for(view: str, body: dict[str, Any], limits: Limits) -> SampleSettings:
    """The SampleSettings a request asks for, every field checked; a 4xx otherwise."""
    allowed = FIELDS[view] | COMMON
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r}: this panel takes "
                                f"{', '.join(sorted(allowed))}")
    s = SampleSettings(num=limits.samples,
                       seed=_whole(body, "seed", 0, 2**32 - 1),
                       temperature=_number(body, "temperature", 0.0, 5.0, 1.0),
                       top_p=_number(body, "top_p", 0.01, 1.0, 1.0))
    if s.top_p <= 0:
        raise RequestError(400, "top_p must be above 0")
    if view in ("text", "generic"):
        s.prime = _text(body, "prime", limits)
        s.length = _whole(body, "length", 1, limits.steps) or min(500, limits.steps)
    if view == "generic" and s.prime is not None and os.path.lexists(s.prime):
        raise RequestError(400, "prime names a file: the server reads no files for a request")
    if view in ("handwriting", "speech", "generic"):
        s.text = _text(body, "text", limits, line=view != "generic")
    if view == "handwriting":
        s.bias = _number(body, "bias", 0.0, 10.0, 0.0)
        s.style = _whole(body, "style", 0, 999)
    if view == "music":
        primer = body.get("primer") or None
        if primer is not None and primer not in MUSIC_PRIMERS:
            raise RequestError(400, f"primer {str(primer)[:40]!r}: choose one of "
                                    f"{', '.join(MUSIC_PRIMERS)}")
        s.prime = primer
        seconds = _number(body, "seconds", 1.0, limits.music_seconds, 15.0)
        s.length = f"{seconds:g}s"
    return s


def client_of(address: str, body: dict[str, Any]) -> str:
    """Who asks: the client's address and the page's own id (the page makes one per tab)."""
    tag = body.get("client")
    if tag is not None and (not isinstance(tag, str) or len(tag) > 64):
        raise RequestError(400, "client must be a short string")
    return f"{address}/{tag or ''}"
