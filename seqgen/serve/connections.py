"""The listening side of ``seqgen serve``: the standard library's ThreadingHTTPServer with a cap
on open connections and a deadline on reading each request, so that a crowd of idle or stalled
connections cannot take every thread, every file descriptor, or the page.

- At most ``Limits.connections`` connections are open at once (fewer where the process may
  open few files: macOS's default is 256). At the cap a newcomer takes the place of the oldest
  connection still sending its request (which is told 503 and closed); where every
  connection is past that (a generation streaming, say), the newcomer is told 503 and closed
  at once. Either way the accept loop answers every connection: it never spins.
- Each connection has ``Limits.read_seconds`` from connecting to send its request line,
  headers and body; then it is told 408 and closed (the accept loop checks twice a second).
- A client that goes away costs nothing but its thread: no traceback, no line on stderr.

Every answer given here, where no handler exists yet, is the same one line of JSON with the
same headers as the handlers' own refusals (``refusal``).
"""

from __future__ import annotations

import errno
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

from seqgen.serve.limits import Limits

HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                                      "media-src 'self' blob:; object-src 'none'; "
                                      "frame-ancestors 'none'; base-uri 'none'; "
                                      "form-action 'self'"}
REASONS = {408: "Request Timeout", 503: "Service Unavailable"}
#: descriptors kept back from the cap for the listening socket, models, renders, stdio
SPARE_FILES = 64
#: evicted connections still closing, beyond the cap (each closes as soon as its thread runs)
CLOSING = 16


def json_line(message: str) -> bytes:
    """The body of every refusal: {"error": "..."} on one line."""
    return json.dumps({"error": " ".join(message.split())}).encode() + b"\n"


def refusal(status: int, message: str) -> bytes:
    """A whole HTTP response, for a socket that has no handler (or none any more)."""
    body = json_line(message)
    head = {**HEADERS, "Content-Type": "application/json", "Content-Length": str(len(body)),
            "Connection": "close", **({"Retry-After": "1"} if status == 503 else {})}
    lines = [f"HTTP/1.0 {status} {REASONS.get(status, 'Error')}"]
    lines += [f"{k}: {v}" for k, v in head.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def connection_cap(limits: Limits) -> int:
    """``limits.connections``, or fewer where the process may open few files."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return limits.connections
    if soft == resource.RLIM_INFINITY:
        return limits.connections
    return max(4, min(limits.connections, soft - SPARE_FILES - CLOSING))


@dataclass(eq=False)
class Conn:
    """An open connection: when it came, and whether its request is still coming in."""

    sock: socket.socket
    since: float
    reading: bool = True
    evicted: bool = False


def _tell(sock: socket.socket, status: int, message: str) -> None:
    """Best effort, never blocking: the answer may not fit or the peer may be gone."""
    try:
        sock.setblocking(False)
        sock.send(refusal(status, message))
    except OSError:
        pass


class Server(ThreadingHTTPServer):
    #: connections waiting to be accepted (the standard library's 5 drops a crowd's)
    request_queue_size = 128
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, limits: Limits) -> None:
        self.limits = limits
        self.cap = connection_cap(limits)
        self.conns: dict[socket.socket, Conn] = {}
        self._lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                time.sleep(0.1)  # out of descriptors: wait for some to close, do not spin
            raise

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            if len(self.conns) >= self.cap and not self._make_room():
                _tell(request, 503, "the server has too many connections open: try again "
                                    "in a moment")
                self.shutdown_request(request)
                return
            self.conns[request] = Conn(request, time.monotonic())
        try:
            super().process_request(request, client_address)
        except RuntimeError:  # no thread to be had
            self._forget(request)
            raise

    def _make_room(self) -> bool:
        """Evict the oldest connection still sending its request, for a newcomer."""
        if len(self.conns) >= self.cap + CLOSING:
            return False
        reading = [c for c in self.conns.values() if c.reading and not c.evicted]
        if not reading:
            return False
        self._evict(min(reading, key=lambda c: c.since), 503,
                    "the server has too many connections open: try again in a moment")
        return True

    def _evict(self, conn: Conn, status: int, message: str) -> None:
        conn.evicted = True
        _tell(conn.sock, status, message)
        try:  # its thread, blocked reading, sees the end of the stream and finishes
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def service_actions(self) -> None:
        """Between accepts, and twice a second: close the requests past their deadline."""
        late = time.monotonic() - self.limits.read_seconds
        with self._lock:
            for conn in list(self.conns.values()):
                if conn.reading and not conn.evicted and conn.since < late:
                    self._evict(conn, 408, f"the request took more than "
                                           f"{self.limits.read_seconds:g} s to arrive")

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._forget(request)

    def _forget(self, request: socket.socket) -> None:
        with self._lock:
            self.conns.pop(request, None)

    def still_open(self, sock: socket.socket) -> bool:
        """False once the connection was evicted (it is answered already)."""
        with self._lock:
            conn = self.conns.get(sock)
            return conn is not None and not conn.evicted

    def request_read(self, sock: socket.socket) -> bool:
        """The handler has its whole request: no deadline, no eviction from now on. False if
        the connection was evicted meanwhile (it is answered already)."""
        with self._lock:
            conn = self.conns.get(sock)
            if conn is None or conn.evicted:
                return False
            conn.reading = False
            return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, never a traceback; nothing at all for a client that went away."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        print(f"seqgen serve: error: {type(exc).__name__}: {exc}", file=sys.stderr)


class Server6(Server):
    address_family = socket.AF_INET6
