"""Server-Timing breakdown on synthetic journeys."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.servertiming import breakdown, breakdown_run, merge_journeys
from tests.support.analysis import J, make_run, spread


def test_db_dominated_journey_with_enclosing_app() -> None:
    # the demo's convention: app is the whole handler time, db is inside it
    lookup = J("lookup", spread(0.100, 400), server_timing={
        "db": spread(0.082, 400, seed=2), "app": spread(0.090, 400, seed=3)})
    b = breakdown(lookup.result())
    assert b.enclosing == "app"
    db = b.dominant
    assert db is not None and db.component == "db"
    assert db.share == pytest.approx(0.82, abs=0.03)
    assert db.describe("p95") == f"db is {db.share_p95:.0%} of lookup's p95"
    assert 0.75 < db.share_p95 <= 1.0
    app = b.component("app")
    assert app is not None and app.exclusive and app.share == pytest.approx(0.08, abs=0.03)
    assert b.server_mean_s == pytest.approx(0.090, rel=0.03)
    assert b.unaccounted_share == pytest.approx(0.10, abs=0.03)


def test_independent_components_are_not_treated_as_enclosing() -> None:
    # app smaller than the others' sum: it is its own slice, not the total
    j = J("page", spread(0.100, 200), server_timing={
        "db": spread(0.050, 200), "ext": spread(0.030, 200), "app": spread(0.010, 200)})
    b = breakdown(j.result())
    assert b.enclosing is None
    assert [c.component for c in b.components] == ["db", "ext", "app"]
    assert sum(c.share for c in b.components) + b.unaccounted_share == pytest.approx(1, abs=0.01)


def test_partial_component_contributes_by_presence() -> None:
    # a cache header on a quarter of the responses contributes a quarter of its mean
    j = J("stats", spread(0.010, 400), server_timing={"cache": spread(0.004, 100)})
    c = breakdown(j.result()).components[0]
    assert c.count == 100
    assert c.contribution_s == pytest.approx(0.001, rel=0.05)
    assert c.share == pytest.approx(0.1, abs=0.01)


def test_no_server_timing_is_all_unaccounted_and_docs() -> None:
    run = make_run([J("a", spread(0.01, 50)), J("b", spread(0.02, 50),
                                                 server_timing={"db": spread(0.01, 50)})])
    a, b = breakdown_run(run)
    assert a.dominant is None and a.unaccounted_share == pytest.approx(1.0)
    doc = b.to_doc()
    assert doc[0]["component"] == "db" and set(doc[0]) == {"component", "p50", "p95", "mean",
                                                             "share"}


def test_merge_journeys_adds_histograms_and_counters() -> None:
    r1 = make_run([J("a", spread(0.01, 50), errors={"timeout": 5},
                     server_timing={"db": spread(0.005, 50)})])
    r2 = make_run([J("a", spread(0.01, 30), server_timing={"db": spread(0.005, 30)})])
    (a,) = merge_journeys([r1, r2])
    assert a.requests == 80 and a.errors == 5
    assert a.server_timing["db"].total_count == 80
    assert r1.journeys[0].response.total_count == 50  # inputs untouched


def test_zero_durations_read_as_zero_not_the_first_buckets_511_ns() -> None:
    """Issue #14: 'db p50 511 ns, p95 511 ns, mean 619 us' - the demo sends db;dur=0.000 on
    cached answers, and HDR reports values under its 1 us resolution as the first bucket's
    top (511 ns). Percentiles there are 0; the mean is untouched."""
    lat = spread(0.020, 1000)
    db = np.where(np.arange(1000) < 970, 0.0, 0.020)
    (c,) = [c for c in breakdown(J("orders", lat, server_timing={"db": db}).result()).components
            if c.component == "db"]
    assert c.p50_s == 0.0 and c.p95_s == 0.0
    assert c.mean_s == pytest.approx(0.0006, rel=0.05)
    assert c.p50_s <= c.p95_s
