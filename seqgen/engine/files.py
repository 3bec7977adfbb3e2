"""A --data source's files, and the .npz caches built from them: the same rules for every
domain, so that a folder or glob reads alike whatever is in it.

``discover`` turns a source into files: a file, a directory searched recursively (hidden files
and folders skipped: editors' and version control's, macOS's ``._`` copies), or a glob pattern.
``cached_npz`` keeps what was read or built from them in one ``.npz``, named by a key of their
contents and written atomically, so that a second run reads one file and parses nothing.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from seqgen.errors import SeqgenError
from seqgen.fileio import atomic_path

PathOrPattern = str | os.PathLike[str]
T = TypeVar("T")


def names_files(source: PathOrPattern) -> bool:
    """Whether a source names the file system (an existing path, or a glob pattern) rather
    than something a domain knows by name (a dataset, a corpus, a work)."""
    return os.path.exists(source) or glob.has_magic(str(source))


def no_files(source: PathOrPattern, suffixes: Sequence[str] | None = None,
             what: str = "") -> str:
    """The one line for a source with nothing to read: ``SOURCE: no WHAT files (SUFFIXES)
    found``."""
    kind = f"{what} files" if what else "files"
    listed = f" ({', '.join(suffixes)})" if suffixes else ""
    return f"{source}: no {kind}{listed} found"


def _wanted(path: Path, suffixes: Sequence[str] | None) -> bool:
    return suffixes is None or path.suffix.lower() in suffixes


def discover(source: PathOrPattern, suffixes: Sequence[str] | None = None, what: str = "",
             patterns: bool = True) -> list[Path]:
    """The files of a source, sorted: the file itself (whatever its suffix: its reader says
    what it cannot read), the files of a directory searched recursively (hidden ones skipped),
    or the files a glob pattern matches (``patterns``: whether a source may be one).

    ``suffixes`` (lower case, with the dot) filter a directory's or a pattern's files; ``what``
    names them in the error. A source that is none of these, or that holds no such file, is
    a one-line SeqgenError.
    """
    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and _wanted(p, suffixes)
                       and not any(s.startswith(".") for s in p.relative_to(path).parts))
    elif patterns and glob.has_magic(str(source)):
        found = sorted(Path(p) for p in glob.glob(str(source), recursive=True)
                       if Path(p).is_file() and _wanted(Path(p), suffixes))
    else:
        raise SeqgenError(f"{source}: no such file or directory")
    if not found:
        raise SeqgenError(no_files(source, suffixes, what))
    return found


# ---- the .npz cache ---------------------------------------------------------------------------
def content_key(*parts: Any, size: int = 32) -> str:
    """A hex key of JSON-able parts (a listing, a version, settings): the cache file's name."""
    blob = json.dumps(list(parts), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:size]


def load_npz(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None where there is none or it cannot be read: a
    damaged, cut short or older file is built again, never an error."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write a cache file atomically: a reader (another run) sees the old file or the new one."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]


def cached_npz(path: Path, build: Callable[[], T],
               to_arrays: Callable[[T], Mapping[str, np.ndarray] | None],
               from_arrays: Callable[[dict[str, np.ndarray]], T | None]) -> T:
    """What the cache file at ``path`` holds, else what ``build()`` makes, saved there first.

    ``from_arrays`` returns None for a file that is not this one's (another key in its
    metadata); a file of an older layout (an array or a field missing) is built again too.
    ``to_arrays`` returns None for a result not worth keeping (nothing could be read: the
    reason may be a missing package, and the next run should try again).
    """
    arrays = load_npz(path)
    if arrays is not None:
        try:
            got = from_arrays(arrays)
        except (KeyError, ValueError, TypeError):  # an older layout: built again
            got = None
        if got is not None:
            return got
    made = build()
    stored = to_arrays(made)
    if stored is not None:
        save_npz(path, stored)
    return made
