"""The driver's traceparent: a valid W3C header per request whose trace id names the run,
journey and step; plain journeys are untouched."""

from __future__ import annotations

import re

import pytest

from engine.driver.catalog import compile_catalog
from engine.spec.model import Journey, Request
from engine.traces import ids
from engine.traces.inject import traced_journeys

W3C = re.compile(rb"traceparent: 00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])\r\n")
JOURNEYS = (Journey("a", 1, (Request("GET", "/"),)),
            Journey("b", 1, (Request("GET", "/x"), Request("POST", "/y/{seq}", body="{}"))))


def _headers(sample: float, n: int) -> list[tuple[ids.TraceOrigin, bytes, bytes, bytes]]:
    nonce = 0xC0FFEE
    cat = compile_catalog(traced_journeys(JOURNEYS, nonce, sample), {}, "127.0.0.1:1")
    out = []
    for k in range(n):
        j, s = (0, 0) if k % 3 == 0 else (1, k % 3 - 1)
        m = W3C.search(cat.request(j, s))
        assert m is not None
        tid = bytes.fromhex(m.group(1).decode())
        got = ids.origin(tid)
        assert (got.nonce, got.journey, got.step) == (nonce, j, s)
        out.append((got, m.group(1), m.group(2), m.group(3)))
    return out


def test_every_request_gets_its_own_trace_id_naming_journey_and_step() -> None:
    rows = _headers(1.0, 300)
    assert len({r[1] for r in rows}) == 300  # unique trace ids
    assert all(r[2] != b"0" * 16 for r in rows)  # parent id never all zero
    assert {r[3] for r in rows} == {b"01"}


def test_sampling_follows_the_rate() -> None:
    flags = [r[3] for r in _headers(0.25, 4000)]
    assert 0.18 < flags.count(b"01") / len(flags) < 0.32


def test_plain_journeys_are_untouched_and_a_spec_traceparent_wins() -> None:
    cat = compile_catalog(JOURNEYS, {}, "127.0.0.1:1")
    assert b"traceparent" not in cat.request(0, 0) and cat.single() is None  # 2 journeys
    plain = compile_catalog(JOURNEYS[:1], {}, "127.0.0.1:1")
    assert plain.single() is not None
    own = Journey("o", 1, (Request("GET", "/", headers={"Traceparent": "00-" + "1" * 32
                                                        + "-" + "2" * 16 + "-01"}),))
    [j] = traced_journeys((own,), 1, 1.0)
    assert dict(j.steps[0].headers) == dict(own.steps[0].headers)


def test_a_traced_single_request_stays_on_the_fast_path_with_one_sequence() -> None:
    """A traced one-step journey is still the catalog's one request: single() and
    repeatable() give its TraceTemplate (native when built) bound to the catalog's context,
    so the fast paths (a closed-model user's repeat, the open model's send loop) and the
    general path (request) number requests from one sequence: no trace id twice."""
    nonce = 0xABCDEF
    cat = compile_catalog(traced_journeys(JOURNEYS[:1], nonce, 1.0), {}, "127.0.0.1:1",
                          worker=1, workers=3)
    one = cat.single()
    assert one is not None and not isinstance(one[0], bytes)
    assert cat.repeatable() is one[0]
    tpl = one[0]
    sent = [cat.request(0, 0) if k % 2 else tpl.next_request() for k in range(10)]
    ids_seen = [W3C.search(b) for b in sent]
    trace_ids = [m.group(1).decode() for m in ids_seen if m]
    assert len(set(trace_ids)) == 10
    assert [int(t[16:24], 16) for t in trace_ids] == list(range(1, 30, 3))  # worker 1 of 3
    assert {ids.origin(bytes.fromhex(t)) for t in trace_ids} == {ids.TraceOrigin(nonce, 0, 0)}
    plain = sent[0].replace(W3C.search(sent[0]).group(0), b"")  # type: ignore[union-attr]
    assert plain == compile_catalog(JOURNEYS[:1], {}, "127.0.0.1:1").request(0, 0)


def test_the_pure_switch_picks_the_python_template(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.hotpath import _pytrace

    monkeypatch.setenv("PERFOPT_PURE", "1")
    cat = compile_catalog(traced_journeys(JOURNEYS[:1], 1, 1.0), {}, "127.0.0.1:1")
    one = cat.single()
    assert one is not None and type(one[0]) is _pytrace.TraceTemplate
    assert W3C.search(one[0].next_request())
