"""Hostile local HTTP servers for driver tests (loopback only, each in its own thread).

``TestServer(mode)`` answers on 127.0.0.1 with a free port:

- ``ok``: 200 "ok" at once (keep-alive); ``delay_s`` adds a fixed delay before answering
- ``chunked``: 200 with a chunked body in several chunks
- ``close_mid``: announces 100 body bytes, sends 10 and closes (a truncated response)
- ``never``: reads the request and never answers
- ``malformed``: answers bytes that are not HTTP
- ``reset``: closes with RST (SO_LINGER 0) right after reading the request
- ``conn_close``: 200 with ``Connection: close`` and then closes
- ``status``: answers ``status`` (e.g. 503)
- ``redirect``: 302 from /start (to /next), /abs (absolute, same origin), /away (another
  origin) and /loop (to itself); 200 elsewhere

Every mode honours ``stall(seconds)`` (answers held until the stall ends) and records the
request heads it saw in ``requests``; ``server_timing`` adds that Server-Timing header.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class TestServer:
    """An asyncio HTTP/1.1 server with a chosen misbehaviour, in a forked child process
    (so the driver under test and the server never share a GIL)."""

    __test__ = False  # not a pytest class

    def __init__(self, mode: str = "ok", delay_s: float = 0.0, status: int = 200,
                 server_timing: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.mode, self.delay_s, self.status = mode, delay_s, status
        self.server_timing, self.tls = server_timing, tls
        self._requests: list[bytes] = []
        self._bodies: list[bytes] = []
        self._heads: dict[Any, bytes] = {}  # each connection's request being answered
        self.stall_until = 0.0
        self.port = 0
        self._lock = threading.Lock()
        self._conn: Any = None
        self._proc: Any = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> TestServer:
        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=self._serve, args=(child,), daemon=True)
        self._proc.start()
        if not self._conn.poll(10):
            raise RuntimeError("test server did not start")
        self.port = self._conn.recv()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._proc.kill()
        self._proc.join(5)

    def _ask(self, *msg: Any) -> Any:
        with self._lock:
            self._conn.send(msg)
            return self._conn.recv()

    def stall(self, seconds: float) -> None:
        """Hold every answer (pending and new) until ``seconds`` from now."""
        self._ask("stall", seconds)

    @property
    def requests(self) -> list[bytes]:
        """Request heads received so far, in order."""
        return list(self._ask("requests"))

    @property
    def bodies(self) -> list[bytes]:
        return list(self._ask("bodies"))

    def _serve(self, conn: Any) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0, ssl=self.tls, backlog=1024))
        loop.add_reader(conn.fileno(), self._command, conn)
        self.port = server.sockets[0].getsockname()[1]
        conn.send(self.port)
        loop.run_forever()

    def _command(self, conn: Any) -> None:
        try:
            msg = conn.recv()
        except EOFError:
            asyncio.get_event_loop().stop()
            return
        if msg[0] == "stall":
            self.stall_until = time.monotonic() + msg[1]
            conn.send(None)
        else:
            conn.send(self._requests if msg[0] == "requests" else self._bodies)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        finally:
            self._heads.pop(writer, None)
            with contextlib.suppress(Exception):
                writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        arrived = time.monotonic()
        self._requests.append(head)
        self._heads[writer] = head
        length = _content_length(head)
        self._bodies.append(await reader.readexactly(length) if length else b"")
        if self.delay_s:
            await _sleep_until(arrived + self.delay_s)
        while time.monotonic() < self.stall_until:
            await asyncio.sleep(min(0.01, self.stall_until - time.monotonic()))
        return bool(await _MODES[self.mode](self, writer))

    def _headers(self, extra: str = "") -> str:
        st = f"Server-Timing: {self.server_timing}\r\n" if self.server_timing else ""
        return st + extra

    async def _ok(self, w: asyncio.StreamWriter) -> bool:
        w.write((f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\n{self._headers()}"
                 "\r\nok").encode())
        await w.drain()
        return True

    async def _chunked(self, w: asyncio.StreamWriter) -> bool:
        w.write(f"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{self._headers()}\r\n"
                .encode())
        for part in (b"hello ", b"chunked ", b"world"):
            w.write(b"%x\r\n%s\r\n" % (len(part), part))
            await w.drain()
            await asyncio.sleep(0.001)
        w.write(b"0\r\n\r\n")
        await w.drain()
        return True

    async def _close_mid(self, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        await w.drain()
        return False

    async def _never(self, w: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(3600)
        return False

    async def _malformed(self, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTX/9.9 two hundred\r\n\x00\x01garbage\r\n\r\n")
        await w.drain()
        return True

    async def _reset(self, w: asyncio.StreamWriter) -> bool:
        sock = w.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    async def _redirect(self, w: asyncio.StreamWriter) -> bool:
        path = self._heads[w].split(b" ")[1]  # this connection's: others may have sent since
        where = {b"/start": b"/next", b"/abs": b"http://127.0.0.1:%d/next" % self.port,
                 b"/away": b"http://192.0.2.1/next", b"/loop": b"/loop"}.get(path)
        if where is None:
            return await self._ok(w)
        w.write(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % where)
        await w.drain()
        return True

    async def _conn_close(self, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await w.drain()
        return False


async def _sleep_until(deadline: float) -> None:
    """Sleep precisely: the loop's timers are ms-coarse, so sleep short and poll the rest."""
    if deadline - time.monotonic() > 0.003:
        await asyncio.sleep(deadline - time.monotonic() - 0.002)
    while time.monotonic() < deadline:
        await asyncio.sleep(0)


_MODES: dict[str, Any] = {
    "ok": TestServer._ok, "status": TestServer._ok, "chunked": TestServer._chunked,
    "close_mid": TestServer._close_mid, "never": TestServer._never,
    "malformed": TestServer._malformed, "reset": TestServer._reset,
    "conn_close": TestServer._conn_close, "redirect": TestServer._redirect,
}


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def free_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(tmp: Path) -> ssl.SSLContext | None:
    """A server TLS context with a fresh self-signed cert (openssl CLI); None if unavailable."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def _answer_400(sock: socket.socket, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            client, _ = sock.accept()
        except OSError:  # timeout, or the socket closed at the end
            continue
        with client:
            client.settimeout(1.0)
            with contextlib.suppress(OSError):
                client.recv(4096)
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                               b"Connection: close\r\n\r\n")


@contextlib.contextmanager
def plain_http_400() -> Iterator[int]:
    """A loopback port that answers any first bytes (a TLS ClientHello too) with a plain
    HTTP 400, as nginx or uvicorn do; yields the port. Its thread ends with the block."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(0.05)
    stop = threading.Event()
    thread = threading.Thread(target=_answer_400, args=(sock, stop), daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        sock.close()
