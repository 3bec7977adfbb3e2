"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj


def dumps(obj: Any, indent: int | None = None) -> str:
    """Strict JSON (RFC 8259): a NaN or infinity becomes null, never the bare ``NaN`` that
    Python's json writes by default and other parsers refuse."""
    return json.dumps(finite(obj), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write strict JSON atomically, indented for people to read."""
    write_text(path, dumps(obj, indent=2) + "\n")


def write_error(run_dir: Path, exc: OSError) -> str:
    """The one line for a run directory that refuses a write: full, read-only, not ours."""
    why = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = f"the run directory is not writable ({why})"
    found = sorted(p for p in (run_dir / "checkpoints").glob("step-*")
                   if (p / "trainer.json").exists()) if run_dir.is_dir() else []
    kept = f"the previous checkpoint ({found[-1].name}) is kept" if found else "no checkpoint"
    return f"cannot write a checkpoint in {run_dir}: {why}; {kept}"
