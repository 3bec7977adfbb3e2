"""`seqgen serve` harmonizes a tune: a real server on a free loopback port with a tiny
four-voice run; a shipped tune by name and an uploaded MIDI file keep their soprano note for
note, every bad request is a 4xx with one line of JSON, and an upload's file is gone after."""

from __future__ import annotations

import base64
import json
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_helpers import events, request, running, voices_panel

from seqgen.serve.catalog import Panel
from seqgen.serve.limits import Limits, RequestError
from seqgen.serve.requests import Offer, settings_for
from seqgen_music import melody

TUNE = [72, 74, 76, 77, 79]  # the uploaded MIDI's notes, a quarter each


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Panel:
    return voices_panel(tmp_path_factory.mktemp("serve-voices"))


@pytest.fixture(scope="module")
def url(panel: Panel) -> Iterator[str]:
    with running([panel]) as base:
        yield base


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's temporary folders land here (it runs in this process), to be counted."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, bool, int]]:
    """Each tune the domain reads: its path, whether it was there, its folder's mode."""
    seen: list[tuple[Path, bool, int]] = []
    real = melody.given

    def spy(source: str, relative: bool = False) -> np.ndarray:
        path = Path(source)
        mode = stat.S_IMODE(path.parent.stat().st_mode) if path.exists() else -1
        seen.append((path, path.is_file(), mode))
        return real(source, relative)

    monkeypatch.setattr(melody, "given", spy)
    return seen


def midi_bytes(folder: Path, pitches: list[int]) -> bytes:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=100)
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(80, p, i * 0.6, i * 0.6 + 0.6) for i, p in enumerate(pitches)]
    if pitches:
        pm.instruments.append(inst)
    pm.write(str(folder / "tune.mid"))
    return (folder / "tune.mid").read_bytes()


def upload(name: str, data: bytes) -> dict[str, Any]:
    return {"melody_file": {"name": name, "data": base64.b64encode(data).decode()}}


def harmonize(url: str, body: dict[str, Any]) -> dict[str, Any]:
    status, _, raw = request(f"{url}/api/generate/music", {"seed": 1, **body})
    assert status == 200, raw
    done = events(raw)[-1]
    assert done["type"] == "done" and done["melody"] is True, done
    assert len(done["voices"]) == len(done["notes"]) and set(done["voices"]) == {0, 1, 2, 3}
    return done


def soprano(done: dict[str, Any]) -> list[int]:
    return [int(n[2]) for n, v in zip(done["notes"], done["voices"], strict=True) if v == 0]


def test_the_listing_offers_the_tunes(url: str) -> None:
    listing = json.loads(request(url + "/api/domains")[2])
    music = listing["domains"][0]
    assert music["melodies"] == melody.tune_names() == ["new-britain", "old-hundredth", "twinkle"]
    assert {".mid", ".musicxml", ".abc"} <= set(music["melody_formats"])
    assert music["temperature"] == 0.8  # the voices model's own default
    assert music["melody_temperature"] == 0.6  # and its own for harmonizing
    assert listing["limits"]["upload_bytes"] == Limits().upload_bytes


@pytest.mark.parametrize("name", ["twinkle", "old-hundredth"])
def test_a_shipped_tune_keeps_its_soprano(url: str, name: str) -> None:
    done = harmonize(url, {"melody": name})
    line = melody.read_melody(name).line(0)
    assert soprano(done) == [p for _, _, p in line]
    starts = [n[0] for n, v in zip(done["notes"], done["voices"], strict=True) if v == 0]
    assert starts == pytest.approx([s * 15 / 100 for s, _, _ in line], abs=1e-3)  # qpm 100


def test_an_uploaded_midi_keeps_its_soprano_and_is_removed(
        url: str, tmp_path: Path, scratch: Path, opened: list[tuple[Path, bool, int]]) -> None:
    done = harmonize(url, upload("../../etc/my tune.MID", midi_bytes(tmp_path, TUNE)))
    assert soprano(done) == TUNE
    [(path, there, mode)] = opened
    assert there and mode == 0o700 and path.name == "melody.mid"  # the server's own name
    assert path.parent.parent == scratch and path.parent.name.startswith("seqgen-melody-")
    assert not path.exists() and list(scratch.iterdir()) == []  # gone after the request


