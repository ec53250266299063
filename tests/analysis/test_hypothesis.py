"""engine.analysis.hypothesis: verdicts, the interleaved runner and regression guards."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.analysis.compare import StatsConfig
from engine.analysis.hypothesis import (
    RunVariant,
    Verdict,
    evaluate_hypothesis,
    planned_looks,
    regression_checks_from_confirmed,
    run_experiment,
    sequential_config,
)
from engine.analysis.regression import check_regressions
from engine.result import RunResult, Status
from engine.spec.model import Expectation, Hypothesis, Sli, Slo, Target, Variant
from engine.units import parse_change, parse_comparison
from tests.support.runs import drifted_runs, make_run

_A = Variant(Target("http://127.0.0.1:8080"))
_B = Variant(Target("http://127.0.0.1:8081"))


def _hyp(change: str | None = None, metric: str = "p95", value: str | None = None,
         kind: str = "duration") -> Hypothesis:
    expect = Expectation(metric, None, change=parse_change(change) if change else None,
                         value=parse_comparison(value, kind) if value else None)
    return Hypothesis("H1", "Index users.email", "database", expect, 4.0, _A, _B,
                      change="if we add an index on users.email", risk="low")


def _runs(seed: int, median_s: float, runs: int = 3, n: int = 5000,
          error_rate: float = 0.0) -> list[RunResult]:
    return drifted_runs(np.random.default_rng(seed), runs, n, median_s, 0.03,
                        error_rate=error_rate)


def test_a_60pct_drop_confirms_a_50pct_expectation() -> None:
    v = evaluate_hypothesis(_hyp("<= -50%"), _runs(1, 0.02), _runs(2, 0.008))
    assert v.verdict is Verdict.CONFIRMED and v.status == "IMPLEMENTED"
    assert v.ci_high is not None and v.ci_high <= -0.5
    assert v.improvement_pct == pytest.approx(60, abs=5)
    assert v.improvement_x == pytest.approx(2.5, abs=0.3)
    assert v.before is not None and v.after is not None and v.after < v.before


def test_expecting_more_than_delivered_is_refuted_with_the_flow_message() -> None:
    v = evaluate_hypothesis(_hyp("<= -80%"), _runs(1, 0.02), _runs(2, 0.014))
    assert v.verdict is Verdict.REFUTED and v.status == "REJECTED"
    assert v.message == "Optimization did not improve p95 as expected"
    assert "-30" in v.detail or "-29" in v.detail or "-31" in v.detail


def test_the_detail_names_the_confidence_the_interval_was_computed_at() -> None:
    v = evaluate_hypothesis(_hyp("<= -80%"), _runs(1, 0.02), _runs(2, 0.014),
                            config=StatsConfig(confidence=0.9))
    assert "(90% CI " in v.detail


def test_an_absolute_max_expectation_says_why_it_has_no_interval() -> None:
    """The max is compared per run (Welch t on the change), which gives no interval for the
    candidate's value alone: the verdict must say so, not blame a zero before-value."""
    v = evaluate_hypothesis(_hyp(metric="max", value="<= 1s"), _runs(1, 0.02), _runs(2, 0.01))
    assert v.verdict is Verdict.INCONCLUSIVE
    assert "before is 0" not in v.message and "no interval for the value of max" in v.message


def test_a_tiny_run_is_inconclusive_with_a_sample_need() -> None:
    v = evaluate_hypothesis(_hyp("<= -50%"), _runs(1, 0.02, 1, 40), _runs(2, 0.008, 1, 40))
    assert v.verdict is Verdict.INCONCLUSIVE and v.status == "IN_PROGRESS"
    assert v.requests_needed == 160


def test_a_straddling_interval_says_what_would_decide_it() -> None:
    v = evaluate_hypothesis(_hyp("<= -50%"), _runs(1, 0.02, 2, 300), _runs(2, 0.0105, 2, 300))
    assert v.verdict is Verdict.INCONCLUSIVE
    assert v.runs_needed is not None and v.runs_needed > 0
    assert "would decide it" in v.message


