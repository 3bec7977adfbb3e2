"""`seqgen serve` under crowded and hostile clients (issue 29), on loopback, each case bounded
to seconds: a real server in its own process, serving the shipped models (an empty runs
folder) with its default limits and its open-file limit set to 256 (macOS's default); what
each attack got, and whether the page still answered. The figures in docs/reliability.md:

    python benchmarks/hostile_serve.py                        # this checkout
    git archive HEAD seqgen | tar -x -C /tmp/old              # a copy from before, say
    PYTHONPATH=/tmp/old python benchmarks/hostile_serve.py    # the same attacks on it

A victim's own address is 127.0.0.2 (Linux answers all of 127.0.0.0/8 on loopback), an
attacker's 127.0.0.1; a crowd's clients 127.0.0.10 and up. Takes about a minute.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HUGE = 10**400  # a JSON integer of 401 digits
Reply = tuple[int, dict[str, str], bytes]


def ask(port: int, path: str, body: object = None, *, method: str = "POST",
        headers: dict[str, str] | None = None, source: str = "127.0.0.1") -> Reply:
    """One request from the address ``source``: status, headers (lower-case names), body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=90, source_address=(source, 0))
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    try:
        conn.request(method, path, body=data, headers={**sent, **(headers or {})})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except OSError:
        return 0, {}, b""  # dropped: counted as status 0
    finally:
        conn.close()


def raw(port: int, data: bytes, *, answer: bool = True, timeout: float = 10.0) -> bytes:
    """Bytes sent on a fresh connection; the whole answer, or none (answer=False: the
    client goes away before its request is whole)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        while answer and (chunk := sock.recv(65536)):
            out += chunk
        return out


def parsed(reply: bytes) -> Reply:
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(ln.split(":", 1) for ln in lines[1:] if ":" in ln)
    return int(lines[0].split()[1]), {k.lower(): v.strip() for k, v in fields.items()}, body


def stalled(port: int, n: int) -> tuple[list[socket.socket], int]:
    """n connections that send a POST's headers and then nothing (the body never comes)."""
    socks, failed = [], 0
    head = (f"POST /api/generate/text HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n").encode()
    for _ in range(n):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2.0)
            sock.sendall(head)
            socks.append(sock)
        except OSError:
            failed += 1
    return socks, failed


