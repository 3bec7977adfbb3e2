"""A generation request's JSON, checked field by field against the panel's view and the
limits, into the one ``SampleSettings`` that ``Model.sample`` takes. No field names a file:
a prime is text (the text domain), a style number or a saved style's name, or one of a
fixed list of music primers; a tune to harmonize is one the model ships, by name, or the
file's bytes (``Upload``), which the server writes under a name of its own
(work.given_file)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from seqgen.engine.settings import SampleSettings
from seqgen.errors import SeqgenError
from seqgen.serve.limits import Limits, RequestError
from seqgen.styles import check_name

#: what each view's request may hold, besides the common seed / temperature / top_p
FIELDS = {
    "text": {"prime", "length"},
    "handwriting": {"text", "bias", "style"},
    "music": {"primer", "seconds", "melody", "melody_file"},
    "speech": {"text"},
    "generic": {"prime", "text", "length"},
}
COMMON = {"seed", "temperature", "top_p", "client"}
#: primers for the music panel: works of music21's corpus (its first bars), named, never paths
MUSIC_PRIMERS = ("bach/bwv66.6", "bach/bwv7.7", "bach/bwv10.7", "bach/bwv26.6")


@dataclass(frozen=True)
class Offer:
    """The given parts (tunes to harmonize) a panel's model takes: the names it ships and the
    file suffixes it reads; both empty where it takes none (Domain.takes_melody)."""

    names: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class Upload:
    """A tune sent with a request: a suffix the model reads, the bytes, and the client's file
    name (its last part, printable, short), used in messages only."""

    suffix: str
    data: bytes
    name: str


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, or a 400 naming what is wrong."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:  # 16 KiB of "[" nests deeper than the parser recurses
        raise RequestError(400, "the body is not JSON (nested too deeply)") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise RequestError(400, f"the body is not JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    return body


def _shown(value: int | float) -> str:
    """A number for a message: a 400-digit integer is not repeated back (nor has a float)."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if abs(value) < 10**15 else f"of {len(str(abs(value)))} digits"


def _number(body: dict[str, Any], key: str, low: float, high: float, default: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(400, f"{key} must be a number")
    # compared as it came: a JSON integer may have hundreds of digits, too many for a float
    # (math.isfinite would overflow); NaN and Infinity are refused by parse_body
    if not low <= value <= high:
        raise RequestError(400, f"{key} {_shown(value)}: must be between {low:g} and {high:g}")
    return float(value)


def _whole(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(400, f"{key} must be a whole number")
    if not low <= value <= high:
        raise RequestError(400, f"{key} {_shown(value)}: must be between {low} and {high}")
    return value


def _text(body: dict[str, Any], key: str, limits: Limits, *, line: bool = False,
          chars: int | None = None) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RequestError(400, f"{key} must be a string")
    most = limits.text_chars if chars is None else chars
    if len(value) > most:
        raise RequestError(413, f"{key} is {len(value)} characters: at most {most}")
    # every line break Python knows (\v, \f, \x1c-\x1e, \x85, \u2028, \u2029 as well as \n
    # and \r): the domain splits its text into lines the same way
    if line and value.splitlines() != [value]:
        raise RequestError(400, f"{key} must be one line")
    return value


def settings_for(view: str, body: dict[str, Any], limits: Limits,
                 offer: Offer = Offer()) -> SampleSettings:
    """The SampleSettings a request asks for, every field checked; a 4xx otherwise."""
    allowed = FIELDS[view] | COMMON
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r}: this panel takes "
                                f"{', '.join(sorted(allowed))}")
    # music: None is the domain's own default (the voices model samples best at 0.8)
    own = view == "music" and body.get("temperature") is None
    s = SampleSettings(num=limits.samples,
                       seed=_whole(body, "seed", 0, 2**32 - 1),
                       temperature=None if own else _number(body, "temperature", 0, 5, 1.0),
                       top_p=_number(body, "top_p", 0.01, 1.0, 1.0))
    if s.top_p <= 0:
        raise RequestError(400, "top_p must be above 0")
    if view in ("text", "generic"):
        s.prime = _text(body, "prime", limits)
        s.length = _whole(body, "length", 1, limits.steps) or min(500, limits.steps)
    if view == "generic" and s.prime is not None and path_like(s.prime):
        raise RequestError(400, "prime looks like a file name (a / or \\, a leading ~ or ., "
                                "or a suffix): the server reads no files for a request")
    if view in ("speech", "generic"):
        s.text = _text(body, "text", limits, line=view == "speech")
    if view == "handwriting":  # a page: lines, each wrapped to the model's line width
        s.text = _text(body, "text", limits, chars=limits.page_chars)
        if s.text is not None and len(s.text.splitlines()) > limits.page_lines:
            raise RequestError(400, f"text has {len(s.text.splitlines())} lines: at most "
                                    f"{limits.page_lines}")
        s.bias = _number(body, "bias", 0.0, 10.0, 0.0)
        s.style = _style(body)
    if view == "music":
        _music(s, body, limits, offer)
    return s


