"""Renderer plumbing shared by every domain: pick by suffix, number files, write atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqgen.domain import Domain
from seqgen.errors import SeqgenError
from seqgen.fileio import atomic_path
from seqgen.plugins import renderers_of


def render(domain: Domain, samples: list[Any], out: str | Path) -> list[Path]:
    """Write samples with the renderer chosen by the suffix of ``out``; return the paths."""
    out = Path(out)
    suffix = out.suffix.lower()
    renderers = renderers_of(domain)
    if suffix not in renderers:
        known = ", ".join(sorted(renderers)) or "none"
        what = f"{suffix} is not one of its renderers" if suffix else "the name has no suffix"
        raise SeqgenError(f"{out}: {what}; domain {domain.name!r} renders {known}")
    r = renderers[suffix]
    if r.multi:
        with atomic_path(out) as tmp:
            r.write(samples, tmp)
        return [out]
    paths = [out] if len(samples) == 1 else [
        out.with_name(f"{out.stem}-{i + 1}{out.suffix}") for i in range(len(samples))]
    for sample, path in zip(samples, paths, strict=True):
        with atomic_path(path) as tmp:
            r.write(sample, tmp)
    return paths
