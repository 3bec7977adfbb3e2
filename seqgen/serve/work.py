"""One generation as a stream of events (text as it is written, pen points as they are
sampled, progress), and the samples kept in memory for their downloads, rendered by the
domain's own renderers into a private temporary folder and read back. An uploaded tune is
written into a private temporary folder for its one generation (given_file)."""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqgen.engine.settings import SampleSettings
from seqgen.errors import SeqgenError
from seqgen.plugins import renderers_of
from seqgen.render import render
from seqgen.serve.catalog import Panel
from seqgen.serve.limits import Limits, RequestError
from seqgen.serve.requests import Upload

if TYPE_CHECKING:
    from seqgen.inference import Model

Emit = Callable[[dict[str, Any]], None]
FLUSH_S = 0.04  # stream what was sampled every 40 ms: smooth drawing, few small writes


class Stopped(Exception):
    """A generation ran past the time limit (or its client went away)."""


class Results:
    """The latest samples by an unguessable id, at most ``keep`` of them (oldest dropped)."""

    def __init__(self, keep: int = 64) -> None:
        self.keep = keep
        self._items: OrderedDict[str, tuple[Panel, list[Any], dict[str, bytes]]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, panel: Panel, samples: list[Any]) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._items[key] = (panel, samples, {})
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return key

    def get(self, key: object) -> tuple[Panel, list[Any], dict[str, bytes]]:
        with self._lock:
            found = self._items.get(key) if isinstance(key, str) else None
        if found is None:
            raise RequestError(404, "no such sample (the server keeps the latest "
                                    f"{self.keep}): generate it again")
        return found


_render_lock = threading.Lock()  # pyplot (spectrograms) is not thread-safe


def render_bytes(panel: Panel, samples: list[Any], fmt: object,
                 cache: dict[str, bytes]) -> tuple[str, bytes]:
    """A sample written by the domain's renderer for the suffix ``fmt`` ("svg" or ".svg")."""
    assert panel.model is not None
    known = renderers_of(panel.model.domain)
    suffix = f".{str(fmt).lstrip('.').lower()}" if isinstance(fmt, str) else ""
    if suffix not in known:
        raise RequestError(400, f"format {str(fmt)[:20]!r}: {panel.name} renders "
                                f"{', '.join(sorted(known))}")
    if suffix not in cache:
        with _render_lock, tempfile.TemporaryDirectory(prefix="seqgen-serve-") as tmp:
            paths = render(panel.model.domain, samples, Path(tmp) / f"sample{suffix}")
            cache[suffix] = paths[0].read_bytes()
    return suffix, cache[suffix]


@contextmanager
def given_file(upload: Upload | None, settings: SampleSettings) -> Iterator[None]:
    """For the generation inside: the uploaded tune in a folder of its own (mode 0700), under
    a name the server chooses (``melody`` and the checked suffix: never the client's name),
    ``settings.melody`` pointing at it; removed afterwards, whatever happened. A problem
    reading it names the client's file, not the server's path."""
    if upload is None:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="seqgen-melody-") as tmp:
        path = Path(tmp) / f"melody{upload.suffix}"
        path.write_bytes(upload.data)
        settings.melody = str(path)
        try:
            yield
        except SeqgenError as exc:
            raise SeqgenError(str(exc).replace(str(path), upload.name)) from None


def generate(panel: Panel, settings: SampleSettings, emit: Emit, limits: Limits,
             results: Results, model: Model | None = None) -> dict[str, Any]:
    """Sample once with the panel's model (or ``model``: one fine-tuned on the saved style
    asked for), emitting events as it goes; return the closing event (with the id)."""
    assert panel.model is not None
    model, view = model or panel.model, panel.view
    pending: list[Any] = []
    clock = {"start": time.monotonic(), "flushed": time.monotonic(), "steps": 0}
    ink: dict[int, list[np.ndarray]] = {}  # handwriting: each line's (batch row's) new points
    ended: list[np.ndarray] = []  # the rows done before this step

    def flush() -> None:
        if view == "text" and pending:
            emit({"type": "text", "text": "".join(pending)})
        elif view == "handwriting":
            for row, points in sorted(ink.items()):
                rows = np.asarray(model.domain.decode(np.stack(points)).strokes, np.float64)
                emit({"type": "points", "row": row, "points": np.round(rows, 2).tolist()})
            ink.clear()
        elif view != "text":
            emit({"type": "progress", "steps": clock["steps"]})
        pending.clear()
        clock["flushed"] = time.monotonic()

    def tick() -> None:
        now = time.monotonic()
        if now - clock["start"] > limits.seconds:
            raise Stopped(f"stopped after {limits.seconds:g} s (the server's limit)")
        if now - clock["flushed"] >= FLUSH_S:
            flush()

    def on_text(piece: str) -> None:
        pending.append(piece)

    def on_step(sampled: np.ndarray, done: np.ndarray) -> None:
        clock["steps"] += 1
        if view == "handwriting":  # a row's last step is the one its window ends at
            before = ended[0] if ended else np.zeros(len(done), bool)
            for row in np.flatnonzero(~before):
                ink.setdefault(int(row), []).append(np.asarray(sampled[row], np.float32))
            ended[:] = [np.asarray(done, bool).copy()]
        tick()

    with panel.lock:
        samples = model.sample(settings, on_text=on_text if view == "text" else None,
                               on_step=on_step)
    flush()
    key = results.add(panel, samples)
    tuned = {"tuned": True} if model is not panel.model else {}  # the weights tuned on a style
    return {"type": "done", "id": key, "steps": clock["steps"],
            "seconds": round(time.monotonic() - clock["start"], 3),
            **summary(samples, settings.melody is not None), **tuned}


def summary(samples: list[Any], melody: bool = False) -> dict[str, Any]:
    """What the page shows of a finished sample: its text, its notes (music) and whose each
    is (four voices), whether it harmonized a tune, its lines."""
    first = samples[0]
    out: dict[str, Any] = {}
    if isinstance(first, str):
        out["text"] = first
    notes = getattr(first, "notes", None)
    if isinstance(notes, np.ndarray) and notes.ndim == 2 and notes.shape[1] == 4:
        out["notes"] = np.round(notes.astype(np.float64), 3).tolist()
        out["drums"] = bool(getattr(first, "drums", False))
        voices = getattr(first, "note_voices", None)
        if isinstance(voices, np.ndarray) and len(voices) == len(notes):
            out["voices"] = voices.astype(int).tolist()
    if melody:
        out["melody"] = True
    said = getattr(first, "text", None)
    if isinstance(said, str) and "text" not in out:
        out["said"] = said
    frames = getattr(first, "frames", None)
    if isinstance(frames, np.ndarray):
        out["frames"] = int(len(frames))
    return out
