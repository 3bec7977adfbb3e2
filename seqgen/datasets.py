"""Named datasets: a catalogue of URLs with sha256 checksums, downloaded once into a cache."""

from __future__ import annotations

import hashlib
import os
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from seqgen.errors import SeqgenError
from seqgen.fileio import atomic_path


@dataclass(frozen=True)
class Dataset:
    """A named, downloadable dataset for one domain."""

    name: str
    domain: str
    url: str
    sha256: str
    filename: str
    licence: str = ""
    description: str = ""
    size: int | None = None


def cache_dir() -> Path:
    """Where downloads and encoded corpora are cached ($SEQGEN_CACHE or ~/.cache/seqgen)."""
    root = os.environ.get("SEQGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "seqgen")
    return Path(root)


def builtin_catalogue() -> list[Dataset]:
    """seqgen's own catalogue (data/catalogue.toml), registered like a plugin's datasets."""
    text = resources.files("seqgen_data").joinpath("catalogue.toml").read_text(encoding="utf-8")
    return [Dataset(name=name, **entry) for name, entry in tomllib.loads(text).items()]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(ds: Dataset) -> Path:
    """Return the local path of a dataset, downloading and checking it on first use.

    $SEQGEN_MIRROR, when set, replaces the URL's directory: the file is fetched from
    ``$SEQGEN_MIRROR/<filename>``, a URL or a plain folder (offline mirrors, the tests).
    """
    target = cache_dir() / "datasets" / ds.filename
    if target.exists() and sha256_of(target) == ds.sha256:
        return target
    mirror = os.environ.get("SEQGEN_MIRROR")
    if mirror and "://" not in mirror:  # a plain folder: the file beside its siblings
        mirror = Path(mirror).resolve().as_uri()
    url = f"{mirror.rstrip('/')}/{ds.filename}" if mirror else ds.url
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                while block := response.read(1 << 20):
                    out.write(block)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SeqgenError(f"cannot download dataset {ds.name!r} from {url}: {exc}; "
                              f"offline, put {ds.filename} (sha256 {ds.sha256[:12]}...) at "
                              f"{target}, or set SEQGEN_MIRROR to a folder or URL that holds "
                              f"it") from None
        got = sha256_of(tmp)
        if got != ds.sha256:
            raise SeqgenError(f"dataset {ds.name!r} from {url} has sha256 {got[:12]}..., "
                              f"expected {ds.sha256[:12]}...: not used")
    return target
