"""Saved styles: a writer's own hand, kept as example lines and primed with at sampling.

A style is a folder ``<styles root>/<domain>/<NAME>/`` of example files (one line of the
domain's documents each, with its text: handwriting writes InkML), numbered in the order they
were written (``0001.inkml``, ``0002.inkml``, ...), and nothing else. The root is
``$SEQGEN_STYLES``, else ``$XDG_DATA_HOME/seqgen/styles`` (``~/.local/share/seqgen/styles``).

The domain does the domain's parts (``TextConditioned.read_examples``, ``write_example``,
``drawn``, ``prime_from``); this module only stores, lists and removes folders, and never
shows half a style: a new style is written in a hidden folder and renamed into place, a line
added to one is a file written beside it and renamed into place (``seqgen.fileio``).
``seqgen sample --prime-style NAME``, ``seqgen style`` and ``seqgen serve`` use it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError, closest
from seqgen.fileio import atomic_path

NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
MAX_STYLES = 100  # saved styles per domain
MAX_LINES = 50  # example lines per style
MODES = ("new", "add", "replace")
_lock = threading.Lock()  # one save or removal at a time in this process (seqgen serve)


class StyleExists(SeqgenError):
    """A new style under a name that is taken (``seqgen serve`` answers 409)."""


@dataclass(frozen=True)
class Style:
    """A saved style: its domain, name, folder and example files in writing order."""

    domain: str
    name: str
    path: Path
    files: tuple[Path, ...]

    @property
    def lines(self) -> int:
        return len(self.files)


def styles_root() -> Path:
    """Where styles are kept: $SEQGEN_STYLES, else the XDG data folder's seqgen/styles."""
    root = os.environ.get("SEQGEN_STYLES") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"),
        "seqgen", "styles")
    return Path(root)


def check_name(name: object) -> str:
    """A style's name: 1 to 40 letters, digits, - and _, not a number (``--prime-style 3`` is
    the model's own style example 3), not starting with - or _."""
    if not isinstance(name, str) or not NAME_RULE.fullmatch(name) or name.isdigit():
        shown = repr(name if not isinstance(name, str) else name[:50])
        raise SeqgenError(f"style name {shown}: use 1 to 40 letters, digits, - and _, starting "
                          f"with a letter or digit (a number alone names a model's own style)")
    return name


