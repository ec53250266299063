"""Compact span records decoded from OTLP ``ExportTraceServiceRequest`` messages.

Only what the analysis reads is kept: ids, name, kind, times and a few semantic
attributes (database, outgoing HTTP, messaging), so a capped store stays small.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
KEPT_ATTRIBUTES = frozenset((
    "db.system", "db.system.name", "db.statement", "db.query.text", "db.operation",
    "db.operation.name", "db.name", "server.address", "net.peer.name", "peer.service",
    "http.url", "url.full", "http.host", "messaging.system", "messaging.destination.name",
    "http.route", "http.method", "http.request.method"))
MAX_ATTRIBUTE_CHARS = 300


class Span(NamedTuple):
    """One span: 16-byte trace id, 8-byte span and parent ids (b"" for a root)."""

    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    name: str
    kind: str
    start_ns: int
    end_ns: int
    attributes: dict[str, str]
    service: str = ""

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)


def _value(v: Any) -> str:
    which = v.WhichOneof("value")
    if which is None:
        return ""
    got = getattr(v, which)
    return str(got)[:MAX_ATTRIBUTE_CHARS] if which != "bytes_value" else got.hex()


def _attributes(kvs: Any) -> dict[str, str]:
    return {kv.key: _value(kv.value) for kv in kvs if kv.key in KEPT_ATTRIBUTES}


def _service(resource: Any) -> str:
    return next((_value(kv.value) for kv in resource.attributes if kv.key == "service.name"), "")


def spans_of(request: Any) -> Iterator[Span]:
    """Every span of an ``ExportTraceServiceRequest`` message."""
    for rs in request.resource_spans:
        service = _service(rs.resource)
        for ss in rs.scope_spans:
            for s in ss.spans:
                kind = KINDS[s.kind] if 0 <= s.kind < len(KINDS) else "unspecified"
                yield Span(bytes(s.trace_id), bytes(s.span_id), bytes(s.parent_span_id),
                           s.name, kind, s.start_time_unix_nano, s.end_time_unix_nano,
                           _attributes(s.attributes), service)


def decode_protobuf(body: bytes) -> Any:
    """An ``ExportTraceServiceRequest`` from its binary protobuf encoding (ValueError if bad)."""
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    msg = ExportTraceServiceRequest()
    try:
        msg.ParseFromString(body)
    except DecodeError as e:
        raise ValueError(f"not an OTLP protobuf ExportTraceServiceRequest: {e}") from None
    return msg


_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _ids_to_base64(obj: Any) -> None:
    """OTLP/JSON writes ids as hex, the protobuf JSON mapping reads bytes as base64."""
    if isinstance(obj, list):
        for x in obj:
            _ids_to_base64(x)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k in _ID_KEYS and isinstance(v, str):
                obj[k] = base64.b64encode(bytes.fromhex(v)).decode()
            elif isinstance(v, dict | list):
                _ids_to_base64(v)


def decode_json(body: bytes) -> Any:
    """An ``ExportTraceServiceRequest`` from its OTLP/JSON encoding (ValueError if bad)."""
    from google.protobuf.json_format import ParseDict, ParseError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        doc = json.loads(body)
        _ids_to_base64(doc)
        return ParseDict(doc, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (ValueError, ParseError, TypeError) as e:
        raise ValueError(f"not an OTLP/JSON ExportTraceServiceRequest: {e}") from None
