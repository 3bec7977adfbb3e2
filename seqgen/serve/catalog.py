"""The panels of the page: one per installed domain, each with the model it samples from (the
domain's latest run, a --run given at start, or whatever seqgen.load resolves for the domain),
loaded once when the server starts. No request chooses a run."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqgen import plugins
from seqgen.errors import SeqgenError
from seqgen.serve.pad import keeps_styles, prompts, saved_names
from seqgen.serve.requests import MUSIC_PRIMERS, Offer

if TYPE_CHECKING:
    from seqgen.inference import Model

#: the built-in domains with a view of their own; any other domain gets the generic panel
VIEWS = ("text", "music", "handwriting", "speech")
#: an absolute path (/..., ~/..., C:\\...) in a message, less the punctuation after it
_PATH = r"""(?<![\w.~/\\-])(?:[A-Za-z]:)?(?:~|\.\.?)?[\\/][^\s'"`]*[^\s'"`:;,.)\]]"""


def hide_paths(line: str) -> str:
    """A message for a client with the server's paths taken out: where its runs are is the
    server's business, and a home folder names its user (``no trained 'chess' run under
    /home/ann/runs: train one ...`` reads ``no trained 'chess' run: train one ...``)."""
    line = re.sub(r"\s+(?:under|in|at)\s+" + _PATH, "", line)
    return re.sub(_PATH, "\u2026", line)


@dataclass
class Panel:
    """One domain on the page: its model (None, with the reason, when there is none)."""

    name: str
    description: str
    model: Model | None = None
    problem: str | None = None
    run: str = ""
    #: one sample at a time per model: a loaded run's state is not shared between threads
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def shown_problem(self) -> str | None:
        """Why there is no model, as a client reads it (no paths)."""
        return None if self.problem is None else hide_paths(self.problem)

    @property
    def view(self) -> str:
        return self.name if self.name in VIEWS else "generic"

    @cached_property
    def offer(self) -> Offer:
        """The tunes its model harmonizes (the music view's requests only): none unless the
        model takes a melody (Domain.takes_melody)."""
        dom = self.model.domain if self.model is not None else None
        if dom is None or self.view != "music" or not dom.takes_melody():
            return Offer()
        return Offer(tuple(dom.melodies()), tuple(dom.melody_formats))

    def public(self) -> dict[str, Any]:
        """What the page needs to draw the panel (no paths: the run's name only)."""
        out: dict[str, Any] = {"name": self.name, "view": self.view,
                               "description": self.description, "ready": self.model is not None,
                               "problem": self.shown_problem, "run": self.run}
        if self.model is None:
            return out
        dom = self.model.domain
        out["renderers"] = [{"suffix": s, "description": r.description}
                            for s, r in sorted(plugins.renderers_of(dom).items())]
        out["default_render"] = dom.default_render
        out["conditioned"] = self.model.vocab is not None
        out["styles"] = len(getattr(dom, "styles", None) or [])
        out["keeps_styles"] = keeps_styles(self.model)  # the writing pad: saved styles
        out["saved_styles"] = saved_names(self.model)
        out["prompts"] = prompts(self.model) if out["keeps_styles"] else []
        out["examples"] = (list(dict.fromkeys(self.model.default_texts(4)))
                           if self.model.vocab is not None else [])
        out["primers"] = list(MUSIC_PRIMERS) if self.view == "music" else []
        out["melodies"] = list(self.offer.names)
        out["melody_formats"] = list(self.offer.formats)
        out["temperature"] = float(dom.default_temperature)
        out["bias"] = float(dom.default_bias)
        given = dom.melody_temperature if self.offer.names or self.offer.formats else None
        out["melody_temperature"] = float(dom.default_temperature if given is None else given)
        return out


def _open(what: str | Path) -> tuple[Model | None, str | None]:
    """A run directory (seqgen.load), or a domain's model as `seqgen sample --domain` finds
    it; a problem is kept as the panel's one line."""
    from seqgen import api

    try:
        return (api.load(what) if isinstance(what, Path) else api._open(what, None)), None
    except SeqgenError as exc:
        return None, str(exc)
    except Exception as exc:  # a damaged run must not stop the other panels
        return None, f"cannot load {what}: {type(exc).__name__}: {str(exc).splitlines()[0]}"


def load_panels(runs: Sequence[Path] = ()) -> list[Panel]:
    """Every installed domain's panel: a --run for its domain, else its latest run."""
    given: dict[str, Model] = {}
    for run in runs:
        if not Path(run).exists():
            raise SeqgenError(f"--run {run}: no such run directory")
        model, problem = _open(Path(run))
        if model is None:
            raise SeqgenError(f"--run {run}: {problem}")
        name = model.domain.name
        if name in given:
            raise SeqgenError(f"--run {run}: a second {name!r} run (one run per domain)")
        given[name] = model
    panels = []
    for name, cls in sorted(plugins.domains().items()):
        model, problem = (given[name], None) if name in given else _open(name)
        shown = model.run_dir.name if model is not None else ""
        panels.append(Panel(name, cls.description, model, problem, shown))
    return panels
