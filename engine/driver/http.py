"""HTTP/1.1 keep-alive client connection: one request in flight, parsed by httptools (llhttp).

A Connection times and records each response itself (response time from the intended send,
service time from the actual write) and then hands itself back to its owner: the open-model
pool or a closed-model virtual user. Failures never raise out of the loop; they become the
recorder's outcome codes: reset/EOF mid-response READ, write on a dead socket WRITE,
unparsable bytes PROTOCOL, an unexpected status STATUS_Nxx, a total-time overrun TIMEOUT
(found by the owner's periodic sweep, see ``expire``).
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import ssl
from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from functools import lru_cache
from time import monotonic_ns
from typing import Any, Protocol

from httptools import HttpParserError, HttpResponseParser

from engine.driver.redirects import head_location, redirect_request
from engine.driver.resolve import AddrInfo, literal_addresses
from engine.hotpath.native import OK, PROTOCOL, READ, STATUS_1XX, STATUS_5XX, TIMEOUT, WRITE
from engine.hotpath.traceparent import RequestSource

MAX_REDIRECTS = 10
"""Redirect hops followed per request by default (k6's default); a spec's ``redirects``
sets it per journey or step. A followed chain is timed and recorded as one request."""
STATUS_SLOTS = 600
"""Status counters per journey: slot = the status code (100..599); slot REDIRECT_SLOT
(status 0 never occurs) counts the redirect hops followed."""
REDIRECT_SLOT = 0

StatusCounts = Any
"""A flat int64 array (array('q')) of STATUS_SLOTS counters per journey, shared by a
worker's connections."""
StatusMap = tuple[int, ...]
"""Outcome by status code 0..599 for one request template (OK if expected)."""


def status_map(expect: tuple[int, ...]) -> StatusMap:
    """Outcome code per status code: OK when expected, else STATUS_1XX..STATUS_5XX."""
    out = [PROTOCOL] * 600
    for code in range(100, 600):
        out[code] = OK if code in expect else STATUS_1XX + code // 100 - 1
    return tuple(out)


class Owner(Protocol):
    """Who a connection reports back to."""

    def released(self, conn: Connection, reusable: bool) -> None:
        """The request ended (already recorded); ``reusable`` if the connection stays open."""

    def lost(self, conn: Connection) -> None:
        """The connection is gone (closed by either side); it must not be used again."""


class Timings(Protocol):
    """Receives Server-Timing values and says whether headers are worth parsing."""

    want_headers: bool

    def __call__(self, journey: int, raw: bytes) -> None: ...

    def observe(self, keep_reading: bool) -> None:
        """One response parsed with headers; ``keep_reading`` if headers keep mattering."""


class _NoHeaders:
    """Parser callbacks without on_header: httptools then builds no header bytes at all."""

    __slots__ = ("on_headers_complete", "on_message_complete")

    def __init__(self, conn: Connection) -> None:
        self.on_headers_complete = conn.on_headers_complete
        self.on_message_complete = conn.on_message_complete


class Sink(Protocol):
    def record(self, journey: int, intended_ns: int, sent_ns: int, done_ns: int,
               outcome: int) -> None: ...


@dataclass(frozen=True)
class Endpoint:
    """Where connections go: host/port, optional TLS context, timeouts in seconds."""

    host: str
    port: int
    ssl: ssl.SSLContext | None
    server_hostname: str | None
    connect_timeout_s: float
    host_header: str
    errors: list[str] = field(default_factory=list, compare=False)
    """The first connect failure of this worker, in words (at most one entry)."""


class Connection(asyncio.Protocol):
    """One keep-alive connection. ``send`` starts a request; the owner hears when it ends."""

    __slots__ = ("_again", "_follow", "_head", "_headers", "_hops", "_idle", "_max_hops",
                 "_queue", "_raw", "busy", "expect", "framed", "headers_done", "intended",
                 "journey", "location", "owner", "parser", "recorder", "sent", "st", "status",
                 "statuses", "step", "timings", "transport")
    needs_headers = False
    """Subclasses that read every response's headers set this (the probe never turns off)."""

    def __init__(self, recorder: Sink, owner: Owner, timings: Timings | None = None,
                 statuses: StatusCounts | None = None) -> None:
        self.recorder = recorder
        self.owner = owner
        self.timings = timings
        self.statuses = statuses
        self.transport: asyncio.Transport | None = None
        self._headers = True
        self.parser = HttpResponseParser(self)
        self.busy = False
        self.journey = self.step = self.status = 0
        self.intended = self.sent = 0
        self.expect: StatusMap = ()
        self.framed = self.headers_done = self._head = False
        self.st: bytes | None = None
        self._again: bytes | RequestSource | None = None
        self._follow: bytes | None = None
        self.location: bytes | None = None
        self._raw: bytes | None = None
        self._hops = 0
        self._max_hops = MAX_REDIRECTS
        self._idle: list[Connection] | None = None
        self._queue: Sized | None = None

    def rejoin(self, idle: list[Connection] | None, queue: Sized | None) -> None:
        """Open model, single-step journeys: after an answer a reusable connection appends
        itself to ``idle`` when ``queue`` is empty, without calling the owner's ``released``
        (what it would do then; the native twin saves a Python call per request this way).
        ``rejoin(None, None)``: call the owner again (the pool is closing)."""
        self._idle, self._queue = idle, queue

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.headers_done and not self._headers and self._follow is not None:
            # no header callbacks: keep the head's bytes, a 3xx's Location is read from them
            self._raw = data if self._raw is None else self._raw + data
        try:
            self.parser.feed_data(data)
        except HttpParserError:
            self._fail(PROTOCOL)
            return
        if self._head and self.headers_done and self.busy:
            # llhttp cannot be told a response answers HEAD: end it at the headers
            self._new_parser(self._headers)
            self._finish(self._outcome())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.busy:
            if exc is None and self.headers_done and not self.framed:
                self._finish(self._outcome())  # body delimited by the end of the stream
            else:
                self._finish(READ)
        self.owner.lost(self)

    # -- httptools callbacks ----------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        n = len(name)
        if n == 14 or n == 17:  # content-length / transfer-encoding frame the body
            low = name.lower()
            if low == b"content-length" or low == b"transfer-encoding":
                self.framed = True
        elif n == 13 and name.lower() == b"server-timing":
            self.st = value if self.st is None else self.st + b"," + value
        elif n == 8 and name.lower() == b"location":
            self.location = value

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.status = self.parser.get_status_code()
        if not self._headers:
            # without header callbacks (only after a probe saw framed keep-alive answers):
            # llhttp keeps a connection alive only when the body is framed (length/chunked)
            self.framed = self.parser.should_keep_alive()

    def on_message_complete(self) -> None:
        if self.busy and not self._head:
            if not self.parser.should_keep_alive() and self.transport is not None:
                self.transport.close()  # before _finish, so the owner does not reuse it
            self._finish(self._outcome())

    # -- requests ---------------------------------------------------------------------
    def send(self, data: bytes, journey: int, step: int, intended_ns: int,
             expect: StatusMap, head: bool, follow: bytes | None = None,
             max_hops: int = MAX_REDIRECTS) -> None:
        """Write one request; its outcome is recorded when it ends. ``follow`` is the Host
        header to follow up to ``max_hops`` same-origin redirects with (None: a 3xx is the
        answer)."""
        self.journey, self.step, self.expect = journey, step, expect
        self._head = head
        self._follow, self._hops, self._max_hops = follow, 0, max_hops
        timings = self.timings
        # headers only while they matter (the probe, or a subclass that reads them); a
        # redirect's Location is found in the head's raw bytes without them
        want = self.needs_headers or (self._headers if timings is None else timings.want_headers)
        if want != self._headers:
            self._new_parser(want)
        self._write(data, intended_ns)

    def _write(self, data: bytes, intended_ns: int, sent_ns: int = 0) -> None:
        self.busy = True
        self.intended = intended_ns
        self.framed = self.headers_done = False
        self.status = 0
        self.location = self._raw = None
        t = self.transport
        self.sent = sent_ns or monotonic_ns()
        if t is None or t.is_closing():
            self._fail(WRITE)
            return
        t.write(data)

    def expire(self, deadline_sent_ns: int) -> bool:
        """Record TIMEOUT and abort if the request in flight was sent before the deadline."""
        if self.busy and self.sent < deadline_sent_ns:
            self._fail(TIMEOUT)
            return True
        return False

    def repeat(self, data: bytes | RequestSource | None) -> None:
        """Closed-loop fast path: after each answer, send ``data`` again at once (same
        journey, step and expectations) without calling the owner; None turns it off. A
        TraceTemplate (bound to its context) writes each request anew, with its own
        traceparent."""
        self._again = data

    def close(self) -> None:
        """Drop the connection without recording anything (end of run)."""
        self.busy = False
        if self.transport is not None:
            self.transport.abort()

    def _new_parser(self, headers: bool) -> None:
        """Only between responses: one request in flight, so no bytes are pending."""
        self._headers = headers
        self.parser = HttpResponseParser(self if headers else _NoHeaders(self))

    def _redirect(self, outcome: int) -> bytes | None:
        """The request for the next hop when this answer is a redirect to follow."""
        follow = self._follow
        if (follow is None or outcome > STATUS_5XX or not 300 <= self.status < 400
                or self._hops >= self._max_hops):
            return None
        location = self.location
        if location is None and self._raw is not None:
            location = head_location(self._raw)
        return None if location is None else redirect_request(location, follow)

    def _outcome(self) -> int:
        s = self.status
        return self.expect[s] if 0 <= s < 600 else PROTOCOL

    def _fail(self, outcome: int) -> None:
        if self.transport is not None:
            self.transport.abort()  # first, so _finish does not hand it back for reuse
        self._finish(outcome)

    def _finish(self, outcome: int) -> None:
        done = monotonic_ns()
        self.busy = False
        hop = self._redirect(outcome)
        counts = self.statuses
        if counts is not None and 0 < self.status < STATUS_SLOTS:  # as the native twin counts
            counts[self.journey * STATUS_SLOTS + self.status] += 1
        t = self.transport
        if hop is not None and t is not None and not t.is_closing():
            # a followed hop: the chain is one request, timed from the first intended send
            self._hops += 1
            if counts is not None:
                counts[self.journey * STATUS_SLOTS + REDIRECT_SLOT] += 1
            self._write(hop, self.intended, self.sent)
            return
        self.recorder.record(self.journey, self.intended, self.sent, done, outcome)
        if self._headers and self.timings is not None:
            st = self.st
            # without headers, a truncated body is only detectable on framed keep-alive
            # answers: any other kind keeps the headers on
            self.timings.observe(st is not None or not self.framed
                                 or not self.parser.should_keep_alive())
            if st is not None:
                self.st = None
                self.timings(self.journey, st)
        t = self.transport
        reusable = t is not None and not t.is_closing()
        again = self._again
        if reusable and again is not None:
            self.send(again if isinstance(again, bytes) else again.next_request(), self.journey,
                      self.step, monotonic_ns(), self.expect, self._head, self._follow,
                      self._max_hops)
            return
        if reusable and self._idle is not None and not self._queue:
            self._idle.append(self)  # OpenPool.released's common case, without the call
            return
        self.owner.released(self, reusable)


MAX_ADDRESSES = 8
"""Resolved addresses tried in turn per connect (all within the one connect timeout)."""
_literal = lru_cache(maxsize=64)(literal_addresses)


async def open_connection(loop: asyncio.AbstractEventLoop, ep: Endpoint,
                          conn: Connection) -> bool:
    """Connect ``conn``; False (nothing recorded) on refusal, unreachable host or timeout.

    The name lookup and the connects share ``ep.connect_timeout_s``: a resolver that never
    answers costs that long, not the resolver's own 10 s and more."""
    resolved: list[bool] = []
    try:
        await asyncio.wait_for(_connect(loop, ep, conn, resolved), ep.connect_timeout_s)
    except (OSError, TimeoutError, ssl.SSLError, asyncio.CancelledError) as exc:
        if not ep.errors:
            ep.errors.append(connect_error(exc, ep.connect_timeout_s,
                                           "" if resolved else ep.host))
        return False
    return True


async def _connect(loop: asyncio.AbstractEventLoop, ep: Endpoint, conn: Connection,
                   resolved: list[bool]) -> None:
    infos: list[AddrInfo] | None = _literal(ep.host, ep.port)
    if infos is None:
        infos = list(await loop.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM))
    resolved.append(True)
    error = OSError(f"no address for {ep.host}")
    for family, _, _, _, addr in infos[:MAX_ADDRESSES]:
        try:
            await loop.create_connection(lambda: conn, addr[0], addr[1], ssl=ep.ssl,
                                         family=family, server_hostname=ep.server_hostname)
            return
        except OSError as exc:  # refused or unreachable here: try the next address
            error = exc
    raise error