def parse_style(value: str | int | None) -> int | str | None:
    """``--prime-style``: a number (the model's N-th style example) or a saved style's name."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if re.fullmatch(r"[+-]?[0-9]{1,9}", value.strip()) else check_name(value)


def _folder(domain: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", domain) or domain.startswith("."):
        raise SeqgenError(f"domain name {domain[:40]!r} cannot name a styles folder")
    return styles_root() / domain


def _examples(path: Path) -> tuple[Path, ...]:
    return tuple(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))


def reread(style: Style) -> Style:
    """The style as its folder is now (lines added since, or all of them replaced)."""
    return Style(style.domain, style.name, style.path, _examples(style.path))


def list_styles(domain: str) -> list[Style]:
    """The saved styles of a domain, by name."""
    base = _folder(domain)
    if not base.is_dir():
        return []
    return [Style(domain, p.name, p, _examples(p)) for p in sorted(base.iterdir())
            if p.is_dir() and NAME_RULE.fullmatch(p.name) and not p.name.isdigit()]


def names(domain: str) -> list[str]:
    return [s.name for s in list_styles(domain)]


def find(domain: str, name: str) -> Style:
    """A saved style by name; one line listing the saved ones for any other name."""
    check_name(name)
    known = names(domain)
    if name not in known:
        saved = f"saved: {', '.join(known)}" if known else \
            "none saved yet (seqgen style save NAME FILES, or the writing pad of seqgen serve)"
        raise SeqgenError(f"no saved {domain} style {name!r}{closest(name, known)}; {saved}")
    path = _folder(domain) / name
    return Style(domain, name, path, _examples(path))


def _styled(domain: Any) -> str:
    """The suffix a domain writes its examples with; one line where it saves no styles."""
    suffix = getattr(domain, "example_suffix", None)
    if not suffix:
        raise SeqgenError(f"domain {getattr(domain, 'name', '?')!r} keeps no styles of its own")
    return str(suffix)


def save(domain: Any, name: str, documents: Sequence[Any], mode: str = "new") -> Style:
    """Save documents (each one line, with its text) as the style ``name`` of the domain:
    ``new`` (a taken name is refused), ``add`` (after its lines; a new name is created) or
    ``replace``."""
    suffix, name = _styled(domain), check_name(name)
    if mode not in MODES:
        raise SeqgenError(f"mode {mode!r}: one of {', '.join(MODES)}")
    if not documents:
        raise SeqgenError(f"style {name!r}: no lines to save")
    if any(not domain.text_of(d) for d in documents):
        raise SeqgenError(f"style {name!r}: every line needs its text (its transcription)")
    with _lock:
        base = _folder(domain.name)
        here = [s for s in list_styles(domain.name) if s.name == name]
        if here and mode == "new":
            raise StyleExists(f"style {name!r} exists: choose another name, or add to it or "
                              f"replace it")
        if not here and len(list_styles(domain.name)) >= MAX_STYLES:
            raise SeqgenError(f"{MAX_STYLES} {domain.name} styles are saved already: remove "
                              f"one first (seqgen style rm NAME)")
        kept = here[0].files if here and mode == "add" else ()
        if len(kept) + len(documents) > MAX_LINES:
            raise SeqgenError(f"style {name!r}: at most {MAX_LINES} lines "
                              f"({len(kept)} saved, {len(documents)} more asked)")
        if kept:
            start = max((int(p.stem) for p in kept if p.stem.isdigit()), default=len(kept))
            for k, doc in enumerate(documents, start + 1):
                with atomic_path(base / name / f"{k:04d}{suffix}") as tmp:
                    domain.write_example(doc, tmp)
        else:
            _write_folder(domain, base, name, documents, suffix)
    return find(domain.name, name)


def _write_folder(domain: Any, base: Path, name: str, documents: Sequence[Any],
                  suffix: str) -> None:
    """Every line into a hidden folder, then the folder renamed into place (over the old one
    of that name, which is renamed out of the way first and then removed)."""
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=base))
    try:
        for k, doc in enumerate(documents, 1):
            domain.write_example(doc, tmp / f"{k:04d}{suffix}")
        final = base / name
        old = base / f".{name}.old-{secrets.token_hex(4)}"
        if final.exists():
            os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove(domain: str | None, name: str) -> Path:
    """Remove a saved style (renamed out of sight first, then deleted); its folder's path.
    ``domain`` None: the one installed domain that keeps styles."""
    domain = domain if domain is not None else domain_for(None).name
    with _lock:
        style = find(domain, name)
        gone = style.path.parent / f".{name}.rm-{secrets.token_hex(4)}"
        os.rename(style.path, gone)
        shutil.rmtree(gone, ignore_errors=True)
    return style.path


def load(domain: Any, name: str) -> list[Any]:
    """The documents of a saved style, in the order they were written."""
    _styled(domain)
    return [doc for f in find(domain.name, name).files for doc in domain.read_examples(str(f))]


def prime(domain: Any, name: str, alphabet: str | None = None) -> tuple[np.ndarray, str]:
    """``--prime-style NAME``: the saved style as one prime (``TextConditioned.prime_from``),
    from its lines whose texts the model can read (every character in ``alphabet``)."""
    docs = load(domain, name)
    usable = [d for d in docs if alphabet is None
              or all(c in alphabet for c in (domain.text_of(d) or ""))]
    if not usable:
        raise SeqgenError(f"style {name!r}: none of its {len(docs)} lines uses only the "
                          f"characters this model writes")
    return domain.prime_from(usable)


def catalogue(domain: str | None = None) -> list[Style]:
    """``seqgen style list``: the saved styles of a domain, or of every domain keeping them."""
    if domain is not None:
        domain_for(domain)
    return [s for d in ([domain] if domain else styled_domains()) for s in list_styles(d)]


def style_prime(domain: Any, style: int | str,
                alphabet: str | None = None) -> tuple[np.ndarray, str | None]:
    """``--prime-style``: the model's N-th style example (``TextConditioned.style_prime``),
    or a saved style by name (``prime``)."""
    if isinstance(style, int):
        return domain.style_prime(style)
    try:
        return prime(domain, style, alphabet)
    except SeqgenError as exc:
        raise SeqgenError(f"--prime-style {style}: {exc}") from None


def styled_domains() -> list[str]:
    """The installed domains that keep styles (their class names an ``example_suffix``)."""
    from seqgen import plugins

    return [n for n, cls in plugins.domains().items() if getattr(cls, "example_suffix", None)]


def domain_for(name: str | None) -> Any:
    """A domain instance (default options) for the style commands: the one named, else the
    one installed domain that keeps styles."""
    from seqgen import plugins

    styled = styled_domains()
    if name is None:
        if len(styled) != 1:
            raise SeqgenError(f"give --domain: {', '.join(styled) or 'no installed domain'} "
                              f"keep styles")
        name = styled[0]
    domain = plugins.get_domain(name)()
    _styled(domain)
    return domain


def save_files(domain: str | None, name: str, sources: Sequence[str],
               mode: str = "new") -> Style:
    """``seqgen style save NAME FILES...``: every line of ink (with its text) that the
    domain's readers find in the files, folders or globs, saved as one style."""
    dom = domain_for(domain)
    check_name(name)
    docs = []
    for source in sources:
        found = dom.read_examples(source)
        bare = sum(1 for d in found if not dom.text_of(d))
        if bare:
            raise SeqgenError(f"{source}: {bare} of its {len(found)} lines have no text (a "
                              f"style's lines need their transcriptions)")
        docs.extend(found)
    return save(dom, name, docs, mode)
