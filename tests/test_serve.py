"""`seqgen serve` for real: a server on a free loopback port, tiny trained runs of every domain,
each endpoint, every kind of bad request (a 4xx with one line of JSON), the size limits, the
bounded queue (overflow refused at once) and a small load test."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_helpers import events, panels_of, request, running

from seqgen.engine.settings import SampleSettings
from seqgen.errors import SeqgenError
from seqgen.serve.catalog import Panel
from seqgen.serve.limits import Gate, Limits, RequestError
from seqgen.serve.requests import settings_for

SVG_NS = b"http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def panels(tmp_path_factory: pytest.TempPathFactory) -> list[Panel]:
    return panels_of(tmp_path_factory.mktemp("serve-runs"))


@pytest.fixture(scope="module")
def url(panels: list[Panel]) -> Iterator[str]:
    with running(panels) as base:
        yield base


def generate(url: str, domain: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    status, headers, raw = request(f"{url}/api/generate/{domain}", body)
    assert status == 200, raw
    assert headers["Content-Type"] == "application/x-ndjson"
    got = events(raw)
    assert got[-1]["type"] == "done", got[-1]
    return got


def download(url: str, key: str, fmt: str) -> bytes:
    status, headers, raw = request(f"{url}/api/render", {"id": key, "format": fmt})
    assert status == 200, raw
    assert "attachment" in headers["Content-Disposition"]
    return raw


def test_the_page_its_assets_and_the_listing(url: str, panels: list[Panel]) -> None:
    status, headers, page = request(url + "/")
    assert status == 200 and b"/static/app.js" in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for asset in ("/", "/static/app.js", "/static/pad.js", "/static/style.css"):
        status, _, body = request(url + asset)
        assert status == 200
        # no CDN, no web font: nothing is fetched from elsewhere (the SVG namespace is a name)
        assert not re.search(rb"https?://|@import|url\(", body.replace(SVG_NS, b"")), asset
    listing = json.loads(request(url + "/api/domains")[2])
    views = {d["name"]: (d["view"], d["ready"]) for d in listing["domains"]}
    assert views == {n: (n, True) for n in ("handwriting", "music", "speech", "text")}
    assert str(panels[0].model.run_dir.parent) not in json.dumps(listing)  # no paths shown
    assert listing["limits"]["text_chars"] == Limits().text_chars
    music = next(d for d in listing["domains"] if d["name"] == "music")
    # an events model harmonizes nothing: no tunes, no upload (test_serve_melody has one that does)
    assert (music["melodies"], music["melody_formats"], music["temperature"]) == ([], [], 1.0)
    ink = next(d for d in listing["domains"] if d["name"] == "handwriting")
    assert (ink["bias"], music["bias"]) == (1.0, 0.0)  # the page's slider starts there


def test_text_streams_as_it_is_written(url: str) -> None:
    body = {"prime": "All:", "length": 80, "seed": 3, "temperature": 0.8, "top_p": 0.9}
    got = generate(url, "text", body)
    pieces = [e["text"] for e in got if e["type"] == "text"]
    assert len(pieces) >= 1 and "".join(pieces) == got[-1]["text"]
    assert got[-1]["text"].startswith("All:")
    again = generate(url, "text", body)
    assert again[-1]["text"] == got[-1]["text"]  # same seed, same sample
    assert download(url, got[-1]["id"], "txt").decode().startswith("All:")


def test_handwriting_streams_points_and_renders(url: str) -> None:
    got = generate(url, "handwriting", {"text": "hi", "bias": 1.0, "seed": 1, "style": 0})
    points = [p for e in got if e["type"] == "points" for p in e["points"]]
    assert len(points) == got[-1]["steps"] > 0 and all(len(p) == 3 for p in points)
    key = got[-1]["id"]
    assert b"<path" in download(url, key, ".svg")
    assert download(url, key, "png")[:4] == b"\x89PNG"
    assert b"hi" in download(url, key, "inkml")


def test_music_notes_and_downloads(url: str) -> None:
    got = generate(url, "music", {"seconds": 6, "seed": 2})
    notes = np.asarray(got[-1]["notes"])
    assert notes.ndim == 2 and notes.shape[1] == 4 and len(notes) > 0
    assert notes[:, 1].max() <= 6.5
    assert download(url, got[-1]["id"], "mid")[:4] == b"MThd"
    assert b"score-partwise" in download(url, got[-1]["id"], "musicxml")
    primed = generate(url, "music", {"seconds": 15, "seed": 2, "primer": "bach/bwv66.6"})
    assert len(primed[-1]["notes"]) > 0


def test_speech_wav_and_spectrogram(url: str) -> None:
    got = generate(url, "speech", {"text": "hi there", "seed": 1})
    assert got[-1]["said"] == "hi there" and got[-1]["frames"] > 0
    wav = download(url, got[-1]["id"], "wav")
    assert wav[:4] == b"RIFF" and len(wav) > 1000
    assert download(url, got[-1]["id"], "png")[:4] == b"\x89PNG"


TOO_LONG = "a" * (Limits().text_chars + 1)
BAD = [  # path, body or raw bytes, headers, status
    ("/api/generate/text", b"{not json", None, 400),
    ("/api/generate/text", b"[1, 2]", None, 400),
    ("/api/generate/text", b"\xff\xfe", None, 400),
    ("/api/generate/text", {"prime": "All:", "path": "/etc/passwd"}, None, 400),
    ("/api/generate/text", {"seed": "one"}, None, 400),
    ("/api/generate/text", {"seed": True}, None, 400),
    ("/api/generate/text", {"temperature": -1}, None, 400),
    ("/api/generate/text", {"top_p": 0}, None, 400),
    ("/api/generate/text", {"length": 10**6}, None, 400),
    ("/api/generate/text", {"prime": TOO_LONG}, None, 413),
    ("/api/generate/text", {"prime": "\u20ac\u20ac"}, None, 400),  # not in the alphabet
    ("/api/generate/text", b"x" * 20_000, None, 413),
    ("/api/generate/text", {}, {"Content-Type": "text/plain"}, 415),
    ("/api/generate/handwriting", {"text": "hi\n" * 13}, None, 400),  # a page: 12 lines
    ("/api/generate/handwriting", {"text": "a" * (Limits().page_chars + 1)}, None, 413),
    ("/api/generate/handwriting", {"text": "hi", "style": "no one"}, None, 400),
    ("/api/generate/handwriting", {"text": "hi", "style": "nobody"}, None, 400),  # not saved
    ("/api/generate/handwriting", {"text": "hi", "style": 99}, None, 400),
    ("/api/generate/handwriting", {"text": "hi", "bias": "max"}, None, 400),
    ("/api/generate/music", {"primer": "/etc/passwd"}, None, 400),
    ("/api/generate/music", {"seconds": 3600}, None, 400),
    ("/api/generate/music", {"melody": "twinkle"}, None, 400),  # an events model
    ("/api/generate/music", {"melody_file": {"name": "t.mid", "data": ""}}, None, 400),
    ("/api/generate/music", b"x" * 20_000, None, 413),  # no room for an upload here
    ("/api/generate/speech", {"text": TOO_LONG}, None, 413),
    ("/api/generate/nope", {}, None, 404),
    ("/api/generate/../../etc/passwd", {}, None, 404),
    ("/api/render", {"id": "nope", "format": "svg"}, None, 404),
    ("/api/render", {"id": 1, "format": "svg"}, None, 404),
    ("/api/render", {"id": "x", "path": "/tmp/x"}, None, 400),
    ("/api/elsewhere", {}, None, 404),
    ("/", {}, {"Host": "evil.example:80"}, 421),
]


@pytest.mark.parametrize(("path", "body", "headers", "status"), BAD)
def test_bad_requests_get_one_line_of_json(url: str, path: str, body: Any,
                                           headers: dict[str, str] | None, status: int) -> None:
    raw = body if isinstance(body, bytes) else None
    got, head, out = request(url + path, None if raw is not None else body, raw=raw,
                             headers=headers, method="POST")
    assert got == status, out
    assert head["Content-Type"] == "application/json"
    assert out.count(b"\n") == 1 and out.endswith(b"\n") and b"Traceback" not in out
    assert set(json.loads(out)) == {"error"}


def test_get_on_an_endpoint_and_a_bad_format(url: str) -> None:
    assert request(url + "/api/generate/text")[0] == 405
    assert request(url + "/nowhere")[0] == 404
    key = generate(url, "text", {"length": 10, "seed": 1})[-1]["id"]
    status, _, out = request(f"{url}/api/render", {"id": key, "format": "../../etc/passwd"})
    assert status == 400 and b"renders .txt" in out


def test_a_prime_that_looks_like_a_file_is_refused_whether_or_not_it_exists(
        tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("x")
    answers = set()
    for prime in (str(tmp_path / "secret.txt"), str(tmp_path / "absent.txt"), "~/x", "./x",
                  "notes.txt", "a\\b"):
        with pytest.raises(RequestError, match="looks like a file name") as refused:
            settings_for("generic", {"prime": prime}, Limits())
        answers.add((refused.value.status, str(refused.value)))
    assert len(answers) == 1  # the same answer: nothing said about the server's disk
    for text in ("ACGT", "Hello there.", "a.b c"):
        assert settings_for("generic", {"prime": text}, Limits()).prime == text


def test_the_gate_refuses_at_once() -> None:
    """One address: first come, first served; a full queue refuses a newcomer at once, and a
    page id (client) already in flight is 429 (tests/test_serve_hostile.py: between addresses)."""
    gate = Gate(Limits(workers=1, queue=1, wait=0.2))
    with gate.enter("127.0.0.1", "a"):
        with pytest.raises(RequestError) as same:
            with gate.enter("127.0.0.1", "a"):
                pass
        assert same.value.status == 429
        holder = threading.Event()
        release = threading.Event()

        def queued() -> None:
            with pytest.raises(RequestError):  # waits 0.2 s for the worker, then 503
                with gate.enter("127.0.0.1", "b"):
                    holder.set()
            release.set()

        t = threading.Thread(target=queued)
        t.start()
        time.sleep(0.05)
        t0 = time.monotonic()
        with pytest.raises(RequestError) as full:
            with gate.enter("127.0.0.1", "c"):
                pass
        assert full.value.status == 503 and time.monotonic() - t0 < 0.1
        t.join()
        assert release.is_set() and not holder.is_set()
    with gate.enter("127.0.0.1", "a"):  # every place given back
        pass


class SlowModel:
    """A stand-in model whose sampling waits until told to finish (a busy server, for sure)."""

    def __init__(self, real: Any) -> None:
        self.domain, self.vocab, self.run_dir = real.domain, None, real.run_dir
        self.release = threading.Event()

    def sample(self, settings: SampleSettings, on_text: Any = None, on_step: Any = None) -> list:
        while not self.release.wait(0.01):
            on_step(np.zeros(1), np.zeros(1, bool))
        return ["slow"]


def test_overflow_is_refused_and_one_client_one_generation(panels: list[Panel]) -> None:
    text = next(p for p in panels if p.name == "text")
    slow = SlowModel(text.model)
    panel = Panel("slow", "a generic panel", slow)  # type: ignore[arg-type]
    with running([panel], Limits(workers=1, queue=1, wait=10)) as base:
        results: dict[str, tuple[int, Any, bytes]] = {}

        def ask(client: str) -> None:
            results[client] = request(f"{base}/api/generate/slow",
                                      {"client": client, "length": 10})

        first = threading.Thread(target=ask, args=("a",))
        first.start()
        time.sleep(0.3)
        second = threading.Thread(target=ask, args=("b",))  # waits in the queue
        second.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        assert request(f"{base}/api/generate/slow", {"client": "c"})[0] == 503
        assert request(f"{base}/api/generate/slow", {"client": "a"})[0] == 429
        assert time.monotonic() - t0 < 1.0  # refused at once, not queued
        slow.release.set()
        first.join()
        second.join()
        assert results["a"][0] == results["b"][0] == 200
        assert events(results["b"][2])[-1]["text"] == "slow"


def test_a_generation_past_the_time_limit_is_stopped(panels: list[Panel]) -> None:
    text = next(p for p in panels if p.name == "text")
    slow = SlowModel(text.model)
    with running([Panel("slow", "", slow)], Limits(seconds=0.3)) as base:  # type: ignore
        status, _, raw = request(f"{base}/api/generate/slow", {})
    slow.release.set()
    assert status == 200 and "stopped after 0.3 s" in events(raw)[-1]["error"]


def test_load_twenty_clients_at_once(panels: list[Panel]) -> None:
    """20 clients asking as fast as they can for 3 s: every request is answered, 200 or an
    immediate 429/503, and the server stays up (docs/reliability.md has a longer run)."""
    with running(panels, Limits(workers=2, queue=2)) as base:
        stop = time.monotonic() + 3.0

        def client(n: int) -> Counter[int]:
            seen: Counter[int] = Counter()
            while time.monotonic() < stop:
                status, _, raw = request(f"{base}/api/generate/text",
                                         {"client": f"c{n}", "length": 1500, "seed": n})
                assert status in (200, 429, 503), raw
                if status == 200:
                    assert events(raw)[-1]["type"] == "done"
                else:
                    assert json.loads(raw)["error"]
                seen[status] += 1
            return seen

        with ThreadPoolExecutor(20) as pool:
            total = sum((f.result() for f in [pool.submit(client, n) for n in range(20)]),
                        Counter())
        assert total[200] > 0 and total[503] > 0, total
        assert request(base + "/api/domains")[0] == 200


def test_serve_refuses_a_missing_run() -> None:
    from seqgen.serve.catalog import load_panels

    with pytest.raises(SeqgenError, match="no such run directory"):
        load_panels([Path("no-such-run")])
