"""`seqgen serve` under crowded and hostile clients (issue 29), each on loopback and bounded to
seconds with small limits: a client rotating its `client` id cannot starve another address,
stalled and idle connections neither take every thread nor stop the page, bad numbers and deep
nesting are 400s, a client that goes away leaves nothing on stderr, every line break counts,
a tiny temperature is greedy, the standard library's refusals are one line of JSON, the Host
check and ::1, no server paths, the Origin check. benchmarks/hostile_serve.py runs the same
attacks at full size against a server in its own process."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from serve_helpers import events, panels_of, running, serving

from seqgen.engine.heads import CategoricalHead
from seqgen.serve.catalog import Panel, hide_paths
from seqgen.serve.connections import CLOSING
from seqgen.serve.limits import Gate, Limits, RequestError, address_key
from seqgen.serve.requests import settings_for
from seqgen.serve.server import allowed_hosts

Reply = tuple[int, dict[str, str], bytes]
HUGE = 10**400  # 401 digits: a fine JSON integer, too big for a float


@pytest.fixture(scope="module")
def panels(tmp_path_factory: pytest.TempPathFactory) -> list[Panel]:
    return panels_of(tmp_path_factory.mktemp("hostile-runs"))


@pytest.fixture(scope="module")
def url(panels: list[Panel]) -> Iterator[str]:
    with running(panels) as base:
        yield base


def ask(url: str, path: str, body: Any = None, *, source: str = "127.0.0.1",
        method: str = "POST", headers: dict[str, str] | None = None) -> Reply:
    """One request from the address ``source`` (Linux answers all of 127.0.0.0/8)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=30,
                                      source_address=(source, 0) if "." in host else None)
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    try:
        conn.request(method, path, body=data, headers={**sent, **(headers or {})})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def exchange(url: str, data: bytes, timeout: float = 10.0) -> Reply:
    """Raw bytes on a fresh connection; the answer, parsed (status 0: closed unanswered)."""
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout) as sock:
        sock.sendall(data)
        return answer_of(sock)


