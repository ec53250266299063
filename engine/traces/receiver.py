"""An OTLP/HTTP trace receiver on loopback: ``POST /v1/traces`` in protobuf or JSON.

It runs in its own daemon thread for the length of a traced drive. Messages are decoded
with opentelemetry-proto's own classes (engine.traces.spans). Memory is bounded: at most
``max_spans`` spans are kept (later ones are counted as dropped), and only spans whose
trace id carries an accepted run nonce (engine.traces.ids) are kept at all; the others
are counted as foreign.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.traces.ids import nonce_of
from engine.traces.spans import Span, decode_json, decode_protobuf, spans_of

MAX_BODY_BYTES = 16 * 2**20
DEFAULT_MAX_SPANS = 200_000
PATH = "/v1/traces"


@dataclass
class ReceiverStats:
    """Counters of everything posted to the receiver."""

    requests: int = 0
    rejected: int = 0
    spans: int = 0
    kept: int = 0
    dropped: int = 0
    """Spans of an accepted run not kept: the store was full."""
    foreign: int = 0
    """Spans of traces the engine did not start (or of another run)."""
    cpu_s: float = 0.0
    """Thread CPU seconds spent decoding and storing."""


class _Server6(ThreadingHTTPServer):
    """The same server on an IPv6 address (``tracing.bind: "::1"``)."""

    address_family = socket.AF_INET6


class Receiver:
    """Start with ``start()``; ``endpoint`` is the base URL for OTEL_EXPORTER_OTLP_ENDPOINT."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 max_spans: int = DEFAULT_MAX_SPANS) -> None:
        self.max_spans = max_spans
        self.stats = ReceiverStats()
        self._lock = threading.Lock()
        self._spans: list[Span] = []
        self._nonces: set[int] = set()
        server = _Server6 if ":" in host else ThreadingHTTPServer
        self._server = server((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        address, port = self._server.server_address[:2]
        host = str(address, "ascii") if isinstance(address, bytes) else str(address)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,),
                                        name="otlp-receiver", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def accept(self, nonce: int) -> None:
        """Keep spans of traces whose id starts with ``nonce``."""
        with self._lock:
            self._nonces.add(nonce)

    def spans(self, nonce: int | None = None) -> list[Span]:
        """The kept spans (of one nonce, or all)."""
        with self._lock:
            return [s for s in self._spans if nonce is None or nonce_of(s.trace_id) == nonce]

    def ingest(self, body: bytes, content_type: str) -> int:
        """Decode one export request and keep its spans; the number kept. ValueError if bad."""
        t0 = time.thread_time()
        msg = decode_json(body) if "json" in content_type else decode_protobuf(body)
        got = list(spans_of(msg))
        with self._lock:
            st = self.stats
            st.spans += len(got)
            mine = [s for s in got if nonce_of(s.trace_id) in self._nonces]
            st.foreign += len(got) - len(mine)
            room = max(0, self.max_spans - len(self._spans))
            self._spans.extend(mine[:room])
            st.kept += min(room, len(mine))
            st.dropped += max(0, len(mine) - room)
            st.cpu_s += time.thread_time() - t0
        return min(room, len(mine))


def _response(json_body: bool) -> bytes:
    if json_body:
        return b"{}"
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    return bytes(ExportTraceServiceResponse().SerializeToString())


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"receiver": receiver})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receiver: Receiver

    def do_POST(self) -> None:
        ctype = self.headers.get("Content-Type", "application/x-protobuf").lower()
        status, text = self._receive(ctype)
        body = _response("json" in ctype) if status == 200 else text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _receive(self, ctype: str) -> tuple[int, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if self.path.split("?")[0] != PATH:
            self._skip(length)
            return 404, f"expected POST {PATH}"
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return 413, f"body over {MAX_BODY_BYTES} bytes"
        body = self.rfile.read(length)
        self.receiver.stats.requests += 1
        try:
            if "gzip" in self.headers.get("Content-Encoding", ""):
                body = gzip.decompress(body)
            self.receiver.ingest(body, ctype)
        except (ValueError, OSError, EOFError) as e:
            self.receiver.stats.rejected += 1
            return 400, str(e)[:200]
        return 200, ""

    def _skip(self, length: int) -> None:
        if 0 < length <= MAX_BODY_BYTES:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the run's terminal output is the engine's own
