"""Test helpers for the embedded demo service and managed targets.

``running_demo`` starts ``python -m engine.demo`` on a free loopback port via
:class:`engine.target.managed.ManagedTarget` and yields its base URL; the small HTTP
helpers keep tests free of client boilerplate.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.spec.build_target import demo_command
from engine.target.managed import ManagedTarget, StartConfig, TargetStartError

from .servers import free_port  # relative: benchmarks import this module as support.demo

__all__ = ["PROBES", "Reply", "demo_config", "demo_process", "free_port", "parse_server_timing",
           "raw_exchange", "request", "running_demo"]


def demo_config(port: int, fix: Sequence[str] = (), extra: Sequence[str] = ()) -> StartConfig:
    """StartConfig for the demo on ``port``, ready when /health answers."""
    return StartConfig(
        command=demo_command(port, fix, extra),
        ready_url=f"http://127.0.0.1:{port}/health",
        ready_timeout_s=30.0,
    )


@contextlib.contextmanager
def demo_process(fix: Sequence[str] = (), extra: Sequence[str] = ()
                 ) -> Iterator[tuple[str, ManagedTarget]]:
    """Run the demo (retrying if the port was taken meanwhile); yield (base URL, target)."""
    for attempt in range(3):
        port = free_port()
        target = ManagedTarget(demo_config(port, fix, extra))
        try:
            target.start()
        except TargetStartError:
            if attempt == 2:
                raise
            continue
        try:
            yield f"http://127.0.0.1:{port}", target
        finally:
            target.stop()
        return


@contextlib.contextmanager
def running_demo(fix: Sequence[str] = (), extra: Sequence[str] = ()) -> Iterator[str]:
    """Run the demo; yield its base URL (``http://127.0.0.1:PORT``)."""
    with demo_process(fix, extra) as (base, _):
        yield base


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, lower-cased headers, decoded JSON body (or None)."""

    status: int
    headers: dict[str, str]
    body: object

    def timing(self) -> dict[str, float]:
        """The Server-Timing header as {metric: ms}."""
        return parse_server_timing(self.headers.get("server-timing", ""))


def request(base: str, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> Reply:
    """One request on a fresh connection; JSON body decoded when present."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    return Reply(resp.status, hdrs, json.loads(data) if data else None)


def parse_server_timing(value: str) -> dict[str, float]:
    """Parse ``db;dur=1.5, app;dur=2.0`` into ``{"db": 1.5, "app": 2.0}``.

    Raises ValueError for an entry without a numeric ``dur``.
    """
    out: dict[str, float] = {}
    for entry in filter(None, (e.strip() for e in value.split(","))):
        name, *params = (p.strip() for p in entry.split(";"))
        durs = [p.split("=", 1)[1] for p in params if p.startswith("dur=")]
        if not durs:
            raise ValueError(f"Server-Timing entry without dur: {entry!r}")
        out[name] = float(durs[0])
    return out


def raw_exchange(base: str, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or timeout); return all bytes."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as s:
        s.sendall(payload)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := s.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


PROBES: dict[str, tuple[str, str]] = {
    "index": ("GET", "/users?email=u99001@demo.test"),
    "join": ("GET", "/users/42/orders"),
    "cache": ("GET", "/stats"),
    "async": ("POST", "/users"),
    "parallel": ("GET", "/dashboard"),
    "linear": ("GET", "/recommendations?n=2000"),
    "pool": ("GET", "/users/1234"),
}
"""One request per demo pattern that exercises its before/after pair."""
