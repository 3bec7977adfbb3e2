"""Run directories: ``runs/<domain>/<name>/`` with a ``latest`` pointer per domain."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seqgen.errors import SeqgenError
from seqgen.fileio import write_error, write_text


def runs_root() -> Path:
    """$SEQGEN_RUNS, or ./runs."""
    return Path(os.environ.get("SEQGEN_RUNS", "runs"))


def new_run_dir(domain: str) -> Path:
    """A fresh, unique run directory named by the time it starts."""
    base = runs_root() / domain
    name = time.strftime("%Y%m%d-%H%M%S")
    path, n = base / name, 1
    while path.exists():
        n += 1
        path = base / f"{name}-{n}"
    return path


def set_latest(domain: str, run_dir: Path) -> None:
    """Point runs/<domain>/latest at run_dir (a text file: works where symlinks do not)."""
    write_text(runs_root() / domain / "latest", str(run_dir.resolve()) + "\n")


def latest_run(domain: str) -> Path | None:
    pointer = runs_root() / domain / "latest"
    if pointer.exists():
        path = Path(pointer.read_text().strip())
        if (path / "config.json").exists():
            return path
    return None


def resolve_run(run: str | os.PathLike[str] | None, domain: str | None) -> Path:
    """The run to use: --run if given, else the latest run of --domain."""
    if run is not None:
        path = Path(run)
        if not path.is_dir():
            raise SeqgenError(f"run directory {path} does not exist")
        return path
    if domain is None:
        raise SeqgenError("no run given: pass --run DIR or --domain NAME "
                          "(train one first with `seqgen train --domain text`)")
    found = latest_run(domain)
    if found is None:
        raise SeqgenError(f"no trained {domain!r} run under {runs_root()}: "
                          f"train one with `seqgen train --domain {domain}`")
    return found


def ensure_writable(run_dir: Path) -> None:
    """Create run_dir if need be and prove that it takes new files (a read-only directory, a
    read-only file system, one owned by another user): else one line naming it."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=run_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise SeqgenError(write_error(run_dir, exc)) from None


@contextmanager
def lock(run_dir: Path) -> Iterator[None]:
    """One training process per run directory. The OS drops the lock when a process dies."""
    import fcntl

    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / ".lock"
    try:
        f = open(path, "a+")
    except OSError as exc:  # the lock file of another user, in a directory we may write
        raise SeqgenError(write_error(run_dir, exc)) from None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        owner = f.read().strip() or "?"
        f.close()
        raise SeqgenError(f"{run_dir} is being trained by another process (pid {owner}); "
                          f"wait for it or stop it") from None
    try:
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        f.close()
