"""The writing pad of `seqgen serve` over HTTP (issue 27): the listing offers lines to write and
the saved styles, drawn lines are saved as a style (InkML with their texts and pen times), the
panel writes with it by name, a text of several lines comes back as a page, and every bad
upload is a 4xx of one line of JSON. A saved style is fine-tuned on in the background: its
state goes from tuning to tuned, and the panel then writes with the tuned model (not with
--no-tune)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_helpers import events, panels_of, request, running

from seqgen.serve.catalog import Panel
from seqgen.serve.limits import Limits
from seqgen_handwriting.synth import make_writers, write_line


@pytest.fixture(scope="module")
def panels(tmp_path_factory: pytest.TempPathFactory) -> list[Panel]:
    return panels_of(tmp_path_factory.mktemp("serve-runs"))


@pytest.fixture(scope="module")
def url(panels: list[Panel]) -> Iterator[str]:
    with running(panels) as base:
        yield base


def listing(url: str, name: str = "handwriting") -> dict[str, Any]:
    found = json.loads(request(url + "/api/domains")[2])["domains"]
    return next(d for d in found if d["name"] == name)


def drawn(text: str, seed: int = 0) -> list[list[list[float]]]:
    """A line as a pad sends it: strokes of [x, y, t], CSS pixels (y down), ms at 120 Hz."""
    polys = write_line(text, make_writers(2, 0)[0], np.random.default_rng(seed))
    t, out = 0, []
    for p in polys:
        stroke = []
        for x, y in p:
            stroke.append([round(20 + 2.5 * float(x), 1), round(80 - 2.5 * float(y), 1), t])
            t += 8
        out.append(stroke)
        t += 120  # the pen lifted
    return out


def test_the_listing_offers_the_pad(url: str, panels: list[Panel]) -> None:
    hw = listing(url)
    assert hw["keeps_styles"] and hw["saved_styles"] == []
    chars = set(next(p for p in panels if p.name == "handwriting").model.vocab.chars)
    assert len(hw["prompts"]) == 5 and all(set(p) <= chars for p in hw["prompts"])
    assert len(set(hw["prompts"])) == 5
    assert not listing(url, "text")["keeps_styles"] and not listing(url, "speech")["prompts"]


def test_save_a_drawn_style_and_write_with_it(url: str, tmp_path: Path) -> None:
    prompts = listing(url)["prompts"][:3]
    lines = [{"text": p, "strokes": drawn(p, k)} for k, p in enumerate(prompts)]
    status, _, out = request(url + "/api/styles/handwriting", {"name": "my-hand", "lines": lines})
    assert status == 200, out
    answer = json.loads(out)
    assert answer.pop("state") in ("tuning", "tuned")  # fine-tuned on behind
    assert answer == {"saved": "my-hand", "lines": 3, "styles": ["my-hand"]}
    files = sorted((tmp_path / "styles/handwriting/my-hand").iterdir())
    assert [f.name for f in files] == ["0001.inkml", "0002.inkml", "0003.inkml"]
    first = files[0].read_text()
    assert '<channel name="T"' in first and f">{prompts[0]}<" in first.replace("&amp;", "&")
    assert listing(url)["saved_styles"] == ["my-hand"]
    assert request(url + "/api/styles/handwriting", {"name": "my-hand", "lines": lines})[0] == 409
    added = request(url + "/api/styles/handwriting",
                    {"name": "my-hand", "lines": lines[:1], "mode": "add"})
    assert added[0] == 200 and json.loads(added[2])["lines"] == 4
    # write a page of two lines with it: each line streams as its own row, the SVG has both
    status, _, raw = request(url + "/api/generate/handwriting",
                             {"text": "hi\nhi", "style": "my-hand", "seed": 1, "bias": 1})
    assert status == 200, raw
    got = events(raw)
    assert got[-1]["type"] == "done"
    assert {e["row"] for e in got if e["type"] == "points"} == {0, 1}
    status, _, svg = request(url + "/api/render", {"id": got[-1]["id"], "format": "svg"})
    assert status == 200 and svg.count(b'<g class="line"') == 2 and b"<path" in svg
    # a name never saved: one line naming the saved ones
    status, _, out = request(url + "/api/generate/handwriting",
                             {"text": "hi", "style": "nobody"})
    assert status == 400 and b"saved: my-hand" in out


def test_a_saved_style_is_tuned_on_in_the_background(url: str, tmp_path: Path) -> None:
    lines = [{"text": p, "strokes": drawn(p, k)} for k, p in enumerate(listing(url)["prompts"])]
    status, _, out = request(url + "/api/styles/handwriting", {"name": "tuned", "lines": lines})
    assert status == 200 and json.loads(out)["state"] in ("tuning", "tuned"), out
    deadline = time.monotonic() + 120
    while (state := listing(url)["style_states"]["tuned"]) == "tuning":
        assert time.monotonic() < deadline, "not tuned in 120 s"
        time.sleep(0.2)
    assert state == "tuned"
    (run,) = (tmp_path / "cache/styles/handwriting").glob("tuned-*")
    assert (run / "model.safetensors").is_file()
    for style, tuned in (("tuned", True), (0, False)):  # the model's own style: its own model
        status, _, raw = request(url + "/api/generate/handwriting",
                                 {"text": "hi", "style": style, "seed": 1, "bias": 1})
        assert status == 200, raw
        done = events(raw)[-1]
        assert done["type"] == "done" and done.get("tuned", False) is tuned


def test_no_tune_primes_only(panels: list[Panel], tmp_path: Path) -> None:
    lines = [{"text": "hi", "strokes": drawn("hi")}]
    with running(panels, tune=False) as base:
        status, _, out = request(base + "/api/styles/handwriting", {"name": "ann", "lines": lines})
        assert status == 200 and json.loads(out)["state"] == "primed only", out
        assert listing(base)["style_states"] == {"ann": "primed only"}
        status, _, raw = request(base + "/api/generate/handwriting",
                                 {"text": "hi", "style": "ann", "seed": 1})
        assert status == 200 and "tuned" not in events(raw)[-1]
    assert not (tmp_path / "cache/styles").exists()


POINT = [[[1, 2, 0], [3, 4, 8]]]


def bad_uploads() -> list[tuple[str, Any, int]]:
    lim = Limits()
    one = {"text": "hi", "strokes": POINT}
    many = [[[float(i), 0.0, float(i)] for i in range(lim.style_points + 1)]]
    return [
        ("handwriting", {"name": "a b", "lines": [one]}, 400),
        ("handwriting", {"name": "123", "lines": [one]}, 400),
        ("handwriting", {"name": "../x", "lines": [one]}, 400),
        ("handwriting", {"name": "ok", "lines": []}, 400),
        ("handwriting", {"name": "ok", "lines": [one], "path": "/tmp"}, 400),
        ("handwriting", {"name": "ok", "lines": [one], "mode": "merge"}, 400),
        ("handwriting", {"name": "ok", "lines": [{"text": "hi"}]}, 400),
        ("handwriting", {"name": "ok", "lines": [{"text": "", "strokes": POINT}]}, 400),
        ("handwriting", {"name": "ok", "lines": [{"text": "h\ni", "strokes": POINT}]}, 400),
        ("handwriting", {"name": "ok", "lines": [{"text": "\u20ac", "strokes": POINT}]}, 400),
        ("handwriting", {"name": "ok", "lines": [{"text": "hi", "strokes": [[[1, 2]]]}]}, 400),
        ("handwriting", {"name": "ok", "lines": [{"text": "hi", "strokes": [[[1, True, 0]]]}]},
         400),
        ("handwriting", {"name": "ok", "lines": [{"text": "hi", "strokes": [[[10**400, 0, 0]]]}]},
         400),
        ("handwriting", {"name": "ok", "lines": [{"text": "hi", "strokes": [[]]}]}, 400),
        ("handwriting", {"name": "ok", "lines": [{"text": "hi", "strokes": many}]}, 413),
        ("handwriting", {"name": "ok", "lines": [one] * (lim.style_lines + 1)}, 413),
        ("handwriting", b"x" * (lim.style_bytes + 1), 413),
        ("text", {"name": "ok", "lines": [one]}, 404),
        ("nope", {"name": "ok", "lines": [one]}, 404),
    ]


@pytest.mark.parametrize(("domain", "body", "status"), bad_uploads())
def test_bad_uploads_get_one_line_of_json(url: str, tmp_path: Path, domain: str, body: Any,
                                          status: int) -> None:
    raw = body if isinstance(body, bytes) else None
    got, head, out = request(f"{url}/api/styles/{domain}", None if raw else body, raw=raw,
                             method="POST")
    assert got == status, out
    assert head["Content-Type"] == "application/json"
    assert out.count(b"\n") == 1 and set(json.loads(out)) == {"error"}
    assert b"Traceback" not in out and str(tmp_path).encode() not in out
    assert not (tmp_path / "styles/handwriting/ok").exists()