def test_an_invalid_run_gives_invalid() -> None:
    bad = [make_run(np.full(3000, 10_000_000, np.int64), valid=False)]
    v = evaluate_hypothesis(_hyp("<= -50%"), _runs(1, 0.02), bad)
    assert v.verdict is Verdict.INVALID and v.status == "IN_PROGRESS"


def test_absolute_value_and_growth_expectations() -> None:
    ok = evaluate_hypothesis(_hyp(metric="error_rate", value="<= 1%", kind="percent"),
                             _runs(1, 0.02, error_rate=0.05), _runs(2, 0.02, error_rate=0.001))
    assert ok.verdict is Verdict.CONFIRMED
    twice = evaluate_hypothesis(_hyp(">= 2x", metric="throughput"),
                                [make_run(np.full(10000, 10**7, np.int64), 10.0)],
                                [make_run(np.full(25000, 10**7, np.int64), 10.0)])
    assert twice.verdict is Verdict.CONFIRMED and twice.improvement_x == pytest.approx(2.5)


def test_slo_objective_is_the_expectation_when_none_is_given() -> None:
    slo = Slo("lookup-p95", Sli("lookup-p95", "latency", None, 95.0),
              parse_comparison("< 200ms", "duration"))
    v = evaluate_hypothesis(_hyp(), _runs(1, 0.2), _runs(2, 0.02), slo=slo)
    assert v.verdict is Verdict.CONFIRMED and v.expectation == "p95 < 200ms"


def test_run_experiment_interleaves_a_and_b() -> None:
    calls: list[tuple[str, int]] = []

    def run_variant(variant: Variant, side: str, index: int) -> RunResult:
        calls.append((side, index))
        assert variant is (_A if side == "baseline" else _B)
        return make_run(np.full(500, 10**7, np.int64))

    base, cand = run_experiment(_hyp("<= -50%"), run_variant, rounds=3)
    assert calls == [("baseline", 0), ("candidate", 0), ("baseline", 1), ("candidate", 1),
                     ("baseline", 2), ("candidate", 2)]
    assert len(base) == len(cand) == 3


def test_run_experiment_stops_after_an_invalid_round() -> None:
    def run_variant(variant: Variant, side: str, index: int) -> RunResult:
        return make_run(np.full(500, 10**7, np.int64), valid=side != "candidate")

    base, cand = run_experiment(_hyp("<= -50%"), run_variant, rounds=5)
    assert len(base) == len(cand) == 1


def test_confirmed_expectation_becomes_a_regression_guard() -> None:
    before = _runs(1, 0.02)
    v = evaluate_hypothesis(_hyp("<= -50%"), before, _runs(2, 0.008))
    guards = regression_checks_from_confirmed([v])
    assert len(guards) == 1 and guards[0].comparison.op == "<="
    assert v.before is not None
    assert guards[0].comparison.value == pytest.approx(v.before * 0.5)
    # one current run: its p95 may drift by the tail prior (StatsConfig.tail_drift) too
    later_ok = check_regressions(_runs(3, 0.005, 1), _runs(2, 0.008), guards=guards)
    eroded = check_regressions(_runs(4, 0.016, 1), _runs(2, 0.008), guards=guards)
    assert later_ok.checks[-1].status is Status.PASS
    assert eroded.checks[-1].status is Status.FAIL
    refuted = evaluate_hypothesis(_hyp("<= -80%"), before, _runs(2, 0.014))
    assert regression_checks_from_confirmed([refuted]) == ()


def test_to_doc_has_the_report_fields() -> None:
    doc = evaluate_hypothesis(_hyp("<= -50%"), _runs(1, 0.02), _runs(2, 0.008)).to_doc()
    assert {"id", "title", "type", "change_text", "expectation", "metric", "journey",
            "effort_hours", "risk", "status", "verdict", "before", "after", "improvement_pct",
            "improvement_x", "ci_low", "ci_high", "rounds", "requests_needed",
            "message"} <= set(doc)
    assert doc["verdict"] == "CONFIRMED" and doc["rounds"] == 3