def _style(body: dict[str, Any]) -> int | str | None:
    """A model's own style example by number, or a saved style by name (seqgen.styles)."""
    value = body.get("style")
    if isinstance(value, str) and value:
        try:
            return check_name(value)
        except SeqgenError as exc:
            raise RequestError(400, f"style: {exc}") from None
    return None if value == "" else _whole(body, "style", 0, 999)


def _music(s: SampleSettings, body: dict[str, Any], limits: Limits, offer: Offer) -> None:
    """A piece from a primer, of a length; or a harmonization: a tune, named or uploaded (the
    server sets ``s.melody`` to an upload's file when it has written it)."""
    tune, sent = body.get("melody") or None, body.get("melody_file")
    if tune is not None or sent is not None:
        if not (offer.names or offer.formats):
            raise RequestError(400, "this model takes no melody (it harmonizes no tune)")
        if tune is not None and sent is not None:
            raise RequestError(400, "give melody or melody_file, not both")
        if tune is not None and tune not in offer.names:
            raise RequestError(400, f"melody {str(tune)[:40]!r}: choose one of "
                                    f"{', '.join(offer.names)}, or send melody_file")
        # the tune is the whole piece: its own start and its own length
        for key in ("primer", "seconds"):
            if body.get(key) is not None:
                raise RequestError(400, f"{key} is not used with a melody: the tune is the "
                                        f"whole piece, as long as the tune")
        s.melody, s.length = tune, None
        return
    primer = body.get("primer") or None
    if primer is not None and primer not in MUSIC_PRIMERS:
        raise RequestError(400, f"primer {str(primer)[:40]!r}: choose one of "
                                f"{', '.join(MUSIC_PRIMERS)}")
    s.prime = primer
    seconds = _number(body, "seconds", 1.0, limits.music_seconds, 15.0)
    s.length = f"{seconds:g}s"


def upload_of(body: dict[str, Any], limits: Limits, offer: Offer) -> Upload | None:
    """``melody_file``, {"name": "tune.mid", "data": BASE64}, checked: a suffix the model
    reads, valid base64, at most ``limits.upload_bytes`` once decoded; None when not sent."""
    sent = body.get("melody_file")
    if sent is None:
        return None
    if (not isinstance(sent, dict) or set(sent) != {"name", "data"}
            or not all(isinstance(v, str) for v in sent.values())):
        raise RequestError(400, 'melody_file must be {"name": "tune.mid", "data": BASE64}')
    # the last part of the name only, for messages: the file is written under the server's name
    name = "".join(c for c in PurePosixPath(sent["name"].replace("\\", "/")).name
                   if c.isprintable())[:60] or "melody"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in offer.formats:
        raise RequestError(400, f"melody_file {name!r}: send one of {', '.join(offer.formats)}")
    try:
        data = base64.b64decode(sent["data"], validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(400, f"melody_file {name!r}: data is not base64") from None
    if len(data) > limits.upload_bytes:
        raise RequestError(413, f"melody_file is {len(data)} bytes: at most "
                                f"{limits.upload_bytes}")
    if not data:
        raise RequestError(400, f"melody_file {name!r} is empty")
    return Upload(suffix, data, name)


def path_like(prime: str) -> bool:
    """Whether a generic panel's prime could name a file, which a third-party domain might
    read: a path separator, a leading ~ or ., or one word with a suffix (``notes.txt``).
    Judged by its form alone, never by looking on the disk: an answer that differed with
    whether the path exists would tell any caller what the server's disk holds."""
    return ("/" in prime or "\\" in prime or "\0" in prime or prime.startswith(("~", "."))
            or re.fullmatch(r"\S+\.[A-Za-z0-9]{1,8}", prime) is not None)


def tag_of(body: dict[str, Any]) -> str:
    """The page's own id (one per tab): a courtesy (one request at a time per tab), never
    whose share a request counts against (that is its address: limits.Gate)."""
    tag = body.get("client")
    if tag is not None and (not isinstance(tag, str) or len(tag) > 64):
        raise RequestError(400, "client must be a short string")
    return tag or ""
