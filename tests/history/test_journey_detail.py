"""The #16 journey fields (status codes, redirects, checks, early ends, tags, per-step
results) survive the history: stored with the run and rebuilt by load_result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.hotpath.native import Histogram
from engine.result import CheckResult, StepResult
from tests.support.history import GIT, HOST, SPEC, history_run, store_at


def test_stateful_fields_round_trip(tmp_path: Path) -> None:
    base = history_run(3)
    hist = Histogram()
    for v in (1_000_000, 2_000_000, 3_000_000):
        hist.record(v)
    step = StepResult(1, "read", hist, {"ok": 2, "check": 1}, {"team": "shop", "kind": "r"})
    first = dataclasses.replace(
        base.journeys[0], statuses={200: 5, 302: 2, 401: 1}, redirects=2,
        checks=(CheckResult(1, "json $.name == 'widget'", 2, 1, True),),
        ended={"extract id failed at step create: $.id not in body": 4},
        tags={"team": "shop"}, steps=(step,))
    run = dataclasses.replace(base, journeys=(first, *base.journeys[1:]))
    with store_at(tmp_path) as store:
        back = store.load_result(store.record(SPEC, "h", run, "PASS", HOST, GIT))
    j = back.journeys[0]
    assert j.statuses == {200: 5, 302: 2, 401: 1} and j.redirects == 2
    assert j.checks == first.checks and j.ended == first.ended and j.tags == {"team": "shop"}
    assert len(j.steps) == 1 and j.steps[0].response == hist
    assert (j.steps[0].name, dict(j.steps[0].outcomes), dict(j.steps[0].tags)) == (
        "read", {"ok": 2, "check": 1}, {"team": "shop", "kind": "r"})
    other = back.journeys[1]  # a journey without any of them reads back empty
    assert (other.statuses, other.steps, other.checks, other.ended) == ({}, (), (), {})
