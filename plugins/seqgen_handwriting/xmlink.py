"""What the XML readers share (IAM-OnDB in ``readers``, InkML in ``markup``, SVG in ``svg``):
safe parsing, tag names without their namespace, checked coordinates, polylines to ``Ink``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_handwriting.ink import Ink, from_polylines


# ---- XML --------------------------------------------------------------------------------------
def parse_xml(path: Path) -> Any:
    """The root element of an XML file, parsed safely; SeqgenError on anything wrong."""
    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        return SafeET.parse(str(path)).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise SeqgenError(f"{path}: refused unsafe XML ({type(exc).__name__}: entity and "
                          f"DTD declarations are not allowed)") from None
    except (SafeET.ParseError, LookupError, ValueError) as exc:  # LookupError: an unknown
        # encoding declared; ValueError: text that is not in the declared encoding
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise SeqgenError(f"{path}: malformed XML ({why})") from None
    except OSError as exc:
        raise SeqgenError(f"{path}: cannot read ({exc.strerror or exc})") from None


def local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def number(value: str | None, path: Path, what: str) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SeqgenError(f"{path}: {what}: expected a number, got {value!r}") from None
    if not np.isfinite(out):
        raise SeqgenError(f"{path}: {what}: NaN or infinite coordinate")
    return out


#: coordinates beyond this are refused: their offsets would not fit the float32 strokes
MAX_COORD = 1e30


def ink_of(polylines: list[np.ndarray], path: Path, text: str | None,
         writer: int | None = None, flip: bool = True) -> Ink:
    polylines = [p for p in polylines if len(p)]
    if not polylines:
        raise SeqgenError(f"{path}: empty strokes (no points)")
    pts = np.concatenate(polylines)
    if not (np.abs(pts) <= MAX_COORD).all():  # NaN compares False too
        raise SeqgenError(f"{path}: NaN, infinite or huge coordinates (beyond +-{MAX_COORD:g})")
    if flip:
        polylines = [p * [1.0, -1.0] for p in polylines]
    return Ink(from_polylines(polylines), text, writer)
