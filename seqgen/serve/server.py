"""The HTTP side of ``seqgen serve``: one page and its assets (package data, read once at
start), and four JSON endpoints, on the listening side of connections.py.

    GET  /                     the page;  GET /static/app.js, /static/style.css
    GET  /api/domains          the panels: which domains, their models, renderers, limits
    POST /api/generate/NAME    JSON settings in; NDJSON events out, the last {"type": "done"}
    POST /api/render           {"id", "format"} in; the sample's file out (a download)
    POST /api/styles/NAME      the writing pad's lines in; saved as a style by name, and
                               fine-tuned on in the background (tuning.py)

Every refusal, the standard library's own included (a malformed request line, 414, 431, 501),
is a 4xx (or 503) with one line of JSON, {"error": "..."}, and the security headers; never a
traceback, on the wire or on stderr.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any

from seqgen.errors import SeqgenError
from seqgen.serve.catalog import Panel, hide_paths
from seqgen.serve.connections import HEADERS, Server, Server6
from seqgen.serve.limits import Gate, Limits, RequestError, address_key
from seqgen.serve.pad import save_drawn
from seqgen.serve.requests import parse_body, settings_for, tag_of, upload_of
from seqgen.serve.tuning import PRIMED, Tuner
from seqgen.serve.tuning import say as log
from seqgen.serve.work import Results, Stopped, generate, given_file, render_bytes

#: an oversized body of up to this many bytes is read and dropped before its 413 (see _discard)
DISCARD = 4 << 20
ASSETS = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/pad.js": ("pad.js", "text/javascript; charset=utf-8"),
          "/static/style.css": ("style.css", "text/css; charset=utf-8")}
TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".wav": "audio/wav",
         ".mid": "audio/midi", ".txt": "text/plain; charset=utf-8", ".inkml": "application/xml",
         ".musicxml": "application/vnd.recordare.musicxml+xml", ".json": "application/json"}


class App:
    """What the handlers share: the panels, the limits and gate, the kept samples, assets,
    the background fine-tunes on saved styles (``tune``: on, as ``seqgen serve`` has it)."""

    def __init__(self, panels: list[Panel], limits: Limits | None = None,
                 tune: bool = True) -> None:
        self.panels = {p.name: p for p in panels}
        self.limits = limits or Limits()
        self.gate = Gate(self.limits)
        self.tuner = Tuner(self.limits, tune)
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
        domains = [p.public() for p in self.panels.values()]
        for d in domains:  # each saved style: tuned, tuning or primed only
            if d.get("keeps_styles"):
                d["style_states"] = self.tuner.states(self.panels[d["name"]])
        return {"domains": domains, "limits": self.limits.public()}


class Handler(BaseHTTPRequestHandler):
    server_version = "seqgen-serve"
    # not HTTP/0.9, the standard library's default: a request line that does not parse would
    # be answered with a bare body (no status line, no headers)
    default_request_version = "HTTP/1.0"
    app: App  # set on the class made for each server
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a refusal is the client's business (the load tests make thousands)."""

    def handle(self) -> None:
        """One request (HTTP/1.0: the connection closes after it). A client that goes away,
        or stops reading or sending for ``read_seconds``, costs its thread, nothing else."""
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request line or header, 414,
        431, 501 for another method, 505) as the handlers' own: one line of JSON."""
        self.close_connection = True
        if code == 501:
            message = f"method {self.command[:20]!r} is not supported: GET, HEAD or POST"
        shown = message or self.responses.get(code, ("refused",))[0]
        self._json(code, {"error": " ".join(shown.split())[:200]}, {"Connection": "close"})

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

    def _guard(self, post: bool) -> None:
        """The Host header names this server (a page elsewhere cannot rebind its name), and a
        POST that says where it comes from (Origin) comes from this server's own page."""
        host = self.headers.get("Host", "").lower()
        if self.app.hosts and host not in self.app.hosts:
            raise RequestError(421, f"Host {host[:60]!r} is not this server's")
        origin = self.headers.get("Origin")
        own = f"http://{host.removesuffix(':80')}"
        if post and origin is not None and origin.lower().removesuffix(":80") != own:
            raise RequestError(403, f"Origin {origin[:60]!r} is not this server's: only its "
                                    f"own page may ask it for work")

    def do_GET(self) -> None:
        if not self.server.request_read(self.connection):
            return  # closed for being too slow, or to make room: answered already
        try:
            self._guard(post=False)
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
        if not self.server.still_open(self.connection):
            return
        try:
            self._guard(post=True)
            path = self.path.split("?", 1)[0]
            body = self._body(self._room(path))
            if path.startswith("/api/generate/"):
                return self._generate(path.removeprefix("/api/generate/"), body)
            if path == "/api/render":
                return self._render(body)
            if path.startswith("/api/styles/"):
                return self._save_style(path.removeprefix("/api/styles/"), body)
            raise RequestError(404, f"no endpoint {path[:60]!r}")
        except RequestError as exc:
            self._error(exc)
        except (ConnectionError, TimeoutError):
            pass  # the client went away, or stopped sending or reading
        except Exception as exc:  # never a traceback to the client; one line on stderr
            print(f"seqgen serve: error: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._error(RequestError(500, f"internal error: {type(exc).__name__}"))

    def _room(self, path: str) -> int:
        """The body a request to ``path`` may send: room for an upload where the panel's
        model takes a tune, the usual 16 KiB elsewhere."""
        if path.startswith("/api/styles/"):
            return self.app.limits.style_bytes  # a writing pad's lines of pen strokes
        panel = self.app.panels.get(path.removeprefix("/api/generate/"))
        uploads = path.startswith("/api/generate/") and panel is not None and bool(
            panel.offer.formats)
        return self.app.limits.body_room(uploads)

    def _discard(self, size: int) -> None:
        """Read and drop an oversized body of up to DISCARD bytes, so that the client hears
        the 413 rather than a reset while it is still sending; a larger one is not read."""
        left = size if 0 < size <= DISCARD else 0
        while left > 0:
            got = self.rfile.read(min(left, 1 << 16))
            if not got:
                return
            left -= len(got)

    def _body(self, room: int) -> dict[str, Any]:
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise RequestError(415, "send the request as JSON (Content-Type: application/json)")
        try:
            size = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise RequestError(411, "the request needs a Content-Length") from None
        if not 0 <= size <= room:
            self._discard(size)
            raise RequestError(413, f"the body is {size} bytes: at most {room}")
        data = self.rfile.read(size)
        if len(data) < size or not self.server.request_read(self.connection):
            raise ConnectionAbortedError  # gone mid-body, or closed for being too slow
        return parse_body(data)

    def _panel(self, name: str) -> Panel:
        panel = self.app.panels.get(name)
        if panel is None:
            raise RequestError(404, f"no domain {name[:40]!r}: this server has "
                                    f"{', '.join(self.app.panels)}")
        if panel.model is None:
            raise RequestError(409, f"{name}: no model ({panel.shown_problem})")
        return panel

    def _render(self, body: dict[str, Any]) -> None:
        unknown = sorted(set(body) - {"id", "format", "client"})
        if unknown:
            raise RequestError(400, f"unknown field {unknown[0]!r}: give id and format")
        panel, samples, cache = self.app.results.get(body.get("id"))
        # one lane for every render: they share a lock (work.render_bytes: pyplot)
        with self.app.gate.enter(address_key(self.client_address[0]), tag_of(body), "render"):
            try:
                suffix, data = render_bytes(panel, samples, body.get("format"), cache)
            except SeqgenError as exc:
                raise RequestError(400, hide_paths(str(exc))) from None
        self.app.count()
        name = f"{panel.name}-sample{suffix}"
        self._send(200, data, TYPES.get(suffix, "application/octet-stream"),
                   {"Content-Disposition": f'attachment; filename="{name}"'})

    def _save_style(self, name: str, body: dict[str, Any]) -> None:
        """The writing pad's lines saved as a style by name (pad.save_drawn)."""
        panel = self._panel(name)
        assert panel.model is not None
        with self.app.gate.enter(address_key(self.client_address[0]), tag_of(body), "styles"):
            try:
                saved = save_drawn(panel.model, body, self.app.limits)
            except SeqgenError as exc:
                raise RequestError(400, hide_paths(str(exc))) from None
        try:  # saved: a fine-tune on it starts behind (never this request's failure)
            saved["state"] = self.app.tuner.request(panel, saved["saved"])
        except Exception as exc:
            log(f"{name}: cannot fine-tune on style {saved['saved']!r}: "
                f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
            saved["state"] = PRIMED
        self.app.count()
        self._json(200, saved)

    def _generate(self, name: str, body: dict[str, Any]) -> None:
        panel = self._panel(name)
        settings = settings_for(panel.view, body, self.app.limits, panel.offer)
        upload = upload_of(body, self.app.limits, panel.offer)
        lane = f"model {id(panel.lock)}"  # the lock a sample holds: one request at a time
        with self.app.gate.enter(address_key(self.client_address[0]), tag_of(body), lane):
            stream = Stream(self)
            try:
                model = self.app.tuner.model_for(panel, settings.style)  # a tuned style's
                with given_file(upload, settings):
                    done = generate(panel, settings, stream.emit, self.app.limits,
                                    self.app.results, model)
            except (ConnectionError, TimeoutError):
                raise
            except (SeqgenError, Stopped) as exc:
                if not stream.started and isinstance(exc, SeqgenError):
                    raise RequestError(400, hide_paths(str(exc))) from None
                done = {"type": "error", "error": " ".join(hide_paths(str(exc)).split())}
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


def make_server(app: App, host: str = "127.0.0.1", port: int = 8765) -> Server:
    """A server bound to host:port (port 0: a free one; an IPv6 address such as ::1 is
    bound as IPv6); serve_forever() runs it."""
    # the socket's own timeout is a backstop (the accept loop answers a late request 408 at
    # read_seconds) and the bound on a client that stops reading what it asked for
    handler = type("BoundHandler", (Handler,), {"app": app,
                                                "timeout": app.limits.read_seconds + 2.0})
    server = (Server6 if ":" in host else Server)((host, port), handler, app.limits)
    app.hosts = allowed_hosts(host, server.server_address[1])
    return server


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host headers a request may carry: this machine's loopback names and the address
    bound, each with the server's port or with none or :80 (a browser leaves out the
    scheme's default port); any Host where the server listens on every address."""
    if host in ("0.0.0.0", "::", ""):
        return set()
    names = {f"[{host}]" if ":" in host else host, "127.0.0.1", "localhost", "[::1]"}
    return {f"{n}{p}" for n in {n.lower() for n in names} for p in ("", ":80", f":{port}")}