def answer_of(sock: socket.socket) -> Reply:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    if not head:
        return 0, {}, b""
    lines = head.decode("latin-1").split("\r\n")
    fields = (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
    return int(lines[0].split()[1]), {k.lower(): v.strip() for k, v in fields}, body


def one_line_refusal(reply: Reply) -> bool:
    """A refusal as every refusal: one line of JSON, {"error"}, with the security headers."""
    status, headers, body = reply
    return (status >= 400 and headers.get("content-type") == "application/json"
            and "base-uri 'none'" in headers.get("content-security-policy", "")
            and body.count(b"\n") == 1 and set(json.loads(body)) == {"error"})


def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    stop = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < stop, "timed out"
        time.sleep(0.01)


def test_the_gate_is_fair_between_addresses_whatever_the_client_id() -> None:
    """An address with the worker and the whole queue (four client ids) cannot keep out
    another: the newcomer takes the place of its newest request and runs next."""
    gate = Gate(Limits(workers=1, queue=3, wait=10))
    release, order, refused = threading.Event(), [], []

    def enter(address: str, name: str, hold: bool = False) -> None:
        try:
            with gate.enter(address, name):
                order.append(name)
                if hold:
                    release.wait(10)
        except RequestError as exc:
            refused.append((name, exc.status))

    threads = [threading.Thread(target=enter, args=("10.0.0.1", "a0", True))]
    threads += [threading.Thread(target=enter, args=("10.0.0.1", f"a{i}")) for i in (1, 2, 3)]
    for n, t in enumerate(threads):
        t.start()
        until(lambda n=n: len(order) + len(gate._waiting) == n + 1)
    enter("10.0.0.1", "a4")  # the queue is full and its address holds it all: 503 at once
    victim = threading.Thread(target=enter, args=("10.0.0.2", "v"))
    victim.start()
    until(lambda: ("a3", 503) in refused)  # gave its place to the other address
    release.set()
    for t in [*threads, victim]:
        t.join()
    assert order == ["a0", "v", "a1", "a2"] and sorted(refused) == [("a3", 503), ("a4", 503)]


def test_whose_share_a_request_counts_against() -> None:
    assert address_key("127.0.0.2") == "127.0.0.2"
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"  # IPv4 through a dual-stack socket
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:2") == "2001:db8::/64"
    assert address_key("fe80::1%eth0") == "fe80::/64" and address_key("?") == "?"


def test_a_client_rotating_its_id_cannot_starve_another_address(panels: list[Panel]) -> None:
    """Ten attackers at 127.0.0.1 ask for the longest text as fast as they can, a new client
    id each time; a victim at 127.0.0.2 asks every half second and is served every time."""
    limits = Limits(workers=1, queue=4, wait=10)
    with running(panels, limits) as base:
        stop = time.monotonic() + 3.0

        def attack() -> Counter[int]:
            seen: Counter[int] = Counter()
            while time.monotonic() < stop:
                body = {"length": limits.steps, "client": uuid.uuid4().hex}
                seen[ask(base, "/api/generate/text", body)[0]] += 1
            return seen

        with ThreadPoolExecutor(10) as pool:
            attacks = [pool.submit(attack) for _ in range(10)]
            time.sleep(0.3)
            mine, waits = Counter[int](), []
            while time.monotonic() < stop:
                t0 = time.monotonic()
                mine[ask(base, "/api/generate/text", {"length": 50, "client": "me"},
                         source="127.0.0.2")[0]] += 1
                waits.append(time.monotonic() - t0)
                time.sleep(0.5)
            theirs = sum((f.result() for f in attacks), Counter[int]())
    assert theirs[503] > 0 and theirs[200] > 0, theirs  # the queue was full, and churning
    assert mine[200] == sum(mine.values()) >= 3 and max(waits) < 5.0, (mine, waits)


def stall(url: str, n: int, data: bytes) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 5.0)
        sock.sendall(data)
        socks.append(sock)
    return socks


