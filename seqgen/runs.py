"""Run directories: ``runs/<domain>/<name>/`` with a ``latest`` pointer per domain.

The pointer is a text file naming the run's directory relative to ``runs/<domain>/``, so a
moved ``runs/`` (or another ``SEQGEN_RUNS``) keeps its runs; an old absolute pointer is read
too. A pointer that is missing, stale or points outside falls back to the domain's newest
valid run, said in one line. Nothing here imports torch: ``seqgen runs`` reads files only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from seqgen import plugins
from seqgen.errors import SeqgenError
from seqgen.fileio import write_error, write_text

LATEST = "latest"
REMOVING = ".removing-"  # a run being removed is renamed to this hidden name first


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


def run_config(run_dir: Path) -> dict[str, Any] | None:
    """The config.json of a seqgen run (format "seqgen-run"), or None: no such file, not
    JSON, another format. Read without the engine (no torch)."""
    try:
        cfg = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, not UTF-8, not JSON
        return None
    return cfg if isinstance(cfg, dict) and cfg.get("format") == "seqgen-run" else None


def is_run(path: Path) -> bool:
    """A valid run: its config.json and model.safetensors (what sampling needs) are there."""
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def created(run_dir: Path) -> float:
    """When a run started: its config's created time, else its config.json's mtime."""
    stamp = (run_config(run_dir) or {}).get("created")
    try:
        if isinstance(stamp, str):
            return datetime.fromisoformat(stamp).timestamp()
        return (run_dir / "config.json").stat().st_mtime
    except (ValueError, OSError):
        return 0.0


def runs_in(base: Path) -> list[Path]:
    """The valid runs in a domain's directory, oldest first (hidden directories skipped)."""
    if not base.is_dir():
        return []
    found = [p for p in base.iterdir()
             if p.is_dir() and not p.name.startswith(".") and is_run(p)]
    return sorted(found, key=lambda p: (created(p), p.name))


def set_latest(domain: str, run_dir: Path) -> None:
    """Point runs/<domain>/latest at run_dir: its name when it lies in runs/<domain>/ (a text
    file, which works where symlinks do not), else its absolute path."""
    base = runs_root() / domain
    inside = run_dir.resolve().parent == base.resolve()
    write_text(base / LATEST, (run_dir.name if inside else str(run_dir.resolve())) + "\n")


def pointed(base: Path) -> tuple[Path | None, str]:
    """The run base/latest names, if it is a valid run of base; else (None, what is wrong)."""
    try:
        text = (base / LATEST).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None, "is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot be read ({exc})"
    named = Path(text)
    if named.is_absolute():  # written by an older seqgen: the run's absolute path
        if named.parent.name != base.resolve().name:  # not a runs/<domain>/ of this domain
            return None, f"points outside {base} (to {text})"
        named = Path(named.name)  # the same run, wherever runs/ is now
    elif not text or str(named) != named.name or named.name == "..":
        return None, f"points outside {base} (to {text!r})"
    if not is_run(base / named):
        return None, f"names {named}, which is gone or incomplete"
    return base / named, ""


def latest_in(base: Path) -> Path | None:
    """The latest run of a domain's directory: the one its pointer names, else the newest
    valid run there (said in one line, and the pointer repaired where it can be); None when
    there is no run."""
    run, problem = pointed(base)
    if run is not None:
        return run
    found = runs_in(base)
    if not found:
        return None
    newest = found[-1]
    try:
        write_text(base / LATEST, newest.name + "\n")
    except OSError:
        pass  # a read-only runs/ still samples: the fallback is computed each time
    plugins.warn(f"{base / LATEST} {problem}: using the newest run there, {newest}")
    return newest


def latest_run(domain: str) -> Path | None:
    return latest_in(runs_root() / domain)


def check_domain(domain: str) -> None:
    """An unknown domain name is one line suggesting the closest (as `seqgen train` says)."""
    plugins.get_domain(domain)