def test_a_vs_a_false_confirmation_rate_is_within_target() -> None:
    """200 no-op experiments (3 rounds, 3% drift) against the most easily confirmed
    expectation, 'any improvement' (p95 <= 0%): at most 5% CONFIRMED (measured ~2%)."""
    rng = np.random.default_rng(99)
    h = _hyp("<= 0%")
    confirmed = 0
    for _ in range(200):
        a, b = drifted_runs(rng, 3, 3000), drifted_runs(rng, 3, 3000)
        confirmed += int(evaluate_hypothesis(h, a, b).verdict is Verdict.CONFIRMED)
    assert confirmed <= 10


def test_guards_from_verdicts_keeps_declared_confirmed_hypotheses() -> None:
    from engine.analysis.hypothesis import guards_from_verdicts
    from engine.spec.model import Spec

    h = _hyp("<= -50%")
    v = evaluate_hypothesis(h, _runs(1, 0.02), _runs(2, 0.008))
    spec = Spec("s", "c", "proactive", _A.target, (), (), (), hypotheses=(h,))
    assert [g.source.split(":")[0] for g in guards_from_verdicts(spec, [v])] == ["H1"]
    other = Spec("s", "c", "proactive", _A.target, (), (), ())
    assert guards_from_verdicts(other, [v]) == ()


def _auto(change: str, max_rounds: int = 6) -> Hypothesis:
    return replace(_hyp(change), rounds="auto", max_rounds=max_rounds)


def _runner(median_a: float, median_b: float, calls: list[int]) -> RunVariant:
    rng = np.random.default_rng(11)

    def run_variant(variant: Variant, side: str, index: int) -> RunResult:
        calls.append(index)
        median = median_a if side == "baseline" else median_b
        return drifted_runs(rng, 1, 3000, median, 0.03)[0]
    return run_variant


def test_auto_rounds_stop_once_the_interval_decides() -> None:
    calls: list[int] = []
    base, cand = run_experiment(_auto("<= -50%"), _runner(0.02, 0.004, calls))
    assert len(base) == len(cand) == 2  # the first look (2 rounds) already decides
    assert evaluate_hypothesis(_auto("<= -50%"), base, cand).verdict is Verdict.CONFIRMED


def test_auto_rounds_with_an_slo_expectation_stop_once_the_slo_decides() -> None:
    """engine/drive.py passed no SLO to run_experiment, so an SLO-only expectation looked
    'no expectation to test' at every look and always ran max_rounds."""
    slo = Slo("lookup-p95", Sli("lookup-p95", "latency", None, 95.0),
              parse_comparison("< 200ms", "duration"))
    h = replace(_hyp(), rounds="auto", max_rounds=6)
    calls: list[int] = []
    base, cand = run_experiment(h, _runner(0.3, 0.02, calls), slo=slo)
    assert len(base) == len(cand) == 2
    assert evaluate_hypothesis(h, base, cand, slo=slo).verdict is Verdict.CONFIRMED
    calls.clear()
    assert len(run_experiment(h, _runner(0.3, 0.02, calls))[0]) == 6  # without it: never


def test_auto_rounds_are_bounded_by_max_rounds_when_nothing_decides() -> None:
    calls: list[int] = []
    h = _auto("<= 0%", max_rounds=4)
    base, cand = run_experiment(h, _runner(0.02, 0.02, calls), rounds="auto")
    assert len(base) == len(cand) == 4 and max(calls) == 3


def test_auto_rounds_use_one_boundary_over_the_planned_looks() -> None:
    h = _auto("<= -50%")
    assert planned_looks(h) == 5
    cfg = sequential_config(h)
    # The group-sequential boundary for looks at rounds 2..6: narrower than Bonferroni's 98%,
    # wider than one look's 90%.
    assert cfg is not None and cfg.confidence == pytest.approx(0.962, abs=0.002)
    assert sequential_config(replace(h, rounds=3)) is None
    v = evaluate_hypothesis(h, _runs(1, 0.02), _runs(2, 0.008))
    assert v.effect is not None and v.effect.confidence == pytest.approx(cfg.confidence)
    # The level is said as people write it: '96.2% CI', not '96.2136% CI'.
    assert "96.2% CI" in v.detail and "96.21" not in v.detail
    assert "look 2 of up to 5" in v.detail and "smallest change this noise detects" in v.detail
    assert v.to_doc()["mde"] is not None and v.to_doc()["mde"] > 0