def test_stalled_connections_are_capped_cut_off_and_the_page_answers() -> None:
    limits = Limits(connections=20, read_seconds=1.0)
    threads = threading.active_count()
    with serving([], limits) as (server, base):
        head = (f"POST /api/generate/text HTTP/1.1\r\nHost: {base.removeprefix('http://')}\r\n"
                f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n").encode()
        socks = stall(base, 60, head)  # the headers, then never the body
        trickle = stall(base, 1, b"GET / HTTP/1.0\r\n")[0]  # then a byte every 0.2 s
        t0 = time.monotonic()
        assert ask(base, "/", method="GET")[0] == 200  # at the cap: the oldest stall makes room
        assert time.monotonic() - t0 < 1.0
        assert len(server.conns) <= 20 + CLOSING
        assert threading.active_count() - threads <= 20 + CLOSING + 1
        for _ in range(8):
            try:
                trickle.sendall(b"X")
            except OSError:
                break
            time.sleep(0.2)
        replies = [answer_of(s) for s in [*socks, trickle]]
        assert time.monotonic() - t0 < 4.0
    answers = Counter(r[0] for r in replies)  # 503: made room for another; 408: too slow
    assert set(answers) == {503, 408} and replies[-1][0] == 408, answers
    assert all(one_line_refusal(r) and r[1]["connection"] == "close" for r in replies)
    for s in [*socks, trickle]:
        s.close()


CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE,
                   (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from seqgen.serve.server import App, make_server
server = make_server(App([]), "127.0.0.1", 0)
print(server.server_address[1], server.cap, flush=True)
server.serve_forever()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_low_open_file_limit_neither_spins_nor_stops_the_page() -> None:
    """100 open files allowed (macOS's default is 256), 150 idle connections: the cap is 20,
    the accept loop rests, the page answers."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, "100"], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        port, cap = map(int, child.stdout.readline().split())
        base = f"http://127.0.0.1:{port}"
        socks = stall(base, 150, b"")
        time.sleep(0.5)

        def cpu() -> float:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # clock ticks, 100 a second

        before = cpu()
        time.sleep(1.0)
        assert cpu() - before < 30  # under a third of a core (spinning: all of one)
        assert ask(base, "/api/domains", method="GET")[0] == 200 and cap == 20
        assert len(list(Path(f"/proc/{child.pid}/fd").iterdir())) < 100
        for s in socks:
            s.close()
    finally:
        child.terminate()
        child.wait(10)


BAD_NUMBERS = [("text", {"temperature": HUGE}), ("text", {"top_p": HUGE}),
               ("text", {"temperature": -HUGE}), ("text", {"length": HUGE}),
               ("text", {"seed": HUGE}), ("handwriting", {"text": "hi", "bias": HUGE}),
               ("handwriting", {"text": "hi", "style": HUGE}), ("music", {"seconds": HUGE}),
               ("text", b"[" * 16_000), ("text", b'{"a": ' * 2_500), ("text", b'{"top_p": NaN}'),
               ("text", b'{"temperature": Infinity}'), ("text", b'{"seed": 1' + b"0" * 5000 + b"}")]


@pytest.mark.parametrize(("domain", "body"), BAD_NUMBERS)
def test_huge_numbers_and_deep_nesting_are_400(url: str, domain: str, body: Any) -> None:
    got = ask(url, f"/api/generate/{domain}", body)
    assert got[0] == 400 and one_line_refusal(got), got


def test_a_client_that_goes_away_leaves_nothing_on_stderr(
        url: str, capfd: pytest.CaptureFixture[str]) -> None:
    port = url.rsplit(":", 1)[1]
    head = (f"POST /api/generate/text HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n")
    for n in range(60):
        sock = socket.create_connection(("127.0.0.1", int(port)), 5.0)
        if n % 3 == 0:  # half a body, then gone
            sock.sendall((head % 100).encode() + b'{"length":')
        elif n % 3 == 1:  # a whole bad request, then reset before the 400 is read
            sock.sendall((head % 5).encode() + b"{bad}")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:  # half the headers
            sock.sendall(b"POST /api/generate/text HTTP/1.1\r\nHost: 127.0")
        sock.close()
    time.sleep(1.0)
    assert ask(url, "/api/domains", method="GET")[0] == 200
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("brk", ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85",
                                 "\u2028", "\u2029"])
def test_every_line_break_counts(brk: str) -> None:
    with pytest.raises(RequestError, match="one line"):
        settings_for("speech", {"text": f"hi{brk}ho"}, Limits())
    with pytest.raises(RequestError, match="one line"):
        settings_for("speech", {"text": f"hi{brk}"}, Limits())
    # handwriting writes a page: every break starts a line, as the engine splits the text,
    # and at most page_lines lines of them
    assert settings_for("handwriting", {"text": f"hi{brk}ho"}, Limits()).text == f"hi{brk}ho"
    with pytest.raises(RequestError, match="at most 12"):
        settings_for("handwriting", {"text": f"hi{brk}" * 13}, Limits())


def test_a_line_break_over_http_is_a_400(url: str) -> None:
    got = ask(url, "/api/generate/speech", {"text": "a\u2028" * 50})
    assert got[0] == 400 and b"one line" in got[2]
    got = ask(url, "/api/generate/handwriting", {"text": "a\u2028" * 50})
    assert got[0] == 400 and b"at most 12" in got[2]


def test_a_temperature_too_small_to_divide_by_is_greedy(url: str) -> None:
    head = CategoricalHead(4, 5)
    params = np.random.default_rng(0).normal(size=(3, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning
        for t in (1e-320, 1e-9, 0.0):
            got = head.sample(params, np.random.default_rng(1), temperature=t)
            assert (got == params.argmax(axis=1)).all()
    texts = [events(ask(url, "/api/generate/text",
                        {"length": 60, "seed": 1, "temperature": t})[2])[-1]["text"]
             for t in (1e-320, 0)]
    assert len(texts[0]) > 10 and texts[0] == texts[1]


RAW = [  # what is sent after the request line's method, the status
    (b"PUT / HTTP/1.0\r\n", 501), (b"DELETE / HTTP/1.0\r\n", 501),
    (b"OPTIONS /api/generate/text HTTP/1.0\r\n", 501), (b"TRACE / HTTP/1.0\r\n", 501),
    (b"PATCH / HTTP/1.0\r\n", 501), (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n", 414),
    (b"GET / HTTP/1.0\r\n" + b"X-A: b\r\n" * 101, 431),
    (b"GET / HTTP/1.0\r\nX-A: " + b"b" * 70_000 + b"\r\n", 431),
    (b"HELLO\r\n", 400), (b"GET / HTTP/9.9\r\n", 505), (b"GET / XTTP/1.0\r\n", 400),
]


@pytest.mark.parametrize(("head", "status"), RAW, ids=[str(s) for _, s in RAW])
def test_the_standard_librarys_refusals_are_one_line_of_json(
        url: str, head: bytes, status: int) -> None:
    got = exchange(url, head + f"Host: 127.0.0.1:{url.rsplit(':', 1)[1]}\r\n\r\n".encode())
    assert got[0] == status and one_line_refusal(got), got


def test_the_host_check_takes_the_default_port_and_ipv6_binds(url: str) -> None:
    hosts = allowed_hosts("127.0.0.1", 8765)
    assert {"127.0.0.1", "localhost:80", "[::1]:8765", "localhost:8765"} <= hosts
    assert "127.0.0.1:8766" not in hosts and allowed_hosts("0.0.0.0", 80) == set()
    for host, status in [("localhost", 200), ("LOCALHOST", 200), ("127.0.0.1:80", 200),
                         ("127.0.0.1:1", 421), ("evil.example", 421), ("", 421)]:
        assert ask(url, "/", method="GET", headers={"Host": host})[0] == status, host
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with serving([], host="::1") as (_, base):
        assert base.startswith("http://[::1]:")
        assert ask(base, "/", method="GET")[0] == 200
        assert ask(base, "/api/domains", method="GET", headers={"Host": "127.0.0.1"})[0] == 200


def test_no_server_path_reaches_a_client(tmp_path: Path) -> None:
    where = tmp_path / "home" / "zqxuser" / "runs"
    problem = f"no trained 'chess' run under {where}: train one with `seqgen train --domain chess`"
    with running([Panel("chess", "a board game", None, problem)]) as base:
        listing = ask(base, "/api/domains", method="GET")[2].decode()
        refused = ask(base, "/api/generate/chess", {})
    assert "zqxuser" not in listing and "zqxuser" not in refused[2].decode()
    assert refused[0] == 409 and json.loads(refused[2])["error"] == (
        "chess: no model (no trained 'chess' run: train one with `seqgen train --domain chess`)")
    assert hide_paths(r"cannot load C:\Users\ann\runs\x: bad") == "cannot load \u2026: bad"
    assert hide_paths("see ~/runs/x.") == "see \u2026."
    assert hide_paths("primer 'bach/bwv66.6' and 3/4 time") == "primer 'bach/bwv66.6' and 3/4 time"


def test_a_post_from_another_origin_is_403(url: str) -> None:
    own = url  # http://127.0.0.1:PORT, as a browser says it
    for origin in ("http://evil.example", "null", own.replace("127.0.0.1", "localhost"),
                   own + "1"):
        got = ask(url, "/api/generate/text", {"length": 5}, headers={"Origin": origin})
        assert got[0] == 403 and one_line_refusal(got), origin
    assert ask(url, "/api/generate/text", {"length": 5}, headers={"Origin": own})[0] == 200
    assert ask(url, "/api/generate/text", {"length": 5})[0] == 200  # curl sends none
    csp = ask(url, "/", method="GET")[1]["content-security-policy"]
    assert "base-uri 'none'" in csp and "form-action 'self'" in csp
