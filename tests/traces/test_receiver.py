"""The OTLP/HTTP receiver decodes what the real OpenTelemetry SDK exporter posts."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from engine.analysis.traces import analyse_traces
from engine.traces import ids
from engine.traces.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(max_spans=1000).start()
    yield r
    r.close()


def _export(endpoint: str, traceparent: str, n_queries: int = 1) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("test")
    ctx = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    with tracer.start_as_current_span("GET /users", context=ctx, kind=trace.SpanKind.SERVER):
        for _ in range(n_queries):
            with tracer.start_as_current_span("SELECT", kind=trace.SpanKind.CLIENT, attributes={
                    "db.system": "sqlite",
                    "db.statement": "SELECT id, email FROM users WHERE email = 'a@b'"}):
                pass
    provider.shutdown()


def test_protobuf_from_the_sdk_exporter_is_decoded_and_joined(receiver: Receiver) -> None:
    nonce = ids.new_nonce()
    receiver.accept(nonce)
    tp = f"00-{ids.prefix(nonce, 1, 0)}0000000712345678-00000000000000aa-01"
    _export(receiver.endpoint + "/v1/traces", tp, n_queries=6)
    spans = receiver.spans(nonce)
    assert len(spans) == 7 and receiver.stats.rejected == 0
    assert {ids.origin(s.trace_id) for s in spans} == {ids.TraceOrigin(nonce, 1, 0)}
    root = next(s for s in spans if s.kind == "server")
    assert root.parent_id == bytes.fromhex("00000000000000aa")
    result = analyse_traces(spans, ["other", "lookup"])
    j = result.journey("lookup")
    assert j is not None and j.requests == 1
    db = next(c for c in j.categories if c.group == "database")
    assert db.label == "SELECT ... FROM users WHERE email = ? (sqlite)"
    assert db.calls_per_request == 6
    assert [p.kind for p in j.patterns] == ["n_plus_1"] and j.patterns[0].per_request == 6


def test_spans_of_other_traces_are_counted_not_kept(receiver: Receiver) -> None:
    receiver.accept(ids.new_nonce())
    _export(receiver.endpoint + "/v1/traces", "00-" + "ab" * 16 + "-00000000000000aa-01")
    assert receiver.spans() == [] and receiver.stats.foreign == 2


def _post(url: str, body: bytes, ctype: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, body, {"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_otlp_json_with_hex_ids_is_decoded(receiver: Receiver) -> None:
    nonce = ids.new_nonce()
    receiver.accept(nonce)
    trace_id = ids.prefix(nonce, 0, 2) + "00000001" + "deadbeef"
    doc = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": trace_id, "spanId": "0102030405060708", "parentSpanId": "",
            "name": "GET /cart", "kind": 2, "startTimeUnixNano": "1000000000",
            "endTimeUnixNano": "1005000000",
            "attributes": [{"key": "http.route", "value": {"stringValue": "/cart"}}]}]}]}]}
    status, _ = _post(receiver.endpoint + "/v1/traces", json.dumps(doc).encode(),
                      "application/json")
    assert status == 200
    [span] = receiver.spans(nonce)
    assert span.trace_id.hex() == trace_id and span.service == "shop"
    assert span.duration_ns == 5_000_000 and span.attributes == {"http.route": "/cart"}


def test_garbage_is_a_400_and_counted(receiver: Receiver) -> None:
    status, body = _post(receiver.endpoint + "/v1/traces", b"{not json", "application/json")
    assert status == 400 and b"OTLP/JSON" in body
    status, _ = _post(receiver.endpoint + "/v1/metrics", b"", "application/x-protobuf")
    assert status == 404 and receiver.stats.rejected == 1


def test_the_store_is_capped_and_drops_are_counted() -> None:
    r = Receiver(max_spans=1000).start()
    try:
        nonce = ids.new_nonce()
        r.accept(nonce)
        for i in range(3):
            tp = f"00-{ids.prefix(nonce, 0, 0)}{i:08x}00000000-00000000000000aa-01"
            _export(r.endpoint + "/v1/traces", tp, n_queries=399)
        assert len(r.spans()) == 1000 and r.stats.dropped == 200
    finally:
        r.close()


def test_the_receiver_process_hands_back_the_spans_of_a_nonce() -> None:
    from engine.traces.process import ReceiverProcess

    proc = ReceiverProcess(max_spans=1000)
    try:
        nonce = ids.new_nonce()
        proc.accept(nonce)
        _export(proc.endpoint + "/v1/traces",
                f"00-{ids.prefix(nonce, 2, 1)}0000000100000001-00000000000000aa-01", 3)
        spans = proc.spans(nonce)
        assert proc.span_count() == 4 and len(spans) == 4
        assert {ids.origin(s.trace_id).journey for s in spans} == {2}
        assert proc.stats()["kept"] == 4
    finally:
        proc.close()


def test_a_taken_port_is_a_clear_error() -> None:
    from engine.traces.process import ReceiverProcess, ReceiverUnavailable

    with Receiver() as taken:
        port = int(taken.endpoint.rsplit(":", 1)[1])
        with pytest.raises(ReceiverUnavailable, match=f"could not listen on port {port}"):
            ReceiverProcess(port=port)
