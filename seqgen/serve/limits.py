"""What one request may ask and how many run at once: the size limits, and the gate (a bounded
number of generations and a bounded queue, shared fairly between client addresses)."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
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
    page_chars: int = 600  # a handwriting text: a page of lines, each wrapped to the model's
    page_lines: int = 12  # lines of a handwriting text (before wrapping)
    steps: int = 2_000  # --length of a text or a generic sample
    music_seconds: float = 30.0  # the longest piece
    samples: int = 1  # --num: the page shows one sample at a time
    seconds: float = 60.0  # the longest generation, then it is stopped
    workers: int = 2  # generations running at once
    queue: int = 16  # requests waiting for a worker (fairly shared between addresses)
    wait: float = 30.0  # how long a waiting request waits before it is refused (503)
    upload_bytes: int = 256 * 1024  # a tune to harmonize, uploaded (decoded from base64)
    connections: int = 64  # connections open at once (fewer where the file limit is low)
    read_seconds: float = 10.0  # to send the request line, headers and body, from connecting
    style_bytes: int = 1_048_576  # a writing pad's upload: lines of pen strokes as JSON
    style_lines: int = 12  # lines in one upload
    style_strokes: int = 400  # strokes in one line
    style_points: int = 10_000  # pen points in one line (with their times)
    tune_queue: int = 8  # saved styles waiting to be fine-tuned on (one at a time, behind)
    tuned_models: int = 4  # models fine-tuned on a style kept loaded (least recently used out)

    def public(self) -> dict[str, Any]:
        return asdict(self)

    def body_room(self, upload: bool) -> int:
        """The largest body a request may send: a panel that takes an upload gets room for
        its base64 (4 characters per 3 bytes) over the usual JSON."""
        return self.body_bytes + (4 * -(-self.upload_bytes // 3) if upload else 0)


def address_key(address: str) -> str:
    """Whose share a request counts against: its peer address, the one thing a client does
    not write itself. An IPv4 client seen through an IPv6 socket is its IPv4 address; an IPv6
    client is its /64 (one host is given a whole /64 and may use any address in it)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(eq=False)
class Ticket:
    """One request at the gate: whose it is, what it needs, when it came, what became of it."""

    address: str
    tag: str
    lane: str  # one request at a time per lane (a model samples one request at a time)
    arrived: float = field(default_factory=time.monotonic)
    state: str = "waiting"  # then "running", or "refused" (its place given to another address)


class Gate:
    """At most ``workers`` requests run and ``queue`` wait, one at a time per lane (a panel's
    model, the renderer); who runs next is fair between client addresses, whatever a request's
    body says:

    - the next to run is a waiting request whose lane is free, from the address with the
      fewest running, then the one served longest ago (round robin), then the oldest request:
      an address alone may use every worker, and two addresses asking at once take turns;
    - when the queue is full, the newest waiting request of the address holding the most
      places gives its place to a newcomer from an address holding fewer (its request is
      refused with 503); a newcomer whose address already holds the most is refused at once.

    So a client sending many requests at once (under as many ``client`` ids as it likes) gets
    its turn, never every place. The page's id (``client``) is kept for one courtesy only: a
    tab that asks again while its first request is in flight gets 429."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._cond = threading.Condition()
        self._running: Counter[str] = Counter()
        self._lanes: set[str] = set()
        self._waiting: list[Ticket] = []  # in arrival order
        self._tags: set[tuple[str, str]] = set()
        self._served: dict[str, float] = {}  # when an address in flight last started one

    @contextmanager
    def enter(self, address: str, tag: str = "", lane: str = "") -> Iterator[None]:
        """Wait for a turn (or a RequestError: 429, or 503 when the queue is full or the wait
        runs out); ``lane`` "" shares no lane with any other request."""
        ticket = self._admit(Ticket(address, tag, lane))
        try:
            self._wait(ticket)
            yield
        finally:
            self._leave(ticket)

    def _admit(self, ticket: Ticket) -> Ticket:
        with self._cond:
            own = (ticket.address, ticket.tag)
            if ticket.tag and own in self._tags:
                raise RequestError(429, "one generation at a time per client: wait for the "
                                        "one running to finish")
            self._waiting.append(ticket)
            self._dispatch()
            if len(self._waiting) > self.limits.queue:
                out = self._evictee(ticket)
                self._waiting.remove(out)
                if out is ticket:
                    self._forget(ticket.address)
                    raise RequestError(503, "the server is busy: try again in a moment")
                out.state = "refused"
                self._cond.notify_all()
            if ticket.tag:
                self._tags.add(own)
            return ticket

    def _evictee(self, newcomer: Ticket) -> Ticket:
        """The waiting request that leaves a full queue: the newest of the address holding
        the most places, the newcomer's own address when it ties (a newcomer never pushes out
        an equal)."""
        held = Counter(t.address for t in self._waiting)
        most = max(held.values())
        if held[newcomer.address] == most:
            return newcomer
        heavy = {a for a, n in held.items() if n == most}
        return next(t for t in reversed(self._waiting) if t.address in heavy)

    def _dispatch(self) -> None:
        """Start waiting requests while a worker and their lane are free (see the class)."""
        while sum(self._running.values()) < self.limits.workers:
            ready = [t for t in self._waiting if not t.lane or t.lane not in self._lanes]
            if not ready:
                return
            nxt = min(ready, key=lambda t: (self._running[t.address],
                                            self._served.get(t.address, 0.0), t.arrived))
            self._waiting.remove(nxt)
            nxt.state = "running"
            self._running[nxt.address] += 1
            self._served[nxt.address] = time.monotonic()
            if nxt.lane:
                self._lanes.add(nxt.lane)
            self._cond.notify_all()

    def _wait(self, ticket: Ticket) -> None:
        deadline = ticket.arrived + self.limits.wait
        with self._cond:
            while ticket.state == "waiting":
                left = deadline - time.monotonic()
                if left <= 0:
                    self._waiting.remove(ticket)
                    ticket.state = "refused"
                    raise RequestError(503, f"the server is busy (waited "
                                            f"{self.limits.wait:g} s): try again in a moment")
                self._cond.wait(left)
            if ticket.state == "refused":
                raise RequestError(503, "the server is busy (its queue is shared fairly "
                                        "between addresses): try again in a moment")

    def _leave(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket.state == "running":
                self._running[ticket.address] -= 1
                if not self._running[ticket.address]:
                    del self._running[ticket.address]
                self._lanes.discard(ticket.lane)
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            ticket.state = "done"
            self._tags.discard((ticket.address, ticket.tag))
            self._forget(ticket.address)
            self._dispatch()

    def _forget(self, address: str) -> None:
        """An address with nothing in flight leaves the round robin (the table stays as small
        as the crowd at the gate); it comes back first in line, as a newcomer does."""
        if address not in self._running and all(t.address != address for t in self._waiting):
            self._served.pop(address, None)
