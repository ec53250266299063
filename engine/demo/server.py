"""A small HTTP/1.1 JSON server on asyncio + httptools (llhttp).

One :class:`HttpProtocol` per connection parses requests (keep-alive,
pipelining, ``Content-Length`` and chunked bodies) and answers them strictly
in order. Routing, fault injection and the ``Server-Timing`` header live in
:class:`App`. Malformed input gets a 4xx and the connection is closed; the
server itself never dies from a client's bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import cast
from urllib.parse import parse_qsl, urlsplit

import httptools

from engine.demo import otel

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
_PAUSE_AT, _RESUME_AT = 32, 8  # pipelined requests queued per connection
_NO_TIMING = "db;dur=0.000, app;dur=0.000"  # for errors answered before any handler ran


@dataclass(frozen=True)
class Request:
    """A parsed request; ``query`` keeps the first value of each parameter."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)  # from {name} route segments


@dataclass(frozen=True)
class Response:
    """A JSON response; ``body`` must be serialisable by :func:`json.dumps`."""

    status: int
    body: object
    headers: tuple[tuple[str, str], ...] = ()


class HttpError(Exception):
    """Raised by handlers for a client error: becomes ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Timings:
    """Per-request time accumulators in nanoseconds for ``Server-Timing``.

    ``cache_ns`` and ``ext_ns`` stay ``None`` unless a handler used a cache or
    a (simulated) downstream call, so the header names only what happened.
    """

    db_ns: int = 0
    cache_ns: int | None = None
    ext_ns: int | None = None

    @contextlib.contextmanager
    def db(self) -> Iterator[None]:
        """Time a block of database work."""
        t0 = time.perf_counter_ns()
        try:
            yield
        finally:
            self.db_ns += time.perf_counter_ns() - t0

    @contextlib.contextmanager
    def cache(self) -> Iterator[None]:
        """Time a cache lookup or store."""
        t0 = time.perf_counter_ns()
        try:
            yield
        finally:
            self.cache_ns = (self.cache_ns or 0) + time.perf_counter_ns() - t0

    @contextlib.contextmanager
    def ext(self) -> Iterator[None]:
        """Time downstream calls (wall time, concurrent calls overlap)."""
        t0 = time.perf_counter_ns()
        try:
            yield
        finally:
            self.ext_ns = (self.ext_ns or 0) + time.perf_counter_ns() - t0

    def header(self, app_ns: int) -> str:
        """Render as a W3C Server-Timing value, durations in ms with 3 decimals."""
        parts = [f"db;dur={self.db_ns / 1e6:.3f}"]
        if self.cache_ns is not None:
            parts.append(f"cache;dur={self.cache_ns / 1e6:.3f}")
        if self.ext_ns is not None:
            parts.append(f"ext;dur={self.ext_ns / 1e6:.3f}")
        parts.append(f"app;dur={app_ns / 1e6:.3f}")
        return ", ".join(parts)


Handler = Callable[[Request, Timings], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    """``pattern`` is a path like ``/users/{id}``; ``{name}`` matches one segment."""

    method: str
    pattern: str
    handler: Handler

    def match(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        """Return the captured parameters, or None when the path differs."""
        mine = self.pattern.strip("/").split("/")
        if len(mine) != len(segments):
            return None
        params: dict[str, str] = {}
        for want, got in zip(mine, segments, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


@dataclass(frozen=True)
class Faults:
    """Planted faults: slowdown in % of handling time (>= 0), leak in KB per
    request (>= 0), and the in-flight limit beyond which we answer 503 (0 = none)."""

    slowdown_pct: float = 0.0
    leak_kb: int = 0
    max_inflight: int = 0


_LEAKED: list[bytes] = []  # the planted memory leak; never cleared on purpose


@dataclass
class RawRequest:
    """What the protocol hands to the app: parsed bytes, not yet routed."""

    method: str
    url: bytes
    headers: dict[str, str]
    body: bytes


class App:
    """Routes requests, applies faults and renders responses to bytes."""

    def __init__(self, routes: list[Route], faults: Faults = Faults()) -> None:
        self.routes = routes
        self.faults = faults
        self.inflight = 0

    async def respond(self, raw: RawRequest) -> tuple[Response, str]:
        """Handle one request: the response and its Server-Timing value.

        Never raises (except cancellation): handler bugs become a 500."""
        t0 = time.perf_counter_ns()
        timings = Timings()
        try:
            with otel.server_span(raw.method, raw.url, raw.headers):
                resp = await self._dispatch(raw, timings)
        except HttpError as exc:
            resp = Response(exc.status, {"error": exc.message})
        except Exception:
            log.exception("handler failed for %s %r", raw.method, raw.url)
            resp = Response(500, {"error": "internal error"})
        await self._slow_down(time.perf_counter_ns() - t0)
        if self.faults.leak_kb:
            _LEAKED.append(b"\x01" * (self.faults.leak_kb * 1024))
        return resp, timings.header(time.perf_counter_ns() - t0)

    async def _dispatch(self, raw: RawRequest, timings: Timings) -> Response:
        if self.faults.max_inflight and self.inflight > self.faults.max_inflight:
            raise HttpError(503, "overloaded: too many requests in flight")
        parts = urlsplit(raw.url.decode("latin-1"))
        segments = tuple(parts.path.strip("/").split("/"))
        allowed = []
        for route in self.routes:
            params = route.match(segments)
            if params is None:
                continue
            if route.method == raw.method:
                query = dict(parse_qsl(parts.query, keep_blank_values=True)[::-1])
                req = Request(raw.method, parts.path, query, raw.headers, raw.body, params)
                return await route.handler(req, timings)
            allowed.append(route.method)
        if allowed:
            raise HttpError(405, f"method {raw.method} not allowed; use {', '.join(allowed)}")
        raise HttpError(404, f"no route for {parts.path}")

    async def _slow_down(self, handled_ns: int) -> None:
        delay_s = handled_ns * self.faults.slowdown_pct / 100 / 1e9
        if delay_s <= 0:
            return
        if delay_s >= 0.002:
            await asyncio.sleep(delay_s)
            return
        _pause(delay_s)


SPIN_TAIL_S = 0.0002  # the kernel wakes a sleeper up to ~0.1 ms late: spin the rest


def _pause(delay_s: float) -> None:
    """Wait ``delay_s`` (under 2 ms, finer than uvloop's 1 ms timers) holding the loop, as a
    slower synchronous call would: asleep, not spinning, which kept the vCPU warm and sped
    up the demo's own table scans on a shared VM (docs/BENCHMARKS.md)."""
    end = time.perf_counter() + delay_s
    if delay_s > SPIN_TAIL_S:
        time.sleep(delay_s - SPIN_TAIL_S)
    while time.perf_counter() < end:
        pass


def render(resp: Response, server_timing: str, keep_alive: bool = True) -> bytes:
    """Serialise ``resp`` to HTTP/1.1 bytes with JSON body and Server-Timing."""
    body = json.dumps(resp.body, separators=(",", ":")).encode()
    reason = HTTPStatus(resp.status).phrase
    lines = [
        f"HTTP/1.1 {resp.status} {reason}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        f"Server-Timing: {server_timing}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    lines.extend(f"{k}: {v}" for k, v in resp.headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class _Item:
    """A queued request (or a canned error) plus whether to close afterwards."""

    raw: RawRequest | None
    close: bool
    canned: bytes = b""


class HttpProtocol(asyncio.Protocol):
    """One connection: parse with httptools, answer in order, keep alive."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.queue: deque[_Item] = deque()
        self.task: asyncio.Task[None] | None = None
        self.broken = False
        self.paused = False
        self.writable = asyncio.Event()  # cleared while the peer is not reading
        self.writable.set()
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.headers: dict[str, str] = {}
        self.header_bytes = 0
        self.body = bytearray()
        self.error: tuple[int, str] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only duck-typed
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.task is not None:
            self.task.cancel()
        self._drop_queue()

    def _drop_queue(self) -> None:
        self.app.inflight -= sum(1 for item in self.queue if item.raw is not None)
        self.queue.clear()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "protocol upgrade is not supported")
        except httptools.HttpParserError as exc:
            self._fail(400, f"malformed HTTP request: {exc}")

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._reset()

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if self.parser.should_upgrade():
            self.error = (400, "protocol upgrade is not supported")
        if self.headers.get("expect", "").lower() == "100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if len(self.body) + len(body) > MAX_BODY_BYTES:
            self.error = (413, f"request body larger than {MAX_BODY_BYTES} bytes")
        else:
            self.body += body

    def on_message_complete(self) -> None:
        if self.error is not None:
            self._fail(*self.error)
            return
        method = self.parser.get_method().decode("latin-1")
        raw = RawRequest(method, self.url, self.headers, bytes(self.body))
        self.app.inflight += 1
        self._enqueue(_Item(raw, close=not self.parser.should_keep_alive()))

    def _count(self, n: int) -> None:
        self.header_bytes += n
        if self.header_bytes > MAX_HEADER_BYTES:
            self.error = (431, f"request head larger than {MAX_HEADER_BYTES} bytes")

    def _fail(self, status: int, message: str) -> None:
        """Answer a canned error after the queued responses, then close."""
        if self.broken:
            return
        self.broken = True
        canned = render(Response(status, {"error": message}), _NO_TIMING, keep_alive=False)
        self._enqueue(_Item(None, close=True, canned=canned))

    def _enqueue(self, item: _Item) -> None:
        self.queue.append(item)
        if len(self.queue) >= _PAUSE_AT and self.transport and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self.queue and self.transport is not None:
            # A peer that sends but never reads must not grow our output buffer.
            await self.writable.wait()
            if not self.queue:
                break
            item = self.queue.popleft()
            out = item.canned
            if item.raw is not None:
                try:
                    resp, timing = await self.app.respond(item.raw)
                finally:
                    self.app.inflight -= 1
                out = render(resp, timing, keep_alive=not item.close)
            self._write(out, item.close)
            self._maybe_resume()

    def _write(self, out: bytes, close: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(out)
        if close:
            self._drop_queue()
            self.transport.close()
            self.transport = None

    def _maybe_resume(self) -> None:
        if self.paused and len(self.queue) <= _RESUME_AT and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()


async def serve(app: App, host: str, port: int) -> asyncio.Server:
    """Start listening; the caller owns the returned server."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: HttpProtocol(app), host, port, backlog=1024)
