"""Our generator's own lateness, against the baseline runs' (engine.analysis.generator_lag):
when it is late enough to be charged to the target, and what the regression result says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.analysis.generator_lag import LAG_SHARE, LAG_TIMES, GeneratorLag, generator_lag
from engine.analysis.regression import RegressionResult, judge_regression
from engine.analysis.regression_settings import RegressionSettings
from engine.result import RunResult, Status
from tests.support.runs import lognormal_ns, make_run


def _run(seed: int, lag_s: float, scale: float = 1.0, model: str = "open",
         host: str = "") -> RunResult:
    rng = np.random.default_rng(seed)
    run = make_run({"lookup": lognormal_ns(rng, 3000, 0.002 * scale)}, duration_s=10.0)
    validity = dataclasses.replace(run.validity, schedule_lag_p99_s=lag_s)
    extra = {**run.extra, "host": host} if host else run.extra
    return dataclasses.replace(run, validity=validity, model=model, extra=extra)


def test_late_needs_both_the_multiple_and_the_share_of_latency() -> None:
    assert GeneratorLag(1.24e-3, 0.16e-3, 0.9e-3).late  # the quick start's disturbed run
    assert not GeneratorLag(0.39e-3, 0.16e-3, 0.9e-3).late  # 2.4x: quiet runs spread so
    assert not GeneratorLag(2.3e-3, 0.37e-3, 30e-3).late  # 6x, but 8% of a 30 ms p50
    edge = GeneratorLag(LAG_TIMES * 1e-4, 1e-4, LAG_TIMES * 1e-4 / LAG_SHARE)
    assert edge.late  # both bounds are inclusive
    assert not dataclasses.replace(edge, current_s=edge.current_s * 0.999).late


def test_the_medians_of_each_side_are_compared_and_the_baseline_p50_weighs_it() -> None:
    base = [_run(k, lag) for k, lag in enumerate((0.1e-3, 0.2e-3, 0.9e-3))]
    lag = generator_lag([_run(9, 0.8e-3)], base)
    assert lag is not None
    assert lag.current_s == pytest.approx(0.8e-3) and lag.baseline_s == pytest.approx(0.2e-3)
    assert lag.latency_s == pytest.approx(2e-3, rel=0.05)  # the lognormal's median
    assert lag.late and lag.to_doc()["late"] is True
    assert "schedule lag p99 0.80 ms vs 0.20 ms in the baseline runs" in lag.note
    assert "40% of the baseline's p50" in lag.note


def test_no_figure_without_a_schedule_on_both_sides_or_from_another_host() -> None:
    base = [_run(1, 0.2e-3, host="a")]
    assert generator_lag([_run(2, 5e-3, model="closed")], base) is None  # no schedule
    assert generator_lag([_run(2, 5e-3)], [_run(1, 0.0)]) is None  # a baseline without lag
    mixed = generator_lag([_run(2, 5e-3)], [_run(1, 0.0), _run(3, 0.4e-3)])  # 0: unknown
    assert mixed is not None and mixed.baseline_s == pytest.approx(0.4e-3)
    assert generator_lag([_run(2, 5e-3)], []) is None
    assert generator_lag([_run(2, 5e-3, host="b")], base) is None  # another machine's lag
    assert generator_lag([_run(2, 5e-3, host="a")], base) is not None


def _judged(current: RunResult, base: list[RunResult]) -> RegressionResult:
    return judge_regression([current], base, RegressionSettings(tolerances={"p95": 0.05},
                                                               min_effect_s=0.0))


def test_the_note_is_said_beside_a_verdict_short_of_pass_and_the_doc_keeps_the_figure() -> None:
    base = [_run(k, 0.2e-3) for k in range(3)]
    slow = _judged(_run(7, 1.6e-3, scale=1.5), base)
    assert slow.status is Status.FAIL and slow.lag is not None and slow.lag.late
    assert slow.lag_note and slow.notes[-1] == slow.lag_note
    assert slow.disturbance.startswith("our load generator ran late (schedule lag p99 1.60 ms")
    doc = slow.to_doc({})
    assert doc["lag_note"] == slow.lag_note and doc["generator_lag"] == slow.lag.to_doc()
    calm = _judged(_run(8, 1.6e-3), base)
    assert calm.status is Status.PASS and calm.lag_note == "" and calm.notes == ()
    assert calm.disturbance  # said whatever the verdict; the remeasure skips a PASS itself
    quiet = _judged(_run(9, 0.3e-3, scale=1.5), base)
    assert quiet.status is Status.FAIL and quiet.lag_note == "" and quiet.disturbance == ""
