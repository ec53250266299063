"""engine.analysis.regression: the noise-aware gate against a baseline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.analysis.compare import compare
from engine.analysis.regression import (
    DEFAULT_TOLERANCES,
    Guard,
    check_regressions,
    mde_text,
    merge_tolerances,
)
from engine.analysis.regression_check import RegressionCheck
from engine.result import RunResult, Status
from engine.units import Comparison
from tests.support.runs import drifted_runs, lognormal_ns, make_run


def _runs(seed: int, runs: int, n: int = 8000, median_s: float = 0.02,
          error_rate: float = 0.0) -> list[RunResult]:
    return drifted_runs(np.random.default_rng(seed), runs, n, median_s, 0.03,
                        error_rate=error_rate)


def test_defaults_and_overrides() -> None:
    assert DEFAULT_TOLERANCES["p95"] == 0.15 and DEFAULT_TOLERANCES["error_rate"] == 0.001
    merged = merge_tolerances({"throughput": -0.2, "p90": 0.12})
    assert merged["throughput"] == 0.2 and merged["p90"] == 0.12 and merged["p50"] == 0.10


def test_a_50pct_p95_slowdown_fails_with_the_flow_message() -> None:
    """50%, not 25%: five quiet baseline runs outweigh only part of the tail's drift prior
    (StatsConfig.tail_drift, 15% a run, worth three runs), so one current run's p95 must
    move more than a median's would to be significant."""
    result = check_regressions(_runs(2, 1, median_s=0.03), _runs(1, 5))
    assert result.status is Status.FAIL
    p95 = next(c for c in result.checks if c.metric == "p95")
    assert p95.status is Status.FAIL and p95.significant
    assert p95.ci_low is not None and p95.ci_low > 0
    assert p95.message.startswith("Performance regression detected: p95 degraded by ")
    assert p95.message.endswith("%") and p95.message in result.messages
    # at 25% the p95 check is undecided (its interval reaches below 0); the gate still FAILs
    # the slowdown on its p50, whose prior is the median's 7.5%
    quarter = check_regressions(_runs(2, 1, median_s=0.025), _runs(1, 5))
    by_metric = {c.metric: c for c in quarter.checks if c.journey is None}
    assert by_metric["p95"].status is Status.INCONCLUSIVE and not by_metric["p95"].significant
    assert by_metric["p50"].status is Status.FAIL and quarter.status is Status.FAIL


def test_same_variant_is_not_flagged() -> None:
    result = check_regressions(_runs(2, 1), _runs(1, 5))
    assert result.status is Status.PASS, [c.message for c in result.checks]


def test_no_baseline_is_inconclusive_never_pass() -> None:
    result = check_regressions(_runs(2, 1), [])
    assert result.status is Status.INCONCLUSIVE
    assert all(c.status is Status.INCONCLUSIVE for c in result.checks)
    assert "no baseline" in result.checks[0].message


def test_too_few_requests_is_inconclusive_with_a_need() -> None:
    result = check_regressions(_runs(2, 1, n=100), _runs(1, 3, n=100))
    assert result.status is Status.INCONCLUSIVE  # p95 of 100 requests: too little data
    p99 = next(c for c in result.checks if c.metric == "p99")
    assert p99.requests_needed == 900


def test_a_tail_the_current_run_cannot_resolve_is_not_judged_and_does_not_hold_the_gate() -> None:
    """Issue #14: p99 of a 480-request run needs 1000, so with the default tolerances the
    gate was INCONCLUSIVE forever on the shipped specs; p50/p95 decide, p99 says why not."""
    rng = np.random.default_rng(8)
    base = drifted_runs(rng, 3, 480, drift=0.01)
    current = drifted_runs(rng, 1, 480, drift=0.01)
    result = check_regressions(current, base)
    p99 = next(c for c in result.checks if c.metric == "p99")
    assert p99.status is Status.INCONCLUSIVE and "not judged" in p99.message
    assert "needs 1000" in p99.message and "tolerances" in p99.message
    assert result.status is Status.PASS
    # named in the spec's tolerances, p99 is required and holds the gate
    assert check_regressions(current, base, {"p99": 0.2}).status is Status.INCONCLUSIVE


