"""OpenTelemetry instrumentation of the demo service, on only when asked for.

When ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and the ``traces`` extra is installed
(opentelemetry-sdk and the OTLP/HTTP exporter), each request is a SERVER span continuing
the caller's W3C ``traceparent``, each SQLite statement a CLIENT span (``db.system``
sqlite, ``db.statement``) and each simulated downstream call a CLIENT span
(``server.address``). Otherwise every hook is a no-op and the demo runs as before.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

_state: dict[str, Any] = {}


def setup(environ: Mapping[str, str] = os.environ) -> bool:
    """Start the tracer provider when the environment asks for traces; True if on."""
    if not environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    except ImportError:
        return False
    name = environ.get("OTEL_SERVICE_NAME", "perfopt-demo")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _state.update(provider=provider, tracer=provider.get_tracer("engine.demo"),
                  propagator=TraceContextTextMapPropagator())
    return True


def shutdown() -> None:
    """Export what is left and stop (bounded by the SDK's own export timeout)."""
    provider = _state.pop("provider", None)
    _state.clear()
    if provider is not None:
        provider.shutdown()


def enabled() -> bool:
    return "tracer" in _state


@contextlib.contextmanager
def server_span(method: str, url: bytes, headers: Mapping[str, str]) -> Iterator[None]:
    """The request's SERVER span, child of the caller's traceparent (no-op when off)."""
    tracer = _state.get("tracer")
    if tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind

    path = url.decode("latin-1").split("?", 1)[0]
    ctx = _state["propagator"].extract(headers)
    with tracer.start_as_current_span(f"{method} {path}", context=ctx, kind=SpanKind.SERVER,
                                      attributes={"http.request.method": method,
                                                  "url.path": path}):
        yield


@contextlib.contextmanager
def client_span(host: str) -> Iterator[None]:
    """A downstream call's CLIENT span (no-op when off)."""
    tracer = _state.get("tracer")
    if tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind

    with tracer.start_as_current_span(f"GET {host}", kind=SpanKind.CLIENT,
                                      attributes={"server.address": host,
                                                  "http.request.method": "GET"}):
        yield


class _Rows:
    """The rows of a traced statement, read inside its span; a cursor's reading methods."""

    def __init__(self, rows: list[Any], lastrowid: int | None) -> None:
        self._rows, self.lastrowid = rows, lastrowid

    def fetchall(self) -> list[Any]:
        return self._rows

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class TracedConnection:
    """A sqlite3 connection whose ``execute`` is a CLIENT span (statement run to its end)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        from opentelemetry.trace import SpanKind

        op = sql.split(None, 1)[0].upper() if sql.strip() else "SQL"
        with _state["tracer"].start_as_current_span(
                op, kind=SpanKind.CLIENT,
                attributes={"db.system": "sqlite", "db.statement": sql.strip()}):
            cur = self._conn.execute(sql, params)
            return _Rows(cur.fetchall(), cur.lastrowid)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def traced(conn: sqlite3.Connection) -> sqlite3.Connection:
    """``conn`` with traced statements when tracing is on, else ``conn`` itself."""
    if not enabled():
        return conn
    return TracedConnection(conn)  # type: ignore[return-value]
