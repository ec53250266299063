"""The OTLP receiver in its own process, so decoding spans never competes for the GIL with
a one-worker driver's event loop in the apply process (as engine/live/metrics_server).

The parent talks to it over a pipe: accept a run nonce, count spans, fetch the kept spans
of a nonce, read the counters, close. Every call is bounded by ``CALL_TIMEOUT_S``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from engine.traces.spans import Span

START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0


class ReceiverUnavailable(Exception):
    """The receiver could not start: the extra is missing, or it cannot listen."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class ReceiverProcess:
    """A started receiver process; ``endpoint`` is its base URL."""

    def __init__(self, port: int = 0, max_spans: int = 200_000, host: str = "127.0.0.1") -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, port, max_spans, host),
                                 name="otlp-receiver", daemon=True)
        self._proc.start()
        child.close()
        kind, text = self._reply(START_TIMEOUT_S)
        if kind != "ok":
            self.close()
            raise ReceiverUnavailable(text, missing=kind == "missing")
        self.endpoint: str = text

    def _reply(self, timeout: float) -> Any:
        if not self._conn.poll(timeout):
            raise ReceiverUnavailable(f"the OTLP receiver did not answer within {timeout:g} s")
        try:
            return self._conn.recv()
        except EOFError:
            raise ReceiverUnavailable("the OTLP receiver process ended") from None

    def _call(self, *msg: Any) -> Any:
        self._conn.send(msg)
        return self._reply(CALL_TIMEOUT_S)

    def accept(self, nonce: int) -> None:
        self._call("accept", nonce)

    def span_count(self) -> int:
        return int(self._call("count"))

    def spans(self, nonce: int) -> list[Span]:
        return list(self._call("spans", nonce))

    def stats(self) -> dict[str, float]:
        return dict(self._call("stats"))

    def close(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(("close",))
            self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._conn.close()


def _serve(conn: Connection, port: int, max_spans: int, host: str) -> None:
    """The child: start the receiver, then answer the parent until told to close."""
    try:
        import opentelemetry.proto.collector.trace.v1.trace_service_pb2  # noqa: F401

        from engine.traces.receiver import Receiver

        receiver = Receiver(host=host, port=port, max_spans=max_spans).start()
    except ImportError as e:
        conn.send(("missing", str(e)))
        return
    except OSError as e:
        conn.send(("error", f"the OTLP receiver could not listen on port {port} of {host} ({e})"))
        return
    conn.send(("ok", receiver.endpoint))
    try:
        _answer(conn, receiver)
    finally:
        receiver.close()


def _answer(conn: Connection, receiver: Any) -> None:
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "close":
            return
        if msg[0] == "accept":
            receiver.accept(msg[1])
            conn.send(None)
        elif msg[0] == "count":
            conn.send(receiver.stats.spans)
        elif msg[0] == "spans":
            conn.send(receiver.spans(msg[1]))
        else:
            conn.send(asdict(receiver.stats))