ERROR_CHARS = 200
"""Bound on the connect error text carried from a worker to the run's validity reason."""


def connect_error(exc: BaseException, timeout_s: float, resolving: str = "") -> str:
    """A connect failure in a few words; TLS failures say so (and suggest plain HTTP).
    ``resolving`` names the host whose lookup was still running when it failed."""
    if resolving and isinstance(exc, (TimeoutError, asyncio.CancelledError)):
        text = f"DNS lookup of {resolving!r} timed out after {timeout_s:g}s"
    elif resolving and isinstance(exc, socket.gaierror):
        text = f"DNS lookup of {resolving!r} failed: {exc.strerror or exc}"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text = (f"TLS certificate verification failed: {exc.verify_message or exc.reason} "
                "(target tls: {ca_file: PEM} trusts its CA, tls: {verify: false} or "
                "PERFOPT_TLS_VERIFY=0 accepts a self-signed test certificate)")
    elif isinstance(exc, ssl.SSLError):
        text = (f"TLS handshake failed: {exc.reason or type(exc).__name__} "
                "(is the target plain HTTP?)")
    elif isinstance(exc, (TimeoutError, asyncio.CancelledError)):
        text = f"connect timed out after {timeout_s:g}s"
    else:
        text = (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__
    return text[:ERROR_CHARS]


def ssl_context(verify: bool, ca_file: str | None = None) -> ssl.SSLContext:
    """Client TLS context; ``verify`` False accepts self-signed test certificates;
    ``ca_file`` (PEM) is trusted besides the system CAs."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connection_factory() -> Callable[..., Connection]:
    """The native Connection twin (ext/driver.pxi) when the native hot path is selected,
    else the Python class above. PERFOPT_PURE=1 (engine.hotpath.native) forces the Python one."""
    from engine.hotpath import native

    if native.IMPLEMENTATION == "c" and not native.pure_requested():
        cls = getattr(importlib.import_module("engine.hotpath._native"), "CConnection", None)
        if cls is not None:
            return cls  # type: ignore[no-any-return]
    return Connection
