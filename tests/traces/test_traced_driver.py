"""A traced one-request journey driven for real, both load models and both twins: every
request the server saw carries its own valid traceparent naming the run, journey and step,
and the driver counted exactly those requests (the fast paths that write the header per
request: a closed-model user's repeat, the open model's send loop)."""

from __future__ import annotations

import re

import pytest

from engine.driver import run_profile
from engine.hotpath import native
from engine.spec.model import Journey, LoadProfile, Request, RunSettings
from engine.traces import ids
from engine.traces.inject import traced_journeys
from tests.support.servers import TestServer

pytestmark = pytest.mark.slow
W3C = re.compile(rb"\r\ntraceparent: 00-([0-9a-f]{32})-([0-9a-f]{16})-01\r\n")
NONCE = 0x5EED


@pytest.mark.parametrize("twin", ["c", "py"])
@pytest.mark.parametrize("model", ["open", "closed"])
def test_every_request_carries_its_own_traceparent(model: str, twin: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFOPT_LOOPBACK_ONLY", "1")
    if twin == "py":
        monkeypatch.setenv("PERFOPT_PURE", "1")
    elif native.IMPLEMENTATION != "c":
        pytest.skip("PERFOPT_PURE=1: only the Python twins are under test")
    if model == "open":
        profile = LoadProfile("p", "baseline", RunSettings(connections=4), duration_s=1.0,
                              rate=200)
    else:
        profile = LoadProfile("p", "baseline", RunSettings(model="closed", connections=2),
                              duration_s=1.0, vus=2)
    journeys = traced_journeys((Journey("j", 1.0, (Request("GET", "/"),)),), NONCE, 1.0)
    with TestServer("ok", delay_s=0.002) as s:
        r = run_profile(s.url, journeys, profile)
        heads = s.requests
    matches = [W3C.search(h) for h in heads]
    trace_ids = [m.group(1) for m in matches if m]
    assert len(trace_ids) == len(heads) == r.journeys[0].outcomes["ok"] > 20
    assert len(set(trace_ids)) == len(trace_ids)  # one trace per request
    origins = {ids.origin(bytes.fromhex(t.decode())) for t in trace_ids}
    assert origins == {ids.TraceOrigin(NONCE, 0, 0)}
