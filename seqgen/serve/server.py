"""The HTTP side of ``seqgen serve``: the standard library's ThreadingHTTPServer, one page and
its assets (package data, read once at start), and three JSON endpoints.

    GET  /                     the page;  GET /static/app.js, /static/style.css
    GET  /api/domains          the panels: which domains, their models, renderers, limits
    POST /api/generate/NAME    JSON settings in; NDJSON events out, the last {"type": "done"}
    POST /api/render           {"id", "format"} in; the sample's file out (a download)

Every refusal is a 4xx (or 503) with one line of JSON, {"error": "..."}, never a traceback.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from seqgen.errors import SeqgenError
from seqgen.serve.catalog import Panel
from seqgen.serve.limits import Gate, Limits, RequestError
from seqgen.serve.requests import client_of, parse_body, settings_for, upload_of
from seqgen.serve.work import Results, Stopped, generate, given_file, render_bytes

ASSETS = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/style.css": ("style.css", "text/css; charset=utf-8")}
TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".wav": "audio/wav",
         ".mid": "audio/midi", ".txt": "text/plain; charset=utf-8", ".inkml": "application/xml",
         ".musicxml": "application/vnd.recordare.musicxml+xml", ".json": "application/json"}
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                                      "media-src 'self' blob:; object-src 'none'; "
                                      "frame-ancestors 'none'"}


class App:
    """What the handlers share: the panels, the limits and gate, the kept samples, assets."""

    def __init__(self, panels: list[Panel], limits: Limits | None = None) -> None:
        self.panels = {p.name: p for p in panels}
        self.limits = limits or Limits()
        self.gate = Gate(self.limits)
        self.results = Results()
        base = resources.files("seqgen.serve") / "static"
        self.assets = {route: ((base / name).read_bytes(), kind)
                       for route, (name, kind) in ASSETS.items()}
        self.hosts: set[str] = set()  # the Host headers a request may carry (DNS rebinding)
        self.served = 0
        self._count = threading.Lock()

    def count(self) -> None:
        with self._count:
            self.served += 1

    def listing(self) -> dict[str, Any]:
        return {"domains": [p.public() for p in self.panels.values()],
                "limits": self.limits.public()}


class Handler(BaseHTTPRequestHandler):
    server_version = "seqgen-serve"
    app: App  # set on the class made for each server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per refused request only (the load test makes thousands)."""

    def _send(self, status: int, body: bytes, kind: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {**HEADERS, "Content-Type": kind,
                           "Content-Length": str(len(body)), **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode() + b"\n", "application/json", extra)

    def _error(self, exc: RequestError) -> None:
        extra = {"Retry-After": "1"} if exc.status in (429, 503) else None
        line = " ".join(str(exc).split())  # one line, whatever the message held
        self._json(exc.status, {"error": line}, extra)

    def _guard(self) -> None:
        """The Host header names this server (a page elsewhere cannot rebind its name)."""
        host = self.headers.get("Host", "")
        if self.app.hosts and host not in self.app.hosts:
            raise RequestError(421, f"Host {host[:60]!r} is not this server's")

    def do_GET(self) -> None:
        try:
            self._guard()
            path = self.path.split("?", 1)[0]
            if path in self.app.assets:
                body, kind = self.app.assets[path]
                return self._send(200, body, kind)
            if path == "/api/domains":
                return self._json(200, self.app.listing())
            if path == "/favicon.ico":
                return self._send(204, b"", "image/x-icon")
            if path.startswith("/api/"):
                raise RequestError(405, f"{path} takes a JSON POST")
            raise RequestError(404, f"no page {path[:60]!r}")
        except RequestError as exc:
            self._error(exc)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        try:
            self._guard()
            path = self.path.split("?", 1)[0]
            body = self._body(self._room(path))
            if path.startswith("/api/generate/"):
                return self._generate(path.removeprefix("/api/generate/"), body)
            if path == "/api/render":
                return self._render(body)
            raise RequestError(404, f"no endpoint {path[:60]!r}")
        except RequestError as exc:
            self._error(exc)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away
        except Exception as exc:  # never a traceback to the client; one line on stderr
            print(f"seqgen serve: error: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._error(RequestError(500, f"internal error: {type(exc).__name__}"))

    def _room(self, path: str) -> int:
        """The body a request to ``path`` may send: room for an upload where the panel's
        model takes a tune, the usual 16 KiB elsewhere."""
        panel = self.app.panels.get(path.removeprefix("/api/generate/"))
        uploads = path.startswith("/api/generate/") and panel is not None and bool(
            panel.offer.formats)
        return self.app.limits.body_room(uploads)

    def _body(self, room: int) -> dict[str, Any]:
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise RequestError(415, "send the request as JSON (Content-Type: application/json)")
        try:
            size = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise RequestError(411, "the request needs a Content-Length") from None
        if not 0 <= size <= room:
            raise RequestError(413, f"the body is {size} bytes: at most {room}")
        return parse_body(self.rfile.read(size))

    def _panel(self, name: str) -> Panel:
        panel = self.app.panels.get(name)
        if panel is None:
            raise RequestError(404, f"no domain {name[:40]!r}: this server has "
                                    f"{', '.join(self.app.panels)}")
        if panel.model is None:
            raise RequestError(409, f"{name}: no model ({panel.problem})")
        return panel

    def _render(self, body: dict[str, Any]) -> None:
        unknown = sorted(set(body) - {"id", "format", "client"})
        if unknown:
            raise RequestError(400, f"unknown field {unknown[0]!r}: give id and format")
        panel, samples, cache = self.app.results.get(body.get("id"))
        with self.app.gate.enter(client_of(self.client_address[0], body)):
            try:
                suffix, data = render_bytes(panel, samples, body.get("format"), cache)
            except SeqgenError as exc:
                raise RequestError(400, str(exc)) from None
        self.app.count()
        name = f"{panel.name}-sample{suffix}"
        self._send(200, data, TYPES.get(suffix, "application/octet-stream"),
                   {"Content-Disposition": f'attachment; filename="{name}"'})

    def _generate(self, name: str, body: dict[str, Any]) -> None:
        panel = self._panel(name)
        settings = settings_for(panel.view, body, self.app.limits, panel.offer)
        upload = upload_of(body, self.app.limits, panel.offer)
        with self.app.gate.enter(client_of(self.client_address[0], body)):
            stream = Stream(self)
            try:
                with given_file(upload, settings):
                    done = generate(panel, settings, stream.emit, self.app.limits,
                                    self.app.results)
            except (BrokenPipeError, ConnectionResetError):
                raise
            except (SeqgenError, Stopped) as exc:
                if not stream.started and isinstance(exc, SeqgenError):
                    raise RequestError(400, str(exc)) from None
                done = {"type": "error", "error": " ".join(str(exc).split())}
            except Exception as exc:
                if not stream.started:
                    raise
                print(f"seqgen serve: error: {type(exc).__name__}: {exc}", file=sys.stderr)
                done = {"type": "error", "error": f"internal error: {type(exc).__name__}"}
            stream.emit(done)
        self.app.count()


class Stream:
    """NDJSON events, one JSON object a line; the 200 goes out with the first event, so that
    a request refused before sampling starts still gets its 4xx."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.started = False

    def emit(self, event: dict[str, Any]) -> None:
        h = self.handler
        if not self.started:
            self.started = True
            h.send_response(200)
            for key, value in {**HEADERS, "Content-Type": "application/x-ndjson",
                               "X-Accel-Buffering": "no"}.items():
                h.send_header(key, value)
            h.end_headers()  # HTTP/1.0: the body ends when the connection closes
        h.wfile.write(json.dumps(event).encode() + b"\n")


class Server(ThreadingHTTPServer):
    #: connections waiting to be accepted (the standard library's 5 drops a crowd's)
    request_queue_size = 128


def make_server(app: App, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A server bound to host:port (port 0: a free one); serve_forever() runs it."""
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = Server((host, port), handler)
    server.daemon_threads = True
    bound = server.server_address[1]
    names = {host, "127.0.0.1", "localhost", "[::1]"} if host not in ("0.0.0.0", "::") else set()
    app.hosts = {f"{n}:{bound}" for n in names} if names else set()
    return server
