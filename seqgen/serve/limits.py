"""What one request may ask and how many run at once: the size limits, and the gate (a bounded
number of generations, a short bounded queue, one generation per client)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any


class RequestError(Exception):
    """A request refused: an HTTP status and the one line the client reads."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """The server's bounds, shown on the page and enforced on every request."""

    body_bytes: int = 16_384  # a request's JSON body
    text_chars: int = 200  # a text to write or speak, a prime
    steps: int = 2_000  # --length of a text or a generic sample
    music_seconds: float = 30.0  # the longest piece
    samples: int = 1  # --num: the page shows one sample at a time
    seconds: float = 60.0  # the longest generation, then it is stopped
    workers: int = 2  # generations running at once
    queue: int = 4  # requests waiting for a worker; more are refused at once (503)
    wait: float = 30.0  # how long a waiting request waits before it is refused (503)
    upload_bytes: int = 256 * 1024  # a tune to harmonize, uploaded (decoded from base64)

    def public(self) -> dict[str, Any]:
        return asdict(self)

    def body_room(self, upload: bool) -> int:
        """The largest body a request may send: a panel that takes an upload gets room for
        its base64 (4 characters per 3 bytes) over the usual JSON."""
        return self.body_bytes + (4 * -(-self.upload_bytes // 3) if upload else 0)


class Gate:
    """At most ``workers`` generations run and ``queue`` wait; a client (its address and the
    page's client id) has at most one in flight. Refusals are immediate: 429 for a client that
    already has one, 503 when the queue is full or the wait runs out."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._places = threading.BoundedSemaphore(limits.workers + limits.queue)
        self._running = threading.BoundedSemaphore(limits.workers)
        self._clients: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def enter(self, client: str) -> Iterator[None]:
        with self._lock:
            if client in self._clients:
                raise RequestError(429, "one generation at a time per client: wait for the "
                                        "one running to finish")
            if not self._places.acquire(blocking=False):
                raise RequestError(503, "the server is busy: try again in a moment")
            self._clients.add(client)
        try:
            if not self._running.acquire(timeout=self.limits.wait):
                raise RequestError(503, f"the server is busy (waited {self.limits.wait:g} s): "
                                        f"try again in a moment")
            try:
                yield
            finally:
                self._running.release()
        finally:
            with self._lock:
                self._clients.discard(client)
                self._places.release()