def probes(port: int) -> None:
    """Each hostile request: its status, whether the refusal is one line of JSON, and whether
    it carries the security headers."""
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    asked = [(f"{k} of 401 digits", ask(port, f"/api/generate/{d}", {k: HUGE, **extra}))
             for k, d, extra in [("temperature", "text", {}), ("top_p", "text", {}),
                                 ("bias", "handwriting", {"text": "hi"}),
                                 ("seconds", "music", {})]]
    asked.append(("16,000 nested [", ask(port, "/api/generate/text", b"[" * 16_000)))
    asked += [(f"handwriting text with {c!r}", ask(port, "/api/generate/handwriting",
                                                   {"text": f"hi{c}ho"}))
              for c in ("\x0b", "\x0c", "\x1c", "\x85", "\u2028")]
    asked += [(m, ask(port, "/", method=m)) for m in ("PUT", "DELETE", "OPTIONS", "TRACE")]
    asked.append(("a 70,000-character URL", parsed(raw(
        port, b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n" + host + b"\r\n"))))
    asked.append(("101 headers", parsed(raw(
        port, b"GET / HTTP/1.0\r\n" + host + b"X-A: b\r\n" * 101 + b"\r\n"))))
    asked.append(("Host: 127.0.0.1 (no port)", ask(port, "/", method="GET",
                                                   headers={"Host": "127.0.0.1"})))
    asked.append(("Origin: http://evil.example", ask(
        port, "/api/generate/text", {"length": 10}, headers={"Origin": "http://evil.example"})))
    asked.append(("the 409 of a panel with no run", ask(port, "/api/generate/chess", {})))
    print("| probe | status | a refusal in one line of JSON | security headers |\n"
          "|---|---|---|---|")
    for label, (status, headers, body) in asked:
        try:
            one = body.count(b"\n") == 1 and set(json.loads(body)) == {"error"}
        except ValueError:
            one = False
        shown = one if status >= 400 else "-"
        print(f"| {label} | {status} | {shown} | {'content-security-policy' in headers} |")


def leaks(port: int, folder: Path) -> None:
    """Server paths in answers, what the generic prime says of the disk, the CSP."""
    listing = ask(port, "/api/domains", method="GET")[2]
    refused = ask(port, "/api/generate/chess", {})[2]
    primes = {p: ask(port, "/api/generate/dna", {"prime": p, "length": 5})[:3:2]
              for p in ("/etc/passwd", "/etc/no-such-file")}
    csp = ask(port, "/", method="GET")[1].get("content-security-policy", "")
    print(f"the runs folder named: in /api/domains {str(folder) in listing.decode()}, in the "
          f"409 {str(folder) in refused.decode()}; generic prime /etc/passwd and "
          f"/etc/no-such-file answered alike: {len(set(primes.values())) == 1} "
          f"{sorted(set(primes.values()))}; CSP has base-uri and form-action: "
          f"{'base-uri' in csp and 'form-action' in csp}")


def child(files: int) -> None:
    """The server: shipped models, a generic panel (the text model), a panel with no run."""
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (files, resource.getrlimit(
        resource.RLIMIT_NOFILE)[1]))
    from seqgen.errors import SeqgenError
    from seqgen.runs import resolve_run
    from seqgen.serve.catalog import Panel, load_panels
    from seqgen.serve.server import App, make_server

    panels = load_panels()
    text = next(p for p in panels if p.name == "text")
    try:
        resolve_run(None, "text")
        problem = "?"
    except SeqgenError as exc:  # "no trained 'text' run under /tmp/...: train one with ..."
        problem = str(exc)
    panels += [Panel("dna", "the text model, generic panel", text.model, run=text.run,
                     lock=text.lock), Panel("chess", "no run", None, problem)]
    server = make_server(App(panels), "127.0.0.1", 0)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class Server:
    """The child process: its port, pid, stderr (a file) and what /proc says of it."""

    def __init__(self, folder: Path, files: int) -> None:
        env = {**os.environ, "SEQGEN_RUNS": str(folder / "runs"), "OMP_NUM_THREADS": "1",
               "PYTHONWARNINGS": "default"}
        self.err = folder / "stderr.txt"
        self.proc = subprocess.Popen([sys.executable, __file__, "--child", str(files)],
                                     env=env, stdout=subprocess.PIPE,
                                     stderr=self.err.open("w"), text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.lines_at_start = self.lines()

    def lines(self) -> int:
        return len(self.err.read_text(errors="replace").splitlines())

    def threads(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("Threads")))

    def files(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def temperature(server: Server) -> None:
    before = server.lines()
    got: dict[float, str] = {}
    for t in (1e-320, 0):
        status, _, out = ask(server.port, "/api/generate/text",
                             {"length": 100, "seed": 1, "temperature": t})
        got[t] = json.loads(out.splitlines()[-1]).get("text", "") if status == 200 else ""
    print(f"temperature 1e-320: {len(got[1e-320])} characters, the same as temperature 0: "
          f"{got[1e-320] == got[0]}; stderr lines {server.lines() - before}")


def aborted(server: Server, n: int = 150) -> None:
    """Requests that send their headers and a tenth of the body, then close the connection."""
    before = server.lines()
    head = (f"POST /api/generate/text HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n").encode()
    for _ in range(n):
        raw(server.port, head + b'{"length":', answer=False)
    time.sleep(1.5)
    print(f"{n} requests aborted mid-body: {server.lines() - before} lines on stderr")


def stall(server: Server, n: int = 300) -> None:
    socks, failed = stalled(server.port, n)
    time.sleep(1.0)
    cpu = server.cpu()
    time.sleep(2.0)
    spin = (server.cpu() - cpu) / 2.0
    t0 = time.monotonic()
    try:
        status = raw(server.port, b"GET / HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n" % server.port,
                     timeout=5.0)[:12].decode(errors="replace") or "closed"
    except OSError as exc:
        status = f"no answer ({type(exc).__name__})"
    print(f"{n} stalled connections ({failed} not connected): server threads "
          f"{server.threads()}, open files {server.files()}, CPU {spin:.0%} of a core; "
          f"the page: {status!r} in {(time.monotonic() - t0) * 1000:.0f} ms")
    last, t0 = stalled(server.port, 1)[0], time.monotonic()
    what = stalled_answer(last[0], 13.0) if last else "not connected"
    print(f"one more stalled request: {what} after {time.monotonic() - t0:.1f} s; how the "
          f"{n} ended: {dict(Counter(stalled_answer(s, 0.2) for s in socks))}")
    for s in socks + last:
        s.close()


def stalled_answer(sock: socket.socket, wait: float) -> str:
    sock.settimeout(wait)
    try:
        got = sock.recv(64)
    except TimeoutError:
        return "no answer yet"
    except OSError as exc:
        return type(exc).__name__
    return got[9:12].decode() if got else "closed, no answer"


def starve(port: int, seconds: float, victim: str, steps: int, attackers: int = 24) -> None:
    """Attackers rotate their `client` as fast as they can; a victim asks once a second."""
    stop = time.monotonic() + seconds

    def attack() -> Counter[int]:
        seen: Counter[int] = Counter()
        while time.monotonic() < stop:
            seen[ask(port, "/api/generate/text",
                     {"length": steps, "client": uuid.uuid4().hex})[0]] += 1
        return seen

    with ThreadPoolExecutor(attackers) as pool:
        futures = [pool.submit(attack) for _ in range(attackers)]
        mine, waits = Counter[int](), []
        while time.monotonic() < stop - 1:
            t0 = time.monotonic()
            mine[ask(port, "/api/generate/text", {"length": 200, "client": "victim"},
                     source=victim)[0]] += 1
            waits.append(time.monotonic() - t0)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        theirs = sum((f.result() for f in futures), Counter())
    print(f"| {victim} | {dict(sorted(theirs.items()))} | {dict(sorted(mine.items()))} | "
          f"{sorted(waits)[len(waits) // 2]:.1f} s, {max(waits):.1f} s |")


def crowd(port: int, seconds: float, steps: int, n: int = 30) -> None:
    """n clients, each its own address, asking again at once when refused (load_serve.py)."""
    stop = time.monotonic() + seconds

    def one(i: int) -> Counter[int]:
        seen: Counter[int] = Counter()
        while time.monotonic() < stop:
            seen[ask(port, "/api/generate/text", {"length": steps, "client": f"c{i}"},
                     source=f"127.0.0.{10 + i}")[0]] += 1
        return seen

    with ThreadPoolExecutor(n) as pool:
        each = list(pool.map(one, range(n)))
    total = sum(each, Counter())
    served = sorted(c[200] for c in each)
    print(f"{n} clients for {seconds:g} s: {dict(sorted(total.items()))}; served per client "
          f"min {served[0]}, max {served[-1]}, never served {served.count(0)}")


def binds_ipv6() -> str:
    from seqgen.serve.server import App, make_server

    try:
        make_server(App([]), "::1", 0).server_close()
        return "binds"
    except OSError as exc:
        return f"cannot bind ({exc})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=10.0, help="each attack's length")
    ap.add_argument("--files", type=int, default=256, help="the server's open-file limit")
    args = ap.parse_args()
    if args.child is not None:
        return child(args.child)
    import seqgen

    print(f"seqgen from {Path(seqgen.__file__).parent}; --host ::1: {binds_ipv6()}")
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), args.files)
        try:
            limits = json.loads(ask(server.port, "/api/domains", method="GET")[2])["limits"]
            print(f"limits {limits}")
            probes(server.port)
            leaks(server.port, Path(tmp))
            temperature(server)
            aborted(server)
            stall(server)
            print("| victim's address | attackers (127.0.0.1) | victim, once a second | "
                  "victim's answer: median, longest |\n|---|---|---|---|")
            for victim in ("127.0.0.2", "127.0.0.1"):
                starve(server.port, args.seconds, victim, limits["steps"])
            crowd(server.port, args.seconds, limits["steps"])
            print(f"stderr: {server.lines() - server.lines_at_start} lines in all")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