def test_a_tune_with_no_notes_is_a_4xx(url: str, tmp_path: Path, scratch: Path,
                                      opened: list[tuple[Path, bool, int]]) -> None:
    status, head, raw = request(f"{url}/api/generate/music",
                                upload("empty.mid", midi_bytes(tmp_path, [])))
    assert status == 400 and head["Content-Type"] == "application/json", raw
    error = json.loads(raw)["error"]
    assert "no notes" in error and "empty.mid" in error and "seqgen-melody" not in error
    assert len(opened) == 1 and list(scratch.iterdir()) == []


TOO_BIG = bytes(Limits().upload_bytes + 1)
BAD = [  # the body, the status, a word of the message
    ({"melody": "yankee-doodle"}, 400, "choose one of"),
    ({"melody": "/etc/passwd"}, 400, "choose one of"),
    ({"melody": ["twinkle"]}, 400, "choose one of"),
    ({"melody": "twinkle", "primer": "bach/bwv66.6"}, 400, "primer is not used"),
    ({"melody": "twinkle", "seconds": 10}, 400, "seconds is not used"),
    ({"melody": "twinkle", **upload("t.mid", b"MThd")}, 400, "not both"),
    (upload("tune.txt", b"X:1\nK:C\nCDE|\n"), 400, "send one of"),
    (upload("tune", b"X:1\nK:C\nCDE|\n"), 400, "send one of"),
    ({"melody_file": {"name": "t.mid", "data": "not base64!"}}, 400, "not base64"),
    ({"melody_file": {"name": "t.mid", "data": ""}}, 400, "empty"),
    ({"melody_file": {"name": "t.mid"}}, 400, "melody_file must be"),
    ({"melody_file": "/etc/passwd"}, 400, "melody_file must be"),
    ({"melody_file": {"name": "t.mid", "data": "", "path": "/tmp/x"}}, 400, "must be"),
    (upload("t.mid", TOO_BIG), 413, "at most"),
    (upload("t.mid", b"not a MIDI file at all"), 400, "not readable"),
]


@pytest.mark.parametrize(("body", "status", "word"), BAD)
def test_bad_tunes_get_one_line_of_json(url: str, scratch: Path, body: dict[str, Any],
                                        status: int, word: str) -> None:
    got, head, out = request(f"{url}/api/generate/music", body)
    assert got == status, out
    assert head["Content-Type"] == "application/json" and b"Traceback" not in out
    assert out.count(b"\n") == 1 and word in json.loads(out)["error"]
    assert list(scratch.iterdir()) == []


def test_a_body_past_the_upload_room_is_413(url: str) -> None:
    room = Limits().body_room(True)
    status, _, out = request(f"{url}/api/generate/music", raw=b" " * (room + 1))
    assert status == 413 and f"at most {room}" in json.loads(out)["error"]


def test_an_upload_that_arrives_too_slowly_is_408(panel: Panel, tmp_path: Path,
                                                  scratch: Path) -> None:
    """A tune's bytes have ``read_seconds`` from connecting, as every request's body: half an
    upload, then nothing, is cut off with a 408 (one line of JSON) and writes no file."""
    data = json.dumps(upload("tune.mid", midi_bytes(tmp_path, TUNE))).encode()
    with running([panel], Limits(read_seconds=1.0)) as base:
        host = base.removeprefix("http://")
        head = (f"POST /api/generate/music HTTP/1.0\r\nHost: {host}\r\nContent-Type: "
                f"application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", int(host.rsplit(":", 1)[1])), 10) as sock:
            sock.sendall(head + data[:len(data) // 2])
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        waited = time.monotonic() - t0
    head_part, _, body = reply.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.0 408") and 0.9 < waited < 3.0, (reply, waited)
    assert body.count(b"\n") == 1 and "more than 1 s" in json.loads(body)["error"]
    assert list(scratch.iterdir()) == []


def test_settings_for_a_tune_and_the_default_temperature() -> None:
    offer = Offer(("twinkle",), (".mid",))
    s = settings_for("music", {"melody": "twinkle"}, Limits(), offer)
    assert (s.melody, s.length, s.prime, s.temperature) == ("twinkle", None, None, None)
    assert settings_for("music", {"temperature": 1.2}, Limits(), offer).temperature == 1.2
    assert settings_for("text", {}, Limits()).temperature == 1.0
    with pytest.raises(RequestError, match="takes no melody"):
        settings_for("music", {"melody": "twinkle"}, Limits())  # an events model: no offer
