"""E-divisive change points: finds real steps, stays quiet on noise, reads the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.history.changepoint import (
    SeriesPoint,
    changepoint_views,
    detect_changepoints,
    metric_series,
)
from engine.history.store import HistoryStore
from tests.support.history import add_runs


def series(*levels: tuple[int, float], noise: float = 0.03, seed: int = 0) -> list[SeriesPoint]:
    """Runs 1..n at one per hour: ``(count, level)`` pieces with relative Gaussian noise."""
    rng = np.random.default_rng(seed)
    values = np.concatenate([lvl * (1 + noise * rng.standard_normal(n)) for n, lvl in levels])
    return [SeriesPoint(i + 1, 1.7e9 + 3600 * i, float(v)) for i, v in enumerate(values)]


def test_a_25_percent_step_is_found_where_it_happened() -> None:
    cps = detect_changepoints(series((15, 0.100), (15, 0.125)), "p95")
    assert len(cps) == 1
    (cp,) = cps
    assert (cp.index, cp.run_id) == (15, 16)
    assert cp.change is not None and 0.2 < cp.change < 0.3
    assert cp.p_value <= 0.05
    assert cp.to_doc() == {"metric": "p95", "run_id": 16, "at": 1.7e9 + 15 * 3600,
                           "before": cp.before, "after": cp.after, "change": cp.change}


def test_two_steps_are_both_found() -> None:
    cps = detect_changepoints(series((10, 0.1), (10, 0.2), (10, 0.12)), "p99")
    assert [c.index for c in cps] == [10, 20]
    assert cps[0].change is not None and cps[0].change > 0.8
    assert cps[1].change is not None and cps[1].change < -0.3


def test_stationary_noise_is_rarely_flagged() -> None:
    flagged = sum(bool(detect_changepoints(series((30, 0.1), noise=0.05, seed=s), "p95",
                                           seed=s)) for s in range(40))
    assert flagged <= 4  # alpha 5% before the min-change filter; measured 5.0% over 400


def test_a_significant_but_tiny_shift_is_dropped_by_min_change() -> None:
    tiny = series((15, 0.100), (15, 0.103), noise=0.002)
    assert detect_changepoints(tiny, "p95") == []
    assert [c.index for c in detect_changepoints(tiny, "p95", min_change=0.01)] == [15]


def test_rates_shift_in_absolute_points_from_zero() -> None:
    points = series((12, 0.0), (12, 0.02), noise=0.0)
    (cp,) = detect_changepoints(points, "error_rate")
    assert cp.index == 12 and cp.change == 0.02


def test_relative_change_from_zero_is_none_but_still_reported() -> None:
    (cp,) = detect_changepoints(series((8, 0.0), (8, 5.0), noise=0.0), "throughput")
    assert cp.change is None and cp.after == 5.0


def test_too_short_a_series_has_no_change_points() -> None:
    assert detect_changepoints(series((2, 0.1), (3, 0.5)), "p95") == []
    assert detect_changepoints([], "p95") == []


def test_same_seed_same_answer() -> None:
    points = series((10, 0.1), (10, 0.11), noise=0.04, seed=3)
    first = detect_changepoints(points, "p95", min_change=0.0, seed=7)
    assert detect_changepoints(points, "p95", min_change=0.0, seed=7) == first


def test_views_over_stored_runs(tmp_path: Path) -> None:
    now = 1.8e9
    with HistoryStore(tmp_path / "history.db") as store:
        add_runs(store, [float(d) for d in range(16, 8, -1)], now=now)
        slow = add_runs(store, [float(d) for d in range(8, 0, -1)], now=now, scale=1.4,
                        seed0=50)
        points = metric_series(store, "user-lookup", "p95")
        assert [p.at for p in points] == sorted(p.at for p in points) and len(points) == 16
        views = {v.metric: v for v in changepoint_views(store, "user-lookup")}
    assert [c.run_id for c in views["p95"].changepoints] == [slow[0]]
    assert views["p50"].to_doc()[0]["run_id"] == slow[0]
    assert views["error_rate"].changepoints == ()
