"""Load test of `seqgen serve` on loopback: N clients ask at once, as fast as they can, for S
seconds, a mix of every panel's generations (and a few bad requests); prints how many were
served (200), refused at once (429/503), failed otherwise (must be 0), the latencies, and
whether the server still answers. The figures in docs/reliability.md come from:

    python benchmarks/load_serve.py --clients 50 --seconds 20 \
        --run runs/text/X --run runs/music/Y --run runs/handwriting/Z --run runs/speech/W

With --url it loads a server already running; else it starts one in this process on a free
port, serving the --run directories (default: each domain's latest run). Its clients all ask
from 127.0.0.1, one address: the queue serves them first come, first served.
benchmarks/hostile_serve.py runs issue 29's attacks (clients of several addresses, stalled
connections, hostile requests).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MIX = [("text", {"prime": "All:", "length": 600}), ("text", {"length": 1500}),
       ("handwriting", {"text": "hello"}), ("music", {"seconds": 10}),
       ("speech", {"text": "hi there"}), ("text", {"length": 10**6}),  # refused: too long
       ("nope", {})]  # refused: no such domain


FAILURES: Counter[str] = Counter()


def ask(url: str, domain: str, body: dict[str, object]) -> tuple[int, float]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(f"{url}/api/generate/{domain}", data=data,
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            lines = r.read().decode().splitlines()
            status = 200 if json.loads(lines[-1]).get("type") == "done" else 299
    except urllib.error.HTTPError as exc:
        status = exc.code
        json.loads(exc.read())  # every refusal is one line of JSON
    except Exception as exc:  # a dropped connection, a reset, a bad body: counted as a failure
        FAILURES[type(exc).__name__] += 1
        status = 0
    return status, time.perf_counter() - t0


def client(url: str, n: int, stop: float, ready: set[str]) -> list[tuple[int, float]]:
    rng = random.Random(n)
    mix = [(d, b) for d, b in MIX if d in ready or d == "nope"]
    seen = []
    while time.monotonic() < stop:
        domain, body = rng.choice(mix)
        seen.append(ask(url, domain, {**body, "seed": rng.randrange(1000), "client": f"c{n}"}))
    return seen


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def report(results: list[tuple[int, float]], seconds: float, alive: bool) -> None:
    counts = Counter(s for s, _ in results)
    served = [t for s, t in results if s == 200]
    refused = [t for s, t in results if s in (429, 503)]
    bad = [t for s, t in results if 400 <= s < 500 and s != 429]
    failed = sum(1 for s, _ in results if s not in (200, 429, 503) and not 400 <= s < 500)
    print(f"requests {len(results)} in {seconds:.1f} s ({len(results) / seconds:.1f}/s); "
          f"statuses {dict(sorted(counts.items()))}")
    print(f"served {len(served)}: latency p50 {pct(served, .5) * 1000:.0f} ms, "
          f"p95 {pct(served, .95) * 1000:.0f} ms, max {max(served, default=0) * 1000:.0f} ms")
    print(f"refused at once (429/503) {len(refused)}: p50 {pct(refused, .5) * 1000:.1f} ms, "
          f"max {max(refused, default=0) * 1000:.0f} ms; bad requests (4xx) {len(bad)}")
    print(f"failed otherwise {failed} {dict(FAILURES)}; server alive afterwards: {alive}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--url", default=None)
    ap.add_argument("--run", type=Path, action="append", default=[])
    args = ap.parse_args()
    server = None
    url = args.url
    if url is None:
        from seqgen.serve.catalog import load_panels
        from seqgen.serve.server import App, make_server

        server = make_server(App(load_panels(args.run)), "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
    with urllib.request.urlopen(f"{url}/api/domains", timeout=30) as r:
        listing = json.loads(r.read())
    ready = {d["name"] for d in listing["domains"] if d["ready"]}
    print(f"{url}: {args.clients} clients for {args.seconds:g} s; panels {sorted(ready)}; "
          f"limits {listing['limits']}")
    stop = time.monotonic() + args.seconds
    t0 = time.monotonic()
    with ThreadPoolExecutor(args.clients) as pool:
        futures = [pool.submit(client, url, n, stop, ready) for n in range(args.clients)]
        results = [r for f in futures for r in f.result()]
    elapsed = time.monotonic() - t0
    try:
        with urllib.request.urlopen(f"{url}/api/domains", timeout=10) as r:
            alive = r.status == 200
    except OSError:
        alive = False
    report(results, elapsed, alive)
    if server is not None:
        server.shutdown()


if __name__ == "__main__":
    main()
