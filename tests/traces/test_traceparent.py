"""The driver's traceparent: a valid W3C header per request whose trace id names the run,
journey and step; plain journeys are untouched."""

from __future__ import annotations

import re

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
