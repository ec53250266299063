"""engine.analysis.blocks.tamed: one disturbed run of the history does not decide the drift
estimate (issue #14: "a single disturbed run is flagged and down-weighted, not dominating"),
while a second mode that several runs share still counts as spread."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.blocks import FLAG_Z, TAMED_MIN_RUNS, tamed
from engine.analysis.compare import StatsConfig, compare
from engine.analysis.drift import noise_groups, run_noise
from engine.analysis.groups import pool
from engine.analysis.regression import check_regressions
from engine.result import RunResult, Status
from tests.support.runs import drifted_runs


def test_a_far_run_is_pulled_in_to_the_edge_of_the_others() -> None:
    rng = np.random.default_rng(5)
    y = np.concatenate([rng.normal(0.0, 0.02, 19), [0.44]])  # a p50 55% slower
    out, moved = tamed(y, np.full(20, 1e-5))
    assert moved == 1
    assert np.array_equal(out[:19], y[:19])  # the others are untouched
    others = y[:19]
    scale = np.sqrt((1.4826 * np.median(np.abs(others - np.median(others)))) ** 2 + 2e-5)
    assert out[19] == pytest.approx(np.median(others) + FLAG_Z * scale)  # its side, at FLAG_Z
    assert out[19] < 0.2


def test_a_second_mode_that_several_runs_share_stays_spread() -> None:
    """The demo's p95 sat near 6 or near 9 ms for several runs at a time: at most a tenth
    of the runs move, so six runs in the other mode keep most of the spread."""
    rng = np.random.default_rng(6)
    y = np.concatenate([rng.normal(0.0, 0.01, 14), rng.normal(-0.4, 0.01, 6)])
    out, moved = tamed(y, np.full(20, 1e-5))
    assert moved == 2  # the two farthest of the six ...
    assert np.std(out, ddof=1) > 0.8 * np.std(y, ddof=1)  # ... and most of the spread stays


def test_histories_too_small_to_call_a_run_far_are_left_as_they_are() -> None:
    """Below TAMED_MIN_RUNS the others' MAD is too unsure: ordinary runs would be moved."""
    y = np.array([0.0, 0.01, -0.01, 0.02, 0.0, -0.02, 0.01, 0.0, 0.9])
    assert y.size < TAMED_MIN_RUNS
    out, moved = tamed(y, np.full(y.size, 1e-5))
    assert moved == 0 and np.array_equal(out, y)


def test_only_latency_is_tamed_and_each_moved_run_costs_a_degree_of_freedom() -> None:
    """An error burst in 1 run of 20 is the error rate's own spread; a far latency run is
    pulled in and its degree of freedom dropped (a winsorized variance is less sure)."""
    rng = np.random.default_rng(7)
    steady = drifted_runs(rng, 19, 4000, drift=0.02, error_rate=0.001)
    burst = drifted_runs(rng, 1, 4000, median_s=0.031, drift=0.0, error_rate=0.05)
    base = drifted_runs(rng, 3, 4000, drift=0.02, error_rate=0.001)
    groups = (pool(base, None), pool(base[:1], None), pool([*steady, *burst], None))
    latency = run_noise(groups, "p50", np.random.default_rng(1))
    errors = run_noise(groups, "error_rate", np.random.default_rng(1))
    assert latency.history_tamed == 1 and latency.history_df == 18
    assert errors.history_tamed == 0 and errors.history_df == 19
    assert latency.df == errors.df - 1  # the pooled df that posterior and drift_draws use


def test_a_history_of_exactly_ten_runs_is_tamed() -> None:
    y = np.concatenate([np.random.default_rng(8).normal(0.0, 0.02, TAMED_MIN_RUNS - 1), [0.5]])
    out, moved = tamed(y, np.full(y.size, 1e-5))
    assert moved == 1 and out[-1] < 0.2


def _history(seed: int) -> tuple[list[RunResult], list[RunResult], list[RunResult]]:
    """A 3-run baseline, 19 steady earlier runs and one 55% slower (newest first)."""
    rng = np.random.default_rng(seed)
    base = drifted_runs(rng, 3, 4000, drift=0.02)
    earlier = drifted_runs(rng, 19, 4000, drift=0.02)
    disturbed = drifted_runs(rng, 1, 4000, median_s=0.031, drift=0.0)
    return base, [*earlier[:7], *disturbed, *earlier[7:]], earlier


def test_one_disturbed_earlier_run_no_longer_hides_a_regression() -> None:
    """Without taming, the one slow run set the drift sd for the next 20 applies (about
    10% instead of 2%) and a 12% p50 slowdown read INCONCLUSIVE; now it FAILS, and the
    method says a run was pulled in."""
    base, history, steady = _history(61)
    slow = drifted_runs(np.random.default_rng(62), 1, 4000, median_s=0.0225, drift=0.0)
    result = check_regressions(slow, base, {"p50": 0.05}, noise_runs=history)
    p50 = next(c for c in result.checks if c.metric == "p50" and c.journey is None)
    assert p50.status is Status.FAIL, p50.message
    cfg = StatsConfig(confidence=0.98)
    with_far = compare(base, slow, "p50", config=cfg, noise_runs=noise_groups(history))
    calm = compare(base, slow, "p50", config=cfg, noise_runs=noise_groups(steady))
    assert "1 far from the others pulled in" in with_far.method
    assert with_far.drift_sd < 2.5 * max(calm.drift_sd, 0.01)


def test_an_unchanged_service_still_passes_beside_a_disturbed_history() -> None:
    """Taming narrows the drift estimate back to the steady runs' spread: an ordinary
    current run of the same service must not FAIL against it."""
    fails = 0
    for seed in range(12):
        base, history, _ = _history(100 + seed)
        current = drifted_runs(np.random.default_rng(200 + seed), 1, 4000, drift=0.02)
        result = check_regressions(current, base, noise_runs=history)
        fails += result.status is Status.FAIL
    assert fails <= 1