def resolve_run(run: str | os.PathLike[str] | None, domain: str | None) -> Path:
    """The run to use: --run if given (a run directory, or a runs/<domain>/latest pointer),
    else the latest run of --domain. The domain's name is checked first."""
    if domain is not None:
        check_domain(domain)
    if run is not None:
        return _given(Path(run))
    if domain is None:
        raise SeqgenError("no run given: name a run directory (--run DIR, or the argument of "
                          "seqgen info) or a domain (--domain NAME: its latest run)")
    found = latest_run(domain)
    if found is None:
        raise SeqgenError(f"no trained {domain!r} run under {runs_root()}: "
                          f"train one with `seqgen train --domain {domain}`")
    return found


def _given(path: Path) -> Path:
    if path.is_file() and path.name == LATEST:  # runs/<domain>/latest: the run it names
        found = latest_in(path.parent)
        if found is None:
            raise SeqgenError(f"{path}: {path.parent} holds no trained run")
        return found
    if path.is_file():
        raise SeqgenError(f"{path} is a file, not a run directory")
    if not path.is_dir():
        raise SeqgenError(f"run directory {path} does not exist")
    return path


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


def _flock(f: IO[str]) -> bool:
    """Take the exclusive lock of an open .lock file without waiting; False when another
    process (or another open file of this one) holds it."""
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _busy(run_dir: Path, f: IO[str]) -> SeqgenError:
    f.seek(0)
    owner = f.read().strip() or "?"
    f.close()
    return SeqgenError(f"{run_dir} is being trained by another process (pid {owner}); "
                       f"wait for it or stop it")


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
    if not _flock(f):
        raise _busy(run_dir, f) from None
    try:
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        f.close()


def training(run_dir: Path) -> bool:
    """Whether a process trains run_dir now (holds its .lock), probed without waiting."""
    try:
        f = open(run_dir / ".lock")
    except OSError:  # no lock file: never trained by this seqgen, or not readable
        return False
    with f:
        return not _flock(f)  # closing the file drops a lock taken here


def find_run(spec: str) -> Path:
    """A run to remove: a directory, or DOMAIN/NAME under the runs root, which is a seqgen run
    (a config.json of format "seqgen-run") that no process is training."""
    path = Path(spec)
    if not path.exists() and (runs_root() / spec).is_dir():
        path = runs_root() / spec
    if not path.is_dir():
        raise SeqgenError(f"no run {spec}: neither a directory nor DOMAIN/NAME under "
                          f"{runs_root()}")
    if run_config(path) is None:
        raise SeqgenError(f"{path} is not a seqgen run (no config.json of format "
                          f"'seqgen-run'): not removed")
    if training(path):
        with open(path / ".lock") as f:
            raise _busy(path, f)
    return path


def remove_run(run_dir: Path) -> str:
    """Remove a run found by find_run and repoint its domain's latest if it named it; return
    the line to say. The run is renamed to a hidden name under its lock (no trainer starts on
    it meanwhile, and no reader sees half a run), then deleted."""
    try:
        f = open(run_dir / ".lock", "a+")
    except OSError as exc:
        raise SeqgenError(f"cannot remove {run_dir}: {exc.strerror or exc}") from None
    with f:
        if not _flock(f):
            raise _busy(run_dir, f)
        real = run_dir.resolve()  # "." and symbolic links name a directory too
        gone = real.with_name(f"{REMOVING}{real.name}")
        try:
            shutil.rmtree(gone, ignore_errors=True)  # what an earlier removal left
            os.rename(real, gone)
        except OSError as exc:
            raise SeqgenError(f"cannot remove {run_dir}: {exc.strerror or exc}") from None
    try:
        shutil.rmtree(gone)
    except OSError as exc:
        plugins.warn(f"{run_dir} is removed, but deleting {gone} failed ({exc}): delete it "
                     f"by hand")
    base = run_dir.parent if run_dir.name not in ("", "..") else real.parent
    return f"removed {run_dir}{_repoint(base)}"


def _repoint(base: Path) -> str:
    """After a removal in base: a latest pointer that no longer names a run names the newest
    run left (none left: the pointer goes). What changed, for the user."""
    if not (base / LATEST).exists() or pointed(base)[0] is not None:
        return ""
    found = runs_in(base)
    if not found:
        (base / LATEST).unlink()
        return f"; {base} holds no run now"
    write_text(base / LATEST, found[-1].name + "\n")
    return f"; latest is now {found[-1]}"
