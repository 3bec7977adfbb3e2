"""For test_serve and test_serve_browser: tiny trained runs of every built-in domain, trained
once per test process, and a real `seqgen serve` server on a free loopback port."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import seqgen
from seqgen.serve.catalog import Panel, load_panels
from seqgen.serve.connections import Server
from seqgen.serve.limits import Limits
from seqgen.serve.server import App, make_server

from conftest import SAMPLE_TEXT

_RUNS: dict[str, Path] = {}
_VOICES: list[Path] = []  # apart from _RUNS: panels_of serves those four runs only


def tiny_runs(root: Path) -> dict[str, Path]:
    """A tiny run of each built-in domain (handwriting and speech on their small synthetic
    corpora, as test_handwriting_e2e and test_speech_domain train them)."""
    if _RUNS:
        return _RUNS
    from test_music_helpers import write_corpus

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("SEQGEN_RUNS", str(root / "runs"))
        mp.setenv("SEQGEN_CACHE", str(root / "cache"))
        (root / "corpus.txt").write_text(SAMPLE_TEXT, encoding="utf-8")
        plan: dict[str, tuple[str | None, list[str], dict[str, int]]] = {
            "text": (str(root / "corpus.txt"), [], {"max_steps": 40}),
            "music": (str(write_corpus(root / "midi", 6)), [], {"max_steps": 12}),
            "handwriting": (None, ["lines=16", "max_chars=6"], {"max_steps": 2,
                                                               "batch_size": 4}),
            "speech": (None, ["sentences=24"], {"max_steps": 3, "batch_size": 4}),
        }
        for name, (data, options, sizes) in plan.items():
            seqgen.train(name, data, run=root / name, preset="tiny", options=options, seed=1,
                         progress=False, **sizes)
            _RUNS[name] = root / name
    return _RUNS


def panels_of(root: Path) -> list[Panel]:
    return load_panels(list(tiny_runs(root).values()))


def voices_panel(root: Path) -> Panel:
    """The music panel of a tiny four-voice run (three chorales, 20 steps: a few seconds),
    trained once per test process: a model that harmonizes tunes."""
    if not _VOICES:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(root)
            mp.setenv("SEQGEN_RUNS", str(root / "runs"))
            mp.setenv("SEQGEN_CACHE", str(root / "cache"))
            seqgen.train("music", None, run=root / "voices", preset="tiny",
                         options=["limit=3"], seed=2, progress=False, max_steps=20)
        _VOICES.append(root / "voices")
    model = seqgen.load(_VOICES[0])
    assert model.domain.takes_melody()
    return Panel("music", "four-part chorales", model, run="voices")


@contextmanager
def serving(panels: list[Panel], limits: Limits | None = None,
            host: str = "127.0.0.1", tune: bool = True) -> Iterator[tuple[Server, str]]:
    """The server on host, port 0 (a free one), serving on a thread; it and its base URL.
    ``tune``: fine-tune on the styles the pad saves, in the background (as seqgen serve)."""
    server = make_server(App(panels, limits, tune), host, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shown = f"[{host}]" if ":" in host else host
    try:
        yield server, f"http://{shown}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running(panels: list[Panel], limits: Limits | None = None,
            tune: bool = True) -> Iterator[str]:
    """The server on 127.0.0.1, port 0 (a free one), serving on a thread; its base URL."""
    with serving(panels, limits, tune=tune) as (_, base):
        yield base


def request(url: str, body: Any = None, *, raw: bytes | None = None,
            headers: dict[str, str] | None = None,
            method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request: (status, headers, body), for errors as for successes."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url, data=data, headers={**sent, **(headers or {})},
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def events(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]
