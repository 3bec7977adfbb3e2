"""``seqgen serve``: a local playground in the browser, one panel per installed domain.

The server (server.py) is the standard library's ThreadingHTTPServer, with a cap on open
connections and a deadline on reading each request (connections.py); the page (static/) is
plain HTML, JavaScript, SVG and WebAudio, shipped as package data: it works offline. Models
load once at start (catalog.py); requests are bounded JSON (requests.py) through a queue fair
between client addresses (limits.py), and samples stream back as NDJSON (work.py).
docs/serve.md says how to use it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from seqgen.errors import SeqgenError

__all__ = ["LOOPBACK", "serve"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(host: str = "127.0.0.1", port: int = 8765, runs: Sequence[Path] = (),
          tune: bool = True) -> None:
    """Load every domain's model, listen on host:port and serve until interrupted; ``tune``:
    fine-tune on each style the writing pad saves, in the background (tuning.py)."""
    from seqgen.serve.catalog import load_panels
    from seqgen.serve.server import App, make_server

    if not 0 <= port <= 65535:
        raise SeqgenError(f"--port {port}: must be between 0 and 65535")
    if host not in LOOPBACK:
        print(f"seqgen serve: warning: listening on {host}: anyone who can reach this machine "
              f"can use the models (the default, 127.0.0.1, is this machine only)",
              file=sys.stderr)
    panels = load_panels(runs)
    for p in panels:
        said = f"run {p.run}" if p.model is not None else f"no model ({p.problem})"
        print(f"seqgen serve: {p.name}: {said}", file=sys.stderr)
    try:
        server = make_server(App(panels, tune=tune), host, port)
    except OSError as exc:
        raise SeqgenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = f"[{host}]" if ":" in host else host
    print(f"seqgen serve: http://{shown}:{server.server_address[1]}/  (Ctrl-C stops)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
