"""A small stateful HTTP/1.1 service for the stateful-journey tests (loopback, a thread).

- POST /login: 200 and ``Set-Cookie: sid=s3cret``; POST /login303: the same cookie on a
  303 to /me (a cookie set on a redirect hop)
- GET /me: 200 ``{"name": "alice"}`` with the sid cookie, else 401
- GET /logout: deletes the cookie (Max-Age=0)
- POST /orders: 201 ``{"id": N, "name": "widget"}`` and ``X-Order: N``; GET /orders/N: 200
  with the order, 404 for an unknown id
- GET /old: 307 to /new; GET /new: 200
- GET /noid: 200 ``{}`` (nothing to extract); POST /echo: the request body back
"""

from __future__ import annotations

import json
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StatefulServer  # type: ignore[assignment]

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):  # here, not in accept: one per thread
            self.request.do_handshake()
        super().setup()

    def _send(self, status: int, body: Any = b"", headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self) -> None:
        body = self._body()
        self.server.seen(self.path, body)
        if self.path == "/login":
            self._send(200, {"ok": True}, {"Set-Cookie": "sid=s3cret; Path=/; HttpOnly"})
        elif self.path == "/login303":
            self._send(303, b"", {"Location": "/me", "Set-Cookie": "sid=s3cret; Path=/"})
        elif self.path == "/orders":
            oid = self.server.new_order()
            self._send(201, {"id": oid, "name": "widget"}, {"X-Order": str(oid)})
        elif self.path == "/echo":
            self._send(200, body)
        else:
            self._send(404)

    def do_GET(self) -> None:
        self.server.seen(self.path, b"")
        cookie = self.headers.get("Cookie") or ""
        if self.path == "/me":
            ok = "sid=s3cret" in cookie
            self._send(200 if ok else 401, {"name": "alice"} if ok else {"error": "login"})
        elif self.path == "/logout":
            self._send(200, b"bye", {"Set-Cookie": "sid=gone; Max-Age=0"})
        elif self.path.startswith("/orders/"):
            oid = self.path.rsplit("/", 1)[1]
            known = oid.isdigit() and int(oid) in self.server.orders
            self._send(200 if known else 404, {"id": oid, "name": "widget"} if known else {})
        elif self.path == "/old":
            self._send(307, b"", {"Location": "/new"})
        elif self.path == "/noid":
            self._send(200, {})
        else:
            self._send(200, b"ok")


class StatefulServer(ThreadingHTTPServer):
    """Serve on 127.0.0.1 (a free port) in a daemon thread while in a ``with`` block."""

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)
        self.tls = tls
        self.paths: Counter[str] = Counter()
        self.bodies: list[bytes] = []
        self.orders: set[int] = set()
        self._lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that refused the certificate, or left: not the test's business

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.server_address[1]}"

    def seen(self, path: str, body: bytes) -> None:
        with self._lock:
            self.paths[path.split("/")[1] if path.startswith("/orders/") else path] += 1
            if body:
                self.bodies.append(body)

    def new_order(self) -> int:
        with self._lock:
            oid = len(self.orders) + 1
            self.orders.add(oid)
            return oid

    def __enter__(self) -> StatefulServer:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()
