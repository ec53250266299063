"""DNS lookups are bounded by connect_timeout (issue #15): the driver's connect, the
loopback check and the target preflight never wait on a resolver that does not answer."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from engine.driver import run as driver_run
from engine.driver.http import Connection, Endpoint, open_connection
from engine.target import procguard, session
from tests.support.demo import free_port

SLOW = "slow.resolver.test"


class _Owner:
    def released(self, conn: Connection, reusable: bool) -> None: ...

    def lost(self, conn: Connection) -> None: ...


class _Sink:
    def record(self, *args: int) -> None: ...


def _endpoint(host: str, port: int, timeout_s: float) -> Endpoint:
    return Endpoint(host, port, None, None, timeout_s, host)


def _connect(loop: asyncio.AbstractEventLoop, ep: Endpoint) -> tuple[bool, float, Connection]:
    conn = Connection(_Sink(), _Owner())
    started = time.monotonic()
    ok = loop.run_until_complete(open_connection(loop, ep, conn))
    return ok, time.monotonic() - started, conn


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_a_resolver_that_never_answers_costs_the_connect_timeout(
        loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    async def never(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        await asyncio.Event().wait()  # a resolver that never answers
        return []

    monkeypatch.setattr(loop, "getaddrinfo", never)
    ep = _endpoint(SLOW, 80, 0.3)
    ok, elapsed, _ = _connect(loop, ep)
    assert not ok and asked == [SLOW]
    assert 0.25 <= elapsed < 1.0, elapsed  # the 0.3 s bound, not the resolver's
    assert ep.errors == [f"DNS lookup of {SLOW!r} timed out after 0.3s"]


def test_each_resolved_address_is_tried_in_turn(
        loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
    closed, server = free_port(), socket.create_server(("127.0.0.1", 0))
    open_port = server.getsockname()[1]
    stream = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")

    async def two(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        return [(*stream, ("127.0.0.1", closed)), (*stream, ("127.0.0.1", open_port))]

    monkeypatch.setattr(loop, "getaddrinfo", two)
    with server:
        ok, elapsed, conn = _connect(loop, _endpoint("two.addresses.test", open_port, 2.0))
        assert ok and conn.transport is not None, "the second address was not tried"
        assert conn.transport.get_extra_info("peername")[1] == open_port
        conn.transport.close()
    assert elapsed < 1.0


def test_a_failed_lookup_is_named(loop: asyncio.AbstractEventLoop,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async def nx(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(loop, "getaddrinfo", nx)
    ep = _endpoint("nx.test", 80, 1.0)
    assert not _connect(loop, ep)[0]
    assert ep.errors == ["DNS lookup of 'nx.test' failed: Name or service not known"]


@pytest.fixture
def hung_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """socket.getaddrinfo blocks for names until the test ends (then answers loopback)."""
    release, real = threading.Event(), socket.getaddrinfo

    def hung(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == SLOW:
            release.wait(30)
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hung)
    yield release
    release.set()


def test_loopback_check_and_preflight_do_not_wait_on_the_resolver(
        hung_resolver: threading.Event, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFOPT_LOOPBACK_ONLY", "1")
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"DNS lookup of 'slow.resolver.test' timed out after 0.3s"):
        driver_run.check_target(f"http://{SLOW}:8080", 0.3)
    assert time.monotonic() - started < 1.0
    started = time.monotonic()
    with pytest.raises(session.TargetUnavailable, match=r"timed out after 0\.3s"):
        session.preflight(f"http://{SLOW}:8080", 0.3)
    assert time.monotonic() - started < 1.0
    started = time.monotonic()
    procguard.check_port_free(SLOW, free_port(), 0.3)  # cannot tell: the readiness wait will
    assert time.monotonic() - started < 1.0
