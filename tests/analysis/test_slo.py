"""SLO checks and error budgets on one run: verdicts, margins, too-little data, budgets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.analysis.slo import check_slo, error_budget
from engine.result import RunResult, Status
from engine.spec.model import Sli, Slo
from engine.units import parse_comparison
from tests.support.runs import make_run


def _latency_slo(objective: str, pct: float = 95.0) -> Slo:
    return Slo("p", Sli("latency", "latency", None, pct), parse_comparison(objective, "duration"),
               target=pct / 100)


def _ms(n: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(10, 30, n) * 1e6).astype(np.int64)


def test_pass_with_margin_and_error_bound() -> None:
    check = check_slo(_latency_slo("< 50ms"), make_run(_ms(1000)))
    assert check.status is Status.PASS
    assert check.value == pytest.approx(0.029, rel=0.02)
    assert check.margin == pytest.approx((0.05 - check.value) / 0.05)
    assert 0 < check.error_bound < 0.002


def test_fail_says_the_flow_message() -> None:
    check = check_slo(_latency_slo("< 20ms"), make_run(_ms(1000)))
    assert check.status is Status.FAIL and check.margin is not None and check.margin < 0
    assert check.message.startswith("SLO breached: p95 ") and "exceeds target < 20ms" in check.message


def test_too_few_requests_for_the_percentile_is_inconclusive() -> None:
    check = check_slo(_latency_slo("< 20ms", 99.0), make_run(_ms(500)))
    assert check.status is Status.INCONCLUSIVE
    assert "500, need at least 1000" in check.message


def test_invalid_run_is_never_judged() -> None:
    check = check_slo(_latency_slo("< 50ms"), make_run(_ms(1000), valid=False))
    assert check.status is Status.INVALID


def test_error_rate_slo_and_its_budget_burn() -> None:
    slo = Slo("e", Sli("error_rate", "error_rate"), parse_comparison("< 1%", "percent"),
              target=0.99)
    run = make_run(_ms(1000), errors=20)
    assert check_slo(slo, run).status is Status.FAIL
    budget = error_budget(slo, run)
    assert budget is not None
    assert budget.bad_ratio == pytest.approx(0.02) and budget.burn_rate == pytest.approx(2.0)
    assert budget.tier.startswith("1x") and "stop feature work" in budget.policy


def test_latency_budget_counts_requests_over_the_threshold() -> None:
    budget = error_budget(_latency_slo("< 20ms"), make_run(_ms(1000)))
    assert budget is not None
    assert budget.bad_ratio == pytest.approx(0.5, abs=0.05)  # uniform 10-30 ms
    assert budget.burn_rate == pytest.approx(budget.bad_ratio / 0.05)


def _with_dropped(run: RunResult, dropped: int) -> RunResult:
    journey = run.journeys[0]
    lost = replace(journey, outcomes={**journey.outcomes, "dropped": dropped})
    return replace(run, journeys=(lost,))


def test_unanswered_requests_count_against_a_latency_slo() -> None:
    # every answered request is fast, but 10% were dropped: no p95 can be met
    run = _with_dropped(make_run(_ms(1000)), 112)
    check = check_slo(_latency_slo("< 50ms"), run)
    assert check.status is Status.FAIL
    assert "10.1% of requests were never answered (112 dropped" in check.message
    assert "more than the 5% a p95 allows" in check.message
    budget = error_budget(_latency_slo("< 50ms"), run)
    assert budget is not None and budget.bad_ratio == pytest.approx(112 / 1112)


def test_a_few_unanswered_requests_within_the_tail_leave_the_value_to_decide() -> None:
    run = _with_dropped(make_run(_ms(1000)), 10)  # 1% < the 5% a p95 allows
    assert check_slo(_latency_slo("< 50ms"), run).status is Status.PASS