def test_a_large_but_noisy_change_is_inconclusive_not_fail() -> None:
    """A 40% max increase within a noisy tail is beyond tolerance but not significant."""
    rng = np.random.default_rng(4)
    base = [make_run(rng.lognormal(np.log(2e7), 1.0, 300).astype(np.int64)) for _ in range(2)]
    cur = [make_run(rng.lognormal(np.log(2e7), 1.0, 300).astype(np.int64) * 14 // 10)]
    check = next(c for c in check_regressions(cur, base).checks if c.metric == "max")
    assert check.status in (Status.INCONCLUSIVE, Status.PASS)


def test_throughput_drop_and_error_rate_rise_are_bad_directions() -> None:
    base = _runs(1, 3, n=20000, error_rate=0.001)
    cur = [make_run(np.full(20000, 20_000_000, np.int64), duration_s=10.0, errors=400)]
    result = check_regressions(cur, base, journeys=(None, "main"))
    err = next(c for c in result.checks if c.metric == "error_rate" and c.journey is None)
    assert err.status is Status.FAIL and err.change is not None and err.change > 0.01
    assert "error_rate degraded by 1.9%" in err.message
    # an open model's target that cannot keep up answers fewer requests with success: the
    # rest are errors (timeouts, refusals), and their count is what the interval measures
    slower = [make_run(np.full(20000, 20_000_000, np.int64), duration_s=10.0, errors=4000)]
    tput = next(c for c in check_regressions(slower, _runs(1, 3, n=20000)).checks
                if c.metric == "throughput")
    assert tput.status is Status.FAIL and "throughput degraded by 20.0%" in tput.message
    assert any(c.journey == "main" for c in result.checks)


def test_invalid_current_run_makes_the_result_invalid() -> None:
    cur = [make_run(np.full(5000, 20_000_000, np.int64), valid=False)]
    assert check_regressions(cur, _runs(1, 3)).status is Status.INVALID


def test_guard_from_a_confirmed_hypothesis_fails_when_the_gain_erodes() -> None:
    # one current run's p95 (about 45 ms at a 20 ms median) is known to its tail drift
    # prior (15%), so the limit sits that far above it
    guard = Guard("p95", None, Comparison("<=", 0.075, "<= 75ms"), "H1: p95 <= -50%")
    kept = check_regressions(_runs(2, 1), _runs(1, 3), guards=[guard])
    eroded = check_regressions(_runs(2, 1, median_s=0.06), _runs(1, 3), guards=[guard])
    assert kept.checks[-1].status is Status.PASS
    assert eroded.checks[-1].status is Status.FAIL
    assert eroded.checks[-1].message.startswith("Performance regression detected: p95")


def test_to_doc_matches_the_report_format() -> None:
    result = check_regressions(_runs(2, 1), _runs(1, 3))
    doc = result.to_doc({"mode": "window", "runs": 3, "days": 7.0, "pinned": None,
                         "hosts_excluded": 0})
    assert set(doc) == {"status", "baseline", "checks", "changepoints", "host_load", "host_note",
                        "machine_speed", "machine_note", "generator_lag", "lag_note", "notes",
                        "invalid_cause"}
    assert doc["host_load"] is None and doc["host_note"] == ""  # no machine samples here
    assert doc["machine_speed"] is None and doc["machine_note"] == ""  # nor probes
    assert doc["notes"] == [] and doc["invalid_cause"] is None
    invalid = check_regressions([replace(run := _runs(2, 1)[0],
                                        validity=replace(run.validity, valid=False))],
                                _runs(1, 3)).to_doc({})
    assert invalid["status"] == "INVALID" and invalid["invalid_cause"] == "run-invalid"
    assert {"metric", "journey", "baseline", "current", "change", "ci_low", "ci_high",
            "tolerance", "significant", "status", "message"} <= set(doc["checks"][0])


def test_a_vs_a_false_alarm_rate_is_within_target() -> None:
    """100 A-vs-A gates (1 current run vs 5 baseline runs, 3% drift, 0.2% errors):
    at most 5% FAIL at the default tolerances (measured ~1%; docs/STATISTICS.md)."""
    rng = np.random.default_rng(77)
    fails = 0
    for _ in range(100):
        base = drifted_runs(rng, 5, 5000, drift=0.03, error_rate=0.002)
        cur = drifted_runs(rng, 1, 5000, drift=0.03, error_rate=0.002)
        fails += int(check_regressions(cur, base).status is Status.FAIL)
    assert fails <= 5


def test_one_outlier_does_not_fail_the_max_of_a_single_run() -> None:
    """A max is one observation per run: a lone 2x hiccup in the current run must not FAIL."""
    rng = np.random.default_rng(7)
    base = make_run(rng.normal(20e6, 2e5, 2000).astype(np.int64))
    spiky = rng.normal(20e6, 2e5, 2000).astype(np.int64)
    spiky[0] = 50_000_000  # one scheduler hiccup
    result = check_regressions([make_run(spiky)], [base])
    max_check = next(c for c in result.checks if c.metric == "max")
    assert max_check.status is Status.INCONCLUSIVE
    assert "one observation per run" in max_check.message
    assert result.status is Status.PASS, [(c.metric, c.status) for c in result.checks]


def test_max_decides_over_replicated_runs() -> None:
    rng = np.random.default_rng(8)
    base = [make_run(rng.normal(20e6, 2e5, 2000).astype(np.int64)) for _ in range(4)]
    slow = [make_run((rng.normal(20e6, 2e5, 2000) * 1.0).astype(np.int64)) for _ in range(3)]
    for run in slow:
        run.journeys[0].response.record(60_000_000)  # every run's max tripled
    result = check_regressions(slow, base)
    max_check = next(c for c in result.checks if c.metric == "max")
    assert max_check.status is Status.FAIL, max_check


def test_sub_millisecond_shift_under_the_minimum_effect_does_not_fail() -> None:
    """Loopback latencies of 0.3 ms doubling between two runs of the same build is jitter."""
    rng = np.random.default_rng(9)
    base = make_run(rng.normal(300e3, 20e3, 3000).astype(np.int64))
    doubled = make_run(rng.normal(650e3, 40e3, 3000).astype(np.int64))
    strict = check_regressions([doubled], [base])
    assert any(c.metric == "p50" and c.status is Status.FAIL for c in strict.checks)
    lenient = check_regressions([doubled], [base], min_effect_s=0.001)
    p50 = next(c for c in lenient.checks if c.metric == "p50")
    assert p50.status is Status.PASS and "minimum effect" in p50.message
    assert lenient.status is not Status.FAIL


def test_a_throughput_change_with_no_measured_noise_is_never_significant() -> None:
    """Issue #14: `compare` printed `throughput -0.0% ... significant yes`. An open model
    without errors fixes the request count, so throughput's interval has no width and a run
    4 ms longer moved it by -0.04%: a change no noise was measured for is no evidence."""
    rng = np.random.default_rng(3)
    base = make_run(rng.lognormal(np.log(2e7), 0.4, 3000).astype(np.int64), duration_s=10.0)
    cur = make_run(rng.lognormal(np.log(2e7), 0.4, 3000).astype(np.int64), duration_s=10.004)
    tput = next(c for c in check_regressions([cur], [base]).checks if c.metric == "throughput")
    assert tput.change is not None and -0.001 < tput.change < 0
    assert tput.ci_low == pytest.approx(tput.ci_high)  # no width: no noise measured
    assert not tput.significant and not tput.improved and tput.status is Status.PASS
    assert "no noise measured" in tput.message and "detects: 0.0%" not in tput.message
    fewer = make_run(np.full(2400, 20_000_000, np.int64), duration_s=10.0)  # same window
    drop = next(c for c in check_regressions([fewer], [base]).checks
                if c.metric == "throughput")
    assert drop.status is Status.INCONCLUSIVE and not drop.significant  # the schedule, not
    # the service, sent fewer requests: nothing says the target could not answer them


def test_significance_names_the_side_the_whole_interval_lies_on() -> None:
    """`compare` showed `p50 -18.3% [-31.5%, -3.5%] significant no`: an interval wholly
    below 0 is a significant improvement, which the view now says ('better')."""
    base = _runs(1, 3, n=20000)
    faster = [make_run(np.full(20000, 12_000_000, np.int64), duration_s=10.0)]
    p50 = next(c for c in check_regressions(faster, base).checks if c.metric == "p50")
    assert p50.ci_high is not None and p50.ci_high < 0
    assert p50.improved and not p50.significant and p50.status is Status.PASS


def test_a_journey_the_current_run_is_too_small_for_is_not_judged() -> None:
    """The shipped quick start: 96 of a run's 480 requests are one journey's; its p50
    needs 200, so with the default tolerances the gate stayed INCONCLUSIVE forever."""
    rng = np.random.default_rng(9)

    def runs(k: int) -> list[RunResult]:
        return [make_run({"main": lognormal_ns(rng, 400), "small": lognormal_ns(rng, 96)})
                for _ in range(k)]

    result = check_regressions(runs(1), runs(3), journeys=(None, "main", "small"))
    small = [c for c in result.checks if c.journey == "small"]
    assert small and all(c.status is not Status.FAIL for c in small)
    p50 = next(c for c in small if c.metric == "p50")
    assert "not judged: the current run has 96 small requests, p50 needs 200" in p50.message
    assert result.status is Status.PASS


def test_a_max_named_in_the_tolerances_decides_and_an_unnamed_one_says_why_not() -> None:
    rng = np.random.default_rng(10)
    base, current = drifted_runs(rng, 3, 2000, drift=0.01), drifted_runs(rng, 1, 2000, drift=0.01)
    unnamed = check_regressions(current, base)
    mx = next(c for c in unnamed.checks if c.metric == "max" and c.journey is None)
    assert mx.status is Status.INCONCLUSIVE and "max: not judged: max is one observation" in mx.message
    assert unnamed.status is Status.PASS
    assert check_regressions(current, base, {"max": 0.3}).status is Status.INCONCLUSIVE


def test_an_unsure_shift_under_the_minimum_effect_passes_when_its_whole_interval_is() -> None:
    """Issue #14: a sub-millisecond p50 +20% that is not significant held the gate
    INCONCLUSIVE, while the same shift made significant would PASS under the 1 ms minimum
    effect. It passes now when even the interval's far end is under the minimum effect."""
    rng = np.random.default_rng(12)
    base = [make_run(rng.lognormal(np.log(m), 0.3, 300).astype(np.int64))
            for m in (0.30e6, 0.38e6, 0.34e6)]
    current = [make_run(rng.lognormal(np.log(0.42e6), 0.3, 300).astype(np.int64))]
    strict = check_regressions(current, base, {"p50": 0.1})
    p50 = next(c for c in strict.checks if c.metric == "p50")
    assert p50.change is not None and p50.change > 0.1 and not p50.significant
    assert p50.status is Status.INCONCLUSIVE
    lenient = check_regressions(current, base, {"p50": 0.1}, min_effect_s=0.001)
    p50 = next(c for c in lenient.checks if c.metric == "p50")
    assert p50.status is Status.PASS and "under the minimum effect 1 ms" in p50.message
    assert "at the interval's far end" in p50.message


def test_an_unsure_shift_whose_interval_reaches_past_the_minimum_effect_stays_open() -> None:
    """The point is 0.4 ms slower but the interval allows ~2 ms: no evidence of a small
    shift, so not a PASS (a gate never passes on too little data)."""
    rng = np.random.default_rng(12)
    base = [make_run(rng.lognormal(np.log(m), 0.3, 300).astype(np.int64))
            for m in (0.8e6, 1.25e6)]
    current = [make_run(rng.lognormal(np.log(1.35e6), 0.3, 300).astype(np.int64))]
    result = check_regressions(current, base, {"p50": 0.1}, min_effect_s=0.001)
    p50 = next(c for c in result.checks if c.metric == "p50")
    assert p50.effect is not None and p50.effect.diff is not None and p50.effect.diff < 0.001
    assert p50.effect.diff_ci_high is not None and p50.effect.diff_ci_high > 0.001
    assert p50.status is Status.INCONCLUSIVE and result.status is Status.INCONCLUSIVE


def _two_journeys(rng: np.random.Generator) -> RunResult:
    """platform-proactive's mix: half 21 ms dashboards, half 1 ms profiles."""
    return make_run({"dashboard": rng.lognormal(np.log(21e6), 0.1, 240).astype(np.int64),
                     "profile": rng.lognormal(np.log(1e6), 0.1, 240).astype(np.int64)})


def test_a_pooled_percentile_between_the_journeys_steps_aside_for_theirs() -> None:
    """Issue #14: the pooled p50 of a 50/50 mix of 21 ms and 1 ms journeys sits in the gap;
    its resamples land in either mode (-96%..+2356%), so the gate stayed INCONCLUSIVE on
    identical runs. Each journey's p50 decided; they judge in its place, and the pooled
    check says why it does not."""
    rng = np.random.default_rng(13)
    base, current = [_two_journeys(rng) for _ in range(2)], [_two_journeys(rng)]
    result = check_regressions(current, base, journeys=(None, "dashboard", "profile"))
    pooled = next(c for c in result.checks if c.metric == "p50" and c.journey is None)
    assert pooled.ci_high is not None and pooled.ci_high > 10.0  # too wide to decide
    assert not pooled.judged and "falls in the gap between the journeys' (dashboard" \
        in pooled.message
    assert pooled.to_doc()["judged"] is False
    own = [c for c in result.checks if c.metric == "p50" and c.journey is not None]
    assert [c.status for c in own] == [Status.PASS, Status.PASS]
    assert result.status is Status.PASS, [c.message for c in result.checks if c.judged
                                          and c.status is not Status.PASS]
    alone = check_regressions(current, base)  # no journey checks: the pooled one holds it
    assert alone.status is Status.INCONCLUSIVE
    named = check_regressions(current, base, {"p50": 0.1},
                              journeys=(None, "dashboard", "profile"))
    assert named.status is Status.INCONCLUSIVE  # the spec requires the pooled p50


def test_a_pooled_percentile_in_a_gap_steps_aside_when_its_interval_spans_too_much() -> None:
    """Quick start, fifth identical apply (2026-12-02): platform-proactive stayed INCONCLUSIVE
    on its pooled p50 (-0.2%, interval -94%..+1679%) while both journeys' p50 passed. The
    interval spanned 321x between its ends, too wide for a PASS, but was under +-1000%, the
    only width the step-aside asked about. A 21 ms and a 3 ms journey, four baseline runs:
    the same shape. It steps aside now, as it does past +-1000%."""
    from engine.analysis.intervals import interval_problem, span_problem

    def two(rng: np.random.Generator) -> RunResult:
        return make_run({"dashboard": rng.lognormal(np.log(21e6), 0.1, 240).astype(np.int64),
                         "profile": rng.lognormal(np.log(3e6), 0.1, 240).astype(np.int64)})

    rng = np.random.default_rng(1)
    base, current = [two(rng) for _ in range(4)], [two(rng)]
    result = check_regressions(current, base, journeys=(None, "dashboard", "profile"))
    pooled = next(c for c in result.checks if c.metric == "p50" and c.journey is None)
    assert pooled.ci_low is not None and pooled.ci_high is not None
    assert not interval_problem(pooled.ci_low, pooled.ci_high, "relative")
    assert span_problem(pooled.ci_low, pooled.ci_high)
    assert pooled.status is Status.INCONCLUSIVE and not pooled.judged
    assert "falls in the gap between the journeys'" in pooled.message
    assert result.status is Status.PASS, [c.message for c in result.checks if c.judged
                                          and c.status is not Status.PASS]


def test_a_span_excuses_only_a_point_within_the_tolerance() -> None:
    """The step-aside rules ask ``too_wide``: past +-1000% always; ends 4x apart only when the
    point is within the tolerance (where a PASS was refused for that width). A p95 +80%
    whose interval -10%..+270% spans 4.1x is what a regression on too little data looks like:
    it holds the gate. A guard's interval is of a value: neither rule applies."""
    from engine.analysis.regression_scope import too_wide

    def check(change: float, lo: float, hi: float, metric: str = "p95",
              guard: bool = False) -> RegressionCheck:
        return RegressionCheck(metric, "profile", 0.001, 0.001 * (1 + change), change, lo, hi,
                               0.15, False, Status.INCONCLUSIVE, "", guard=guard)

    assert too_wide(check(-0.002, -0.945, 16.79))  # platform's pooled p50, run 5: 321x
    assert not too_wide(check(0.80, -0.10, 2.70))  # past the tolerance: not excused
    assert too_wide(check(0.80, -0.95, 20.0))  # past +-1000%: no interval to speak of
    assert not too_wide(check(0.05, -0.30, 0.60))  # 2.3x: it could decide
    assert too_wide(check(0.05, -0.60, 1.00))  # 4x, point within the tolerance
    assert not too_wide(check(-0.40, -0.90, 0.20, metric="throughput"))  # a fall is bad...
    assert too_wide(check(-0.40, -0.90, 0.20))  # ...a latency falling is not
    assert not too_wide(check(0.002, 0.0005, 0.03, guard=True))  # a value, not a change


def test_a_pooled_percentile_with_no_gap_around_it_does_not_step_aside() -> None:
    """A mixture's quantile always lies between its parts' own; only a gap (the journeys
    on either side at least 2x apart, before and after) makes it jump."""
    from engine.analysis.regression_scope import _in_gap

    assert _in_gap(3.4e-3, [21e-3, 1e-3]) and _in_gap(5e-3, [1e-3, 2e-3, 12e-3])
    assert not _in_gap(12e-3, [10e-3, 14e-3])  # 1.4x apart: a blend, not a gap
    assert not _in_gap(5e-3, [1e-3, 3e-3, 4.6e-3, 9e-3])  # 4.6 and 9 ms: under 2x
    assert _in_gap(5e-3, [1e-3, 4.4e-3, 9e-3]) is True
    assert not _in_gap(None, [1e-3, 9e-3]) and not _in_gap(5e-3, [None, 9e-3])


def test_every_output_shows_a_check_that_steps_aside_as_not_judged() -> None:
    """One flag, one word: the Markdown table, `compare`'s table and the gate's message
    count the pooled p50 in the gap as not judged, never as the INCONCLUSIVE beside a PASS."""
    from engine.commands.history_views import _check_row
    from engine.gates.evaluate import Evidence, regression_gate
    from engine.records import Analysed
    from engine.report.md_loadtests import monitoring
    from engine.spec.model import Gate
    from tests.gates.test_gates import _outcome

    rng = np.random.default_rng(13)
    base, current = [_two_journeys(rng) for _ in range(2)], [_two_journeys(rng)]
    result = check_regressions(current, base, journeys=(None, "dashboard", "profile"))
    pooled = next(c for c in result.checks if c.metric == "p50" and c.journey is None)
    assert result.status is Status.PASS and not pooled.judged
    doc = result.to_doc({"mode": "last", "runs": 2, "days": None, "pinned": None,
                         "hosts_excluded": 0, "noise_runs": 0})
    row = next(line for line in monitoring({}, {"regression": doc}).splitlines()
               if line.startswith("| p50 |"))
    assert row.rstrip().endswith("| not judged |")
    assert _check_row(pooled, "98% CI")[-1] == "not judged"
    gate = regression_gate(Evidence(_outcome(), Analysed(regression=result)),
                           Gate("regression", "regression"))
    judged = sum(c.judged for c in result.checks)
    assert f"/{judged} judged metrics within tolerance" in gate.message
    assert f"({len(result.checks) - judged} not judged)" in gate.message


def _bimodal(rng: np.random.Generator, n: int = 1440, slow: int = 15) -> RunResult:
    """user-lookup's shape: ~1 ms requests, and ``slow`` of them ~40 ms (waiting behind the
    /stats cache's refresh), so the p99 (rank 15 of 1440 from the top) sits on the edge."""
    fast = lognormal_ns(rng, n - slow, 0.001, 0.15)
    return make_run(np.concatenate([fast, lognormal_ns(rng, slow, 0.04, 0.1)]), 24.0)


def test_a_tail_in_a_gap_of_the_baseline_is_not_judged_and_does_not_hold_the_gate() -> None:
    """Issue #14: three identical applies of the shipped specs left user-lookup's gate
    INCONCLUSIVE on its pooled p99 (-97%..+2031%): 1% of its 1440 requests take ~40 ms, so
    whether 14 or 16 of them did decides the p99. No number of baseline runs gives it a
    stable value; the check says so and the decided checks judge."""
    rng = np.random.default_rng(21)
    base, current = [_bimodal(rng, slow=16)], [_bimodal(rng, slow=14)]
    result = check_regressions(current, base)
    p99 = next(c for c in result.checks if c.metric == "p99")
    assert p99.ci_high is not None and p99.ci_high > 10.0 and not p99.judged
    assert "sits in a gap of the latencies in the baseline's runs" in p99.message
    assert p99.effect is not None and p99.effect.b_band is not None
    low, high = p99.effect.b_band
    assert low < 2e-3 and high > 30e-3  # the ranks around it: fast and slow requests
    assert result.status is Status.PASS, [c.message for c in result.checks if c.judged
                                          and c.status is not Status.PASS]
    assert check_regressions(current, base, {"p99": 0.2}).status is Status.INCONCLUSIVE


def test_a_tail_with_no_gap_in_the_baseline_or_a_decided_one_holds_the_gate() -> None:
    """Only a band spanning a gap in the baseline's runs steps aside: a tail
    regression (a smooth baseline, 1% of the current requests now slow) holds the gate, so
    does a wide interval over a smooth tail, and a p99 that moved into the slow mode for
    good FAILs as it did."""
    from engine.analysis.regression_scope import _gap_in_baseline

    rng = np.random.default_rng(22)
    smooth = [make_run(lognormal_ns(rng, 1440, 0.001, 0.15), 24.0)]
    grown = check_regressions([_bimodal(rng, slow=16)], smooth)  # 1% of requests now ~40 ms
    p99 = next(c for c in grown.checks if c.metric == "p99")
    assert p99.judged and p99.status is not Status.PASS and grown.status is not Status.PASS
    base = [_bimodal(rng, slow=5)]  # 0.3% slow: the p99 is a fast request
    worse = [_bimodal(rng, slow=60)]  # 4% slow: the p99 is a slow request, band and all
    result = check_regressions(worse, base)
    p99 = next(c for c in result.checks if c.metric == "p99")
    assert p99.status is Status.FAIL and p99.judged and result.status is Status.FAIL
    # two baseline runs far apart: the drift makes the interval too wide, but the tail of
    # each run is smooth (its band well under 2x), so the check holds the gate
    drifted = [make_run(lognormal_ns(rng, 1440, m, 0.3), 24.0) for m in (0.005, 0.05)]
    current = [make_run(lognormal_ns(rng, 1440, 0.005, 0.3), 24.0)]
    wide = check_regressions(current, drifted)
    check = next(c for c in wide.checks if c.metric == "p99")
    assert check.ci_high is not None and check.ci_high > 10.0  # too wide to decide
    assert check.effect is not None and check.effect.b_band is not None
    low, high = check.effect.b_band
    assert high < 2.0 * low and _gap_in_baseline(check) is None
    assert check.effect.a_band is not None  # each baseline run's own tail is smooth too
    assert check.effect.a_band[1] < 2.0 * check.effect.a_band[0]
    assert check.judged and check.status is Status.INCONCLUSIVE
    assert wide.status is Status.INCONCLUSIVE


def _stats_run(rng: np.random.Generator, queued: float) -> RunResult:
    """user-lookup's /stats beside its lookups: 360 requests ~0.9 ms, a share ``queued`` of
    them 1.5..3 ms (behind the cache's refresh) and 1.5% ~50 ms, so its p95 sits on the edge
    of the queued ones."""
    mid, slow = round(360 * queued), 5
    stats = np.concatenate([lognormal_ns(rng, 360 - mid - slow, 0.0009, 0.08),
                            lognormal_ns(rng, mid, 0.0022, 0.2), lognormal_ns(rng, slow, 0.05, 0.1)])
    return make_run({"lookup": lognormal_ns(rng, 1080, 0.001, 0.2), "stats": stats}, 24.0)


def test_a_journey_percentile_whose_baseline_runs_have_no_stable_value_is_not_judged() -> None:
    """Issue #14: user-lookup's /stats p95 read 1.05..2.67 ms over nine identical runs (3% to
    7% of its requests queued behind the cache's refresh), so identical applies left the gate
    INCONCLUSIVE on it (-24.5%, interval -76%..+103%), the current run's own tail smooth. The
    gap shows in each baseline run's band, not in the six runs' pooled one; a current point
    past the tolerance still holds the gate."""
    from engine.analysis.groups import pool, rank_band, run_band

    rng = np.random.default_rng(31)
    base = [_stats_run(rng, q) for q in (0.03, 0.07, 0.035, 0.065, 0.04, 0.06)]
    pooled, typical = rank_band(pool(base, "stats"), "p95", 0.98), run_band(
        pool(base, "stats"), "p95", 0.98)
    assert pooled is not None and typical is not None
    assert pooled[1] < 2.0 * pooled[0] and typical[1] >= 2.0 * typical[0]  # only a run's
    journeys = (None, "lookup", "stats")
    same = check_regressions([_stats_run(rng, 0.035)], base, journeys=journeys)
    stats = next(c for c in same.checks if c.journey == "stats" and c.metric == "p95")
    assert stats.status is Status.INCONCLUSIVE and not stats.judged, stats.message
    assert "sits in a gap of the latencies in the baseline's runs" in stats.message
    assert same.status is Status.PASS, [c.message for c in same.checks if c.judged
                                        and c.status is not Status.PASS]
    worse = check_regressions([_stats_run(rng, 0.2)], base, journeys=journeys)  # a fifth
    stats = next(c for c in worse.checks if c.journey == "stats" and c.metric == "p95")
    assert stats.judged and stats.status is not Status.PASS
    assert worse.status is not Status.PASS


def test_the_smallest_detectable_change_is_said_both_ways_for_a_log_scale_metric() -> None:
    """H1's detail read 'smallest change this noise detects: 428.8%' beside a CONFIRMED -91%:
    the interval is symmetric in log, so the fall as detectable is 1 - 1/(1 + mde)."""
    rng = np.random.default_rng(14)
    effect = compare(drifted_runs(rng, 2, 300, drift=0.5), drifted_runs(rng, 2, 300, drift=0.5),
                     "p95", None)
    assert effect.mde is not None and effect.mde > 0.5
    fall = effect.mde / (1 + effect.mde)
    assert mde_text(effect) == (f"; smallest change this noise detects: -{fall * 100:.1f}% or "
                                f"+{effect.mde * 100:.1f}%")
    assert fall < 1.0  # a fall can never exceed -100%


def test_an_undecided_gate_says_which_check_and_why_in_its_message() -> None:
    """Issue #14: three quick-start applies on a noisy VM printed 'regression=INCONCLUSIVE'
    and '8/12 judged metrics within tolerance of the baseline': nothing in the terminal or
    JUnit said what was undecided. The message now names the first undecided check with
    its interval and the smallest change its noise detects."""
    from engine.gates.evaluate import Evidence, regression_gate
    from engine.records import Analysed
    from engine.spec.model import Gate
    from tests.gates.test_gates import _outcome

    rng = np.random.default_rng(11)
    base = [make_run(lognormal_ns(rng, 480, 0.010 * k, sigma=0.3)) for k in (1, 2, 1, 2)]
    result = check_regressions([make_run(lognormal_ns(rng, 480, 0.0141, sigma=0.3))], base)
    assert result.status is Status.INCONCLUSIVE
    undecided = [c for c in result.checks if c.judged and c.status is Status.INCONCLUSIVE]
    gate = regression_gate(Evidence(_outcome(), Analysed(regression=result)),
                           Gate("regression", "regression"))
    assert gate.status is Status.INCONCLUSIVE
    assert f"; {len(undecided)} undecided, first {undecided[0].message}" in gate.message
    assert "smallest change this noise detects" in gate.message
    steady = [make_run(lognormal_ns(rng, 480, 0.010, sigma=0.3)) for _ in range(4)]
    calm = check_regressions([make_run(lognormal_ns(rng, 480, 0.0102, sigma=0.3))], steady)
    passed = regression_gate(Evidence(_outcome(), Analysed(regression=calm)),
                             Gate("regression", "regression"))
    assert calm.status is Status.PASS and "undecided" not in passed.message
