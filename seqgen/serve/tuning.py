"""A style the writing pad saves is fine-tuned on in the background (issue 27 item 3a,
seqgen/style_tuning.py): one at a time on a thread of its own, from a bounded queue, never in a
request's way. Until its tuned run is there the panel writes with its model primed with the
style's lines; after, with the tuned model primed with them. A failure is one line on stderr.
At most ``Limits.tuned_models`` tuned models stay loaded (the least recently used goes)."""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from seqgen import style_tuning
from seqgen.errors import SeqgenError
from seqgen.serve.catalog import Panel
from seqgen.serve.limits import Limits
from seqgen.styles import Style, find, list_styles, reread

if TYPE_CHECKING:
    from seqgen.inference import Model

TUNED, TUNING, PRIMED = "tuned", "tuning", "primed only"  # a saved style's state, as listed
Key = tuple[str, str, str]  # the model's run directory, the style's domain and name


class Tuner:
    """The background fine-tunes of one server, and the tuned models it keeps loaded."""

    def __init__(self, limits: Limits, enabled: bool = True) -> None:
        self.enabled, self.keep = enabled, limits.tuned_models
        self._queue: queue.Queue[tuple[Path, Style, Path]] = queue.Queue(limits.tune_queue)
        self._waiting: set[Key] = set()
        self._running: Key | None = None
        self._loaded: OrderedDict[Path, Model] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def request(self, panel: Panel, name: str) -> str:
        """Fine-tune the panel's model on a style just saved (on its lines as they are when
        its turn comes); the style's state."""
        assert panel.model is not None
        style = find(panel.model.domain.name, name)
        key = (str(panel.model.run_dir), style.domain, name)
        with self._lock:
            if not self.enabled or key in self._waiting:
                return self._state(panel, style)  # off, or waiting already
            try:  # the tuning root of now: where the style's run will be looked for
                self._queue.put_nowait((panel.model.run_dir, style,
                                        style_tuning.tuning_root()))
            except queue.Full:
                say(f"{style.domain}: style {name!r} is not fine-tuned on: "
                    f"{self._queue.maxsize} styles wait already")
                return self._state(panel, style)
            self._waiting.add(key)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="seqgen-tune",
                                                daemon=True)
                self._thread.start()
        return TUNING

    def states(self, panel: Panel) -> dict[str, str]:
        """Each saved style's state: ``tuned`` (a tuned run for the style as it is now),
        ``tuning`` (waiting or running), else ``primed only``."""
        if panel.model is None:
            return {}
        try:
            return {s.name: self._state(panel, s) for s in list_styles(panel.model.domain.name)}
        except (OSError, SeqgenError):
            return {}

    def _state(self, panel: Panel, style: Style) -> str:
        assert panel.model is not None
        key = (str(panel.model.run_dir), style.domain, style.name)
        if key in self._waiting or key == self._running:
            return TUNING
        return TUNED if style_tuning.tuned(panel.model.run_dir, style) else PRIMED

    def model_for(self, panel: Panel, style: object) -> Model:
        """The model a request writes with: for a saved style's name, the panel's model
        fine-tuned on it where that run is there (loaded once), else the panel's own."""
        assert panel.model is not None
        found = None
        if isinstance(style, str):
            try:
                found = style_tuning.tuned(panel.model.run_dir,
                                           find(panel.model.domain.name, style))
            except SeqgenError:  # not saved: the panel's model says so, in one line
                pass
        if found is None:
            return panel.model
        with self._lock:
            if found in self._loaded:
                self._loaded.move_to_end(found)
                return self._loaded[found]
        from seqgen.inference import Model

        try:
            model = Model(found, device=panel.model.device, threads=panel.model.threads)
        except Exception as exc:  # a damaged tuned run: the panel's own model writes
            say(f"{panel.name}: cannot load {found.name}: {type(exc).__name__}")
            return panel.model
        with self._lock:
            self._loaded[found] = model
            while len(self._loaded) > self.keep:
                self._loaded.popitem(last=False)
        return model

    def _work(self) -> None:
        """The worker: one fine-tune at a time; a failure is one line, never raised."""
        while True:
            source, style, root = self._queue.get()
            key = (str(source), style.domain, style.name)
            with self._lock:
                self._waiting.discard(key)
                self._running = key
            began = time.monotonic()
            try:
                style_tuning.tune(source, reread(style), root=root, quiet=True)
                say(f"{style.domain}: fine-tuned on style {style.name!r} in "
                    f"{time.monotonic() - began:.0f} s")
            except Exception as exc:  # a failed fine-tune leaves the style primed only
                what = str(exc) if isinstance(exc, SeqgenError) else \
                    f"{type(exc).__name__}: {exc}"
                say(f"{style.domain}: fine-tuning on style {style.name!r} failed: "
                    f"{' '.join(what.split())[:300]}")
            finally:
                with self._lock:
                    self._running = None


def say(line: str) -> None:
    print(f"seqgen serve: {line}", file=sys.stderr, flush=True)
