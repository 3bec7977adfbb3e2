"""The writing pad: lines the page asks a writer to write (``prompts``), and the lines written
there (each its text and its pen strokes, points of x, y in CSS pixels and t in ms), checked
field by field against the limits and saved as a style by name (``seqgen.styles``; the domain
turns the strokes into its documents, ``TextConditioned.drawn``)."""

from __future__ import annotations

from typing import Any

from seqgen.errors import SeqgenError
from seqgen.serve.limits import Limits, RequestError
from seqgen.styles import MODES, StyleExists, check_name, names, save

#: lines to write on the pad: 15 to 40 characters, capitals, digits and punctuation (short ones
#: for a model of short lines); those a model cannot write (a character outside its alphabet)
#: are left out
PROMPTS = (
    "Quick zebras jump over 7 lazy dogs.",
    "Call me at 10:45, not later!",
    "\"Why not?\" asked Jane, smiling.",
    "Yes; we moved to Quebec in 1998.",
    "Pack my box with 12 dozen jugs.",
    "Vex Fred's jazz band (3 horns).",
    "The 5 boxing wizards jump quickly.",
    "Gwen bought 6 quilts and a kite.",
    "Zurich is 480 km from Paris, right?",
    "Hello, world! It's 9 o'clock.",
    "Meet Jo at 9:30.",
    "Quiz: why 7 boxes?",
    "Zoe paid 45 cents.",
    "Vexed? Call Kim!",
    "Buy 3 quilts, Max.",
)
#: where the page needs fewer coordinates than a float has (CSS pixels, milliseconds)
MAX_VALUE = 1e9


def keeps_styles(model: Any) -> bool:
    """Whether a panel's model writes from a text in a domain that keeps styles."""
    return bool(getattr(model.domain, "example_suffix", None)) and model.vocab is not None


def prompts(model: Any, count: int = 5) -> list[str]:
    """The lines the pad asks for: those of PROMPTS the model can write, those no longer than
    its training lines first (a style primes with as many of its lines as fit in one training
    line: seqgen_handwriting.hand.choose); where too few are left (a model of a small
    alphabet), the others less the characters it lacks, then held-out lines of its corpus."""
    chars = set(model.vocab.chars)
    width = model.domain.line_width() or 10**6
    found = sorted((p for p in PROMPTS if set(p) <= chars), key=lambda p: len(p) > width)
    cut = [" ".join("".join(c for c in p if c in chars).split()) for p in PROMPTS]
    for extra in [*cut, *model.default_texts(count)]:
        if len(extra) >= 4 and extra not in found:
            found.append(extra)
    return found[:count]


def saved_names(model: Any) -> list[str]:
    """The saved styles the panel's Style menu offers (none where the folder is unreadable)."""
    try:
        return names(model.domain.name) if keeps_styles(model) else []
    except (OSError, SeqgenError):
        return []


def _strokes(value: Any, k: int, limits: Limits) -> list[list[list[float]]]:
    """One line's strokes: lists of [x, y, t] numbers, within the limits."""
    where = f"lines[{k}].strokes"
    if not isinstance(value, list) or not value:
        raise RequestError(400, f"{where} must be a non-empty list of strokes")
    if len(value) > limits.style_strokes:
        raise RequestError(413, f"{where} has {len(value)} strokes: at most "
                                f"{limits.style_strokes}")
    if sum(len(s) if isinstance(s, list) else 0 for s in value) > limits.style_points:
        raise RequestError(413, f"{where}: at most {limits.style_points} points a line")
    for stroke in value:
        if not isinstance(stroke, list) or not stroke:
            raise RequestError(400, f"{where}: each stroke is a non-empty list of [x, y, t]")
        for pt in stroke:
            if (not isinstance(pt, list) or len(pt) != 3
                    or not all(isinstance(v, int | float) and not isinstance(v, bool)
                               and abs(v) <= MAX_VALUE for v in pt)):
                raise RequestError(400, f"{where}: each point is [x, y, t], numbers within "
                                        f"+-{MAX_VALUE:g}")
    return value


def _line(value: Any, k: int, limits: Limits, alphabet: str) -> tuple[str, Any]:
    if not isinstance(value, dict) or set(value) != {"text", "strokes"}:
        raise RequestError(400, f'lines[{k}] must be {{"text": ..., "strokes": [...]}}')
    text = value["text"]
    if not isinstance(text, str) or not text.strip():
        raise RequestError(400, f"lines[{k}].text must be the text written")
    if len(text) > limits.text_chars or text.splitlines() != [text]:
        raise RequestError(400, f"lines[{k}].text must be one line of at most "
                                f"{limits.text_chars} characters")
    unknown = sorted(set(text) - set(alphabet))
    if unknown:
        raise RequestError(400, f"lines[{k}].text: this model does not write "
                                f"{''.join(unknown)!r}")
    return text.strip(), _strokes(value["strokes"], k, limits)


def upload_of(body: dict[str, Any], limits: Limits,
              alphabet: str) -> tuple[str, str, list[tuple[str, Any]]]:
    """A pad's upload checked: its name, mode (new, add, replace) and lines."""
    unknown = sorted(set(body) - {"name", "lines", "mode", "client"})
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r}: give name, lines and mode")
    try:
        name = check_name(body.get("name"))
    except SeqgenError as exc:
        raise RequestError(400, str(exc)) from None
    mode = body.get("mode", "new")
    if mode not in MODES:
        raise RequestError(400, f"mode must be one of {', '.join(MODES)}")
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        raise RequestError(400, "lines must be a non-empty list of written lines")
    if len(lines) > limits.style_lines:
        raise RequestError(413, f"{len(lines)} lines: at most {limits.style_lines} an upload")
    return name, mode, [_line(v, k, limits, alphabet) for k, v in enumerate(lines)]


def save_drawn(model: Any, body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Save a pad's lines as a style; what the page shows (its name, lines, every saved
    style). A taken name is a 409 (unless mode is add or replace); the domain's or the
    store's other refusals are SeqgenErrors (the server's 400)."""
    if not keeps_styles(model):
        raise RequestError(404, f"{model.domain.name} keeps no styles")
    name, mode, lines = upload_of(body, limits, model.vocab.chars)
    docs = [model.domain.drawn(strokes, text) for text, strokes in lines]
    try:
        saved = save(model.domain, name, docs, mode)
    except StyleExists as exc:
        raise RequestError(409, str(exc)) from None
    return {"saved": saved.name, "lines": saved.lines, "styles": names(model.domain.name)}
