"""engine.analysis.compare: the two-level bootstrap's intervals, sufficiency rules and sample needs."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.blocks import flag_disturbed, interval_counts
from engine.analysis.compare import StatsConfig, compare, samples_to_decide
from engine.analysis.drift import run_noise
from engine.analysis.groups import centre, point, pool
from engine.analysis.intervals import interval_problem, span_problem
from engine.analysis.metrics import percentile_level
from engine.analysis.regression import (
    DEFAULT_TOLERANCES,
    GATE_CONFIG,
    RegressionCheck,
    check_regressions,
)
from engine.result import RunInterval, RunResult, Status
from tests.support.runs import drifted_runs, histogram_ns, lognormal_ns, make_run


def _runs(seed: int, runs: int, n: int, median_s: float = 0.02, drift: float = 0.03,
          error_rate: float = 0.0) -> list[RunResult]:
    return drifted_runs(np.random.default_rng(seed), runs, n, median_s, drift,
                        error_rate=error_rate)


def test_order_statistic_draws_match_an_explicit_multinomial_bootstrap() -> None:
    """The Beta-rank shortcut has the distribution of 'draw multinomial counts, read rank
    k': compare the two intervals for p95 of one run (no drift: one run per side)."""
    rng = np.random.default_rng(3)
    run = make_run(lognormal_ns(rng, 3000))
    values, counts = run.journeys[0].response.recorded()
    draws = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=4000)
    rank = int(np.ceil(0.95 * counts.sum()))
    idx = (np.cumsum(draws, axis=1) < rank).sum(axis=1)
    explicit = np.quantile(values[idx] * 1e-9, [0.025, 0.975])
    effect = compare([run], [run], "p95", config=StatsConfig(assumed_drift=0.0, tail_drift=0.0,
                                                              resamples=4000))
    assert effect.b_ci_low == pytest.approx(explicit[0], rel=0.01)
    assert effect.b_ci_high == pytest.approx(explicit[1], rel=0.01)


def test_identical_groups_give_an_interval_around_zero() -> None:
    runs = _runs(1, 3, 5000)
    effect = compare(runs, runs, "p95")
    assert effect.change == 0.0
    assert effect.ci_low is not None and effect.ci_high is not None
    assert effect.ci_low < 0.0 < effect.ci_high
    assert not effect.insufficient and "bootstrap" in effect.method


def test_a_real_slowdown_has_an_interval_above_zero() -> None:
    """The median's interval clears +10%; the p95's clears 0 only, for three runs a side
    outweigh only part of a tail's drift prior (StatsConfig.tail_drift: 15% against 7.5%)."""
    base, slower = _runs(1, 3, 5000), _runs(2, 3, 5000, median_s=0.025)
    median, tail = compare(base, slower, "p50"), compare(base, slower, "p95")
    assert median.change == pytest.approx(0.25, abs=0.06)
    assert tail.change == pytest.approx(0.25, abs=0.06)
    assert median.ci_low is not None and median.ci_low > 0.1
    assert tail.ci_low is not None and 0.0 < tail.ci_low < median.ci_low
    assert tail.drift_sd > median.drift_sd


def _tail_moved(rng: np.random.Generator, scale: float) -> np.ndarray:
    """20,000 lognormal latencies whose slowest 8% are ``scale`` times slower: the p95
    moves by about ``scale``, the p50 not at all (queueing behind a slower neighbour)."""
    values = np.sort(lognormal_ns(rng, 20_000, 0.002))
    cut = int(values.size * 0.92)
    values[cut:] = (values[cut:] * scale).astype(np.int64)
    return values


def test_a_tail_percentile_assumes_more_drift_than_the_median() -> None:
    """One run a side cannot measure drift, so a prior stands for it: 7.5% for a median,
    15% for p90 and above (StatsConfig.tail_drift, measured on the demo's A-vs-A runs:
    p95 12-15%, p50 4%). With the median's prior a quick start's second apply FAILed
    checkout's profile p95 at +93.4% [+16.9%, +183.6%] on the same commit; a tail that
    moves by half with one run a side is now undecided, not a regression."""
    cfg = StatsConfig()
    assert cfg.drift_prior("p50") == cfg.drift_prior("mean") == cfg.assumed_drift == 0.075
    assert cfg.drift_prior("p75") == cfg.drift_prior("max") == cfg.assumed_drift
    assert cfg.drift_prior("throughput") == cfg.assumed_drift  # closed-model throughput's
    assert cfg.drift_prior("p99.9") == cfg.tail_drift
    assert [percentile_level(m) for m in ("p95", "p999", "max", "mean", "error_rate")] \
        == [95.0, 99.9, None, None, None]
    assert cfg.drift_prior("p90") == cfg.drift_prior("p95") == cfg.drift_prior("p999") \
        == cfg.tail_drift == 0.15
    rng = np.random.default_rng(7)
    base, current = make_run(_tail_moved(rng, 1.0)), make_run(_tail_moved(rng, 1.5))
    for metric, sd in (("p50", 0.075), ("p95", 0.15)):
        effect = compare([base], [current], metric)
        assert effect.drift_sd == pytest.approx(sd) and f"assumed sd {sd:g}" in effect.method
    now = check_regressions([current], [base])
    median_prior = dataclasses.replace(GATE_CONFIG, tail_drift=GATE_CONFIG.assumed_drift)
    before = check_regressions([current], [base], config=median_prior)
    p95_now, p95_before = (next(c for c in r.checks if c.metric == "p95") for r in (now, before))
    assert p95_now.change == pytest.approx(0.5, abs=0.05)
    assert p95_before.status is Status.FAIL
    assert p95_now.status is Status.INCONCLUSIVE and not p95_now.significant
    assert next(c for c in now.checks if c.metric == "p50").status is Status.PASS


def test_between_run_drift_widens_the_interval() -> None:
    """The measured spread alone (the default prior's pseudo-runs off: they add the
    assumed drift to both, which is the next tests' subject)."""
    cfg = StatsConfig(prior_runs=0)
    calm = compare(_runs(1, 3, 5000, drift=0.0), _runs(2, 3, 5000, drift=0.0), "p50",
                   config=cfg)
    drifty = compare(_runs(1, 3, 5000, drift=0.1), _runs(2, 3, 5000, drift=0.1), "p50",
                     config=cfg)
    width = [e.ci_high - e.ci_low for e in (calm, drifty)]  # type: ignore[operator]
    assert width[1] > 2 * width[0]
    assert drifty.drift_share > 0.5 > calm.drift_share


def _two_run_baseline() -> tuple[list[RunResult], list[RunResult]]:
    """Two baseline runs 40% apart (one degree of freedom of drift) and one current run
    between them: the third apply of a fresh history on a noisy machine."""
    rng = np.random.default_rng(5)
    base = [make_run(lognormal_ns(rng, 320, 0.006 * k)) for k in (1.0, 1.4)]
    return base, [make_run(lognormal_ns(rng, 320, 0.0072))]


def test_the_drift_prior_keeps_a_two_run_baseline_decidable() -> None:
    """df=1 alone draws s2 from chi2(1), whose draws near 0 gave -100%..+201935%
    intervals that no gate can use; the prior's pseudo-runs at the assumed drift keep it
    finite and within the sane width."""
    base, current = _two_run_baseline()
    bare = compare(base, current, "p95", config=StatsConfig(confidence=0.98, prior_runs=0))
    with_prior = compare(base, current, "p95", config=StatsConfig(confidence=0.98))
    assert bare.ci_high is not None and with_prior.ci_high is not None
    assert bare.ci_low is not None and with_prior.ci_low is not None
    assert "too wide to decide" in interval_problem(bare.ci_low, bare.ci_high)
    assert interval_problem(with_prior.ci_low, with_prior.ci_high) == ""
    assert with_prior.ci_low is not None and with_prior.ci_low < 0.0 < with_prior.ci_high
    shipped = StatsConfig()
    assert f"prior of {shipped.prior_runs:g} runs at sd {shipped.drift_prior('p95'):g}" \
        in with_prior.method


def test_a_long_history_narrows_what_the_drift_prior_widens() -> None:
    """Steady runs (1% drift): with twenty of them measured the shipped prior's
    pseudo-runs leave the 95% interval inside the default p50 tolerance on each side
    (about +-7%, twice the bare interval); with three, they widen it about sixfold."""
    def widths(runs: int) -> tuple[float, float]:
        out = []
        for nu in (0.0, StatsConfig().prior_runs):
            e = compare(_runs(1, runs, 3000, drift=0.01), _runs(2, 1, 3000, drift=0.01),
                        "p50", config=StatsConfig(prior_runs=nu))
            assert e.ci_high is not None and e.ci_low is not None
            out.append(e.ci_high - e.ci_low)
        return out[0], out[1]

    few, many = widths(3), widths(20)
    assert many[1] / 2 < DEFAULT_TOLERANCES["p50"]
    assert few[1] / few[0] > 2 * many[1] / many[0]


def test_error_rate_is_compared_in_absolute_points() -> None:
    effect = compare(_runs(1, 2, 20000, error_rate=0.01), _runs(2, 2, 20000, error_rate=0.03),
                     "error_rate")
    assert effect.diff == pytest.approx(0.02, abs=0.004)
    assert effect.diff_ci_low is not None and effect.diff_ci_low > 0.01


def test_too_few_requests_are_insufficient_with_a_stated_need() -> None:
    effect = compare(_runs(1, 1, 50), _runs(2, 1, 50), "p50")
    assert effect.insufficient and effect.ci_low is None
    assert effect.requests_needed == 150


def test_p99_needs_enough_samples_in_its_tail() -> None:
    effect = compare(_runs(1, 1, 500), _runs(2, 1, 500), "p99")
    assert effect.insufficient and "1000" in effect.reason
    assert effect.requests_needed == 500
    assert not compare(_runs(1, 1, 500), _runs(2, 1, 500), "p50").insufficient


def test_results_are_reproducible_with_the_seed() -> None:
    a, b = _runs(1, 3, 3000), _runs(2, 3, 3000)
    assert compare(a, b, "p95") == compare(a, b, "p95")
    other = compare(a, b, "p95", config=StatsConfig(seed=7))
    assert other.ci_low != compare(a, b, "p95").ci_low


def test_samples_to_decide_scales_with_the_interval() -> None:
    """No drift: halving the distance to the threshold needs 4x the requests (1/sqrt(n))."""
    effect = compare(_runs(1, 1, 2000, drift=0.0), _runs(2, 1, 2000, drift=0.0, median_s=0.021),
                     "p50", config=StatsConfig(assumed_drift=0.0))
    assert effect.change is not None and effect.ci_high is not None
    halfway = (effect.change + effect.ci_high) / 2
    requests, runs = samples_to_decide(effect, halfway)
    assert requests == pytest.approx(3 * 2000, rel=0.01)
    assert runs == 3
    assert samples_to_decide(effect, effect.ci_high + 0.01) == (0, 0)
    assert samples_to_decide(effect, effect.change) == (None, None)


@pytest.mark.parametrize("metric", ["p50", "p90", "p95", "p99", "max", "mean", "throughput"])
def test_every_metric_has_an_interval_containing_its_point(metric: str) -> None:
    effect = compare(_runs(1, 2, 5000), _runs(2, 2, 5000, median_s=0.03), metric)
    assert effect.ci_low is not None and effect.ci_high is not None
    assert effect.change is not None
    assert effect.ci_low <= effect.change <= effect.ci_high


def test_a_vs_a_intervals_exclude_zero_rarely() -> None:
    """200 same-distribution experiments (3 runs per group, 3% between-run drift): the 95%
    interval of the p95 change excludes 0 at most ~5% + sampling slack of the time."""
    rng = np.random.default_rng(2026)
    misses = 0
    for _ in range(200):
        a, b = drifted_runs(rng, 3, 3000), drifted_runs(rng, 3, 3000)
        e = compare(a, b, "p95")
        misses += int(e.ci_low > 0 or e.ci_high < 0)  # type: ignore[operator]
    assert misses <= 16  # 8%: nominal 5% plus ~2 standard errors of a 200-trial rate


def test_open_model_throughput_varies_only_with_outcomes() -> None:
    """The open model schedules the request count: without errors, throughput has no
    sampling noise; the closed model's completions are a Poisson count."""
    import dataclasses

    run = make_run(np.full(4000, 10**7, np.int64), 10.0)
    open_effect = compare([run], [run], "throughput")
    assert open_effect.ci_low == open_effect.ci_high == 0.0
    closed = dataclasses.replace(run, model="closed")
    closed_effect = compare([closed], [closed], "throughput")
    assert closed_effect.ci_low is not None and closed_effect.ci_low < -0.02


def test_a_journey_missing_from_a_group_is_insufficient_not_an_error() -> None:
    a = [make_run({"lookup": np.full(500, 10**7, np.int64)})]
    b = [make_run({"other": np.full(500, 10**7, np.int64)})]
    effect = compare(a, b, "p50", journey="lookup")
    assert effect.insufficient and effect.b_value is None and effect.requests_needed == 200
    zero = [make_run(np.full(500, 10**7, np.int64), duration_s=0.0)]
    assert compare(zero, zero, "throughput").insufficient


def test_max_counts_only_runs_that_recorded_latencies() -> None:
    """A run without latencies has no maximum: two runs of which one is empty are one
    observation, so the max is insufficient rather than a NaN interval."""
    rng = np.random.default_rng(5)
    a = [make_run(lognormal_ns(rng, 3000)) for _ in range(2)]
    b = [make_run(lognormal_ns(rng, 3000)), make_run(np.zeros(0, np.int64))]
    effect = compare(a, b, "max")
    assert effect.insufficient and "got 1" in effect.reason


def _with_seconds(seconds: list[np.ndarray]) -> RunResult:
    """A run whose 1 s interval snapshots hold ``seconds`` (latencies in ns, one array each)."""
    run = make_run(np.concatenate(seconds), duration_s=float(len(seconds)))
    intervals = tuple(RunInterval(i, float(i), 1.0, None, (histogram_ns(s).encode(),),
                                  ((s.size,),)) for i, s in enumerate(seconds))
    return dataclasses.replace(run, intervals=intervals)


def test_a_stalled_second_widens_the_run_noise_beyond_independent_requests() -> None:
    rng = np.random.default_rng(7)
    calm = [lognormal_ns(rng, 300) for _ in range(8)]
    stalled = [*calm[:7], lognormal_ns(rng, 300, median_s=0.1)]
    blocks = interval_counts(_with_seconds(stalled), None)
    assert blocks is not None and blocks[1].shape[0] == 8
    noise_calm = run_noise([pool([_with_seconds(calm)], None)], "p95", rng)
    noise_stall = run_noise([pool([_with_seconds(stalled)], None)], "p95", rng)
    assert noise_calm.within[0] < 3 * noise_calm.multinomial[0]  # independent: blocks agree
    assert noise_stall.within[0] > 5 * noise_stall.multinomial[0]  # one stall moves 300


def test_a_disturbed_run_is_flagged() -> None:
    flagged = flag_disturbed(np.array([0.0, 0.01, -0.01, 0.02, 0.0, 0.9]),
                             np.full(6, 1e-4), np.zeros(6, np.int64))
    assert flagged == (5,)
    flagged = flag_disturbed(np.zeros(4), np.array([1e-4, 1e-4, 1e-4, 1e-2]),
                             np.array([0, 0, 1, 1]))
    assert flagged == (3,)


def test_a_disturbed_baseline_run_widens_the_interval_instead_of_being_discounted() -> None:
    """benchmarks/power.py: with a disturbed baseline run weighted 0.1 the drift estimate
    shrank, and a current run disturbed the same way FAILed an A-vs-A comparison."""
    rng = np.random.default_rng(12)
    calm = drifted_runs(rng, 4, 600, drift=0.01)
    base = [*calm, *drifted_runs(rng, 1, 600, median_s=0.03, drift=0.0)]
    current = drifted_runs(rng, 1, 600, median_s=0.03, drift=0.0)  # disturbed the same way
    effect = compare(base, current, "p50")
    assert effect.flagged_runs == ("before run 5",)  # named ...
    assert effect.ci_low is not None and effect.ci_low < 0.0  # ... and its spread counts


def test_every_comparison_states_its_minimum_detectable_effect() -> None:
    rng = np.random.default_rng(3)
    quiet = compare(drifted_runs(rng, 3, 5000, drift=0.01), drifted_runs(rng, 3, 5000, drift=0.01),
                    "p95")
    noisy = compare(drifted_runs(rng, 3, 5000, drift=0.2), drifted_runs(rng, 3, 5000, drift=0.2),
                    "p95")
    assert quiet.mde is not None and noisy.mde is not None
    assert 0 < quiet.mde < noisy.mde
    half = (quiet.ci_high - quiet.ci_low) / 2  # type: ignore[operator]
    assert half < quiet.mde < 3 * half  # (z + z_0.8) / z of a half-width


def test_three_identical_runs_leave_the_gate_decided_with_finite_intervals() -> None:
    rng = np.random.default_rng(2027)
    for _ in range(5):
        runs = drifted_runs(rng, 4, 3000, drift=0.03)
        result = check_regressions(runs[:1], runs[1:])
        assert result.status is Status.PASS, [c.message for c in result.checks]
        for c in result.checks:
            if c.metric != "max":
                assert c.ci_low is not None and math.isfinite(c.ci_low)
                assert c.ci_high is not None and math.isfinite(c.ci_high)


def test_earlier_runs_add_degrees_of_freedom_and_narrow_a_three_run_baseline() -> None:
    """A 3-run baseline alone has df=2 (98% t multiplier 6.96); 15 earlier runs of the
    same setup in groups of five add 12 df and the interval shrinks accordingly."""
    rng = np.random.default_rng(41)
    base, current = drifted_runs(rng, 3, 3000, drift=0.05), drifted_runs(rng, 1, 3000, drift=0.05)
    earlier = drifted_runs(rng, 15, 3000, drift=0.05)
    cfg = StatsConfig(confidence=0.98)
    alone = compare(base, current, "p95", config=cfg)
    informed = compare(base, current, "p95", config=cfg,
                       noise_runs=[earlier[i:i + 5] for i in range(0, 15, 5)])
    assert informed.change == alone.change  # the values come from the compared runs only
    width = [e.ci_high - e.ci_low for e in (alone, informed)]  # type: ignore[operator]
    assert width[1] < 0.6 * width[0]
    assert "12 of them from 15 earlier runs in history" in informed.method
    assert "earlier runs" not in alone.method


def test_noisy_earlier_runs_widen_the_interval_they_inform() -> None:
    """The history is evidence, not a discount: runs that spread more than the baseline's
    make the interval wider, not narrower."""
    rng = np.random.default_rng(43)
    base, current = drifted_runs(rng, 3, 3000, drift=0.01), drifted_runs(rng, 1, 3000, drift=0.01)
    noisy = drifted_runs(rng, 10, 3000, drift=0.3)
    cfg = StatsConfig(confidence=0.98)
    alone = compare(base, current, "p50", config=cfg)
    informed = compare(base, current, "p50", config=cfg, noise_runs=[noisy[:5], noisy[5:]])
    assert informed.drift_sd > 3 * alone.drift_sd
    assert informed.ci_high - informed.ci_low > alone.ci_high - alone.ci_low  # type: ignore[operator]


def test_a_disturbed_earlier_run_is_not_named_as_a_compared_run() -> None:
    rng = np.random.default_rng(47)
    base, current = drifted_runs(rng, 3, 3000, drift=0.02), drifted_runs(rng, 1, 3000, drift=0.02)
    earlier = drifted_runs(rng, 5, 3000, drift=0.02)
    slow = drifted_runs(rng, 1, 3000, median_s=0.2, drift=0.0)  # 10x: flagged in its group
    effect = compare(base, current, "p50", noise_runs=[[*earlier[:4], *slow]])
    assert effect.flagged_runs == ()  # only 'before run k' / 'after run k' are ever named
    groups = (pool(base, None), pool(current, None), pool([*earlier[:4], *slow], None))
    noise = run_noise(groups, "p50", np.random.default_rng(1))
    assert noise.history_runs == 5 and noise.history_df == 4
    assert noise.history_tamed == 0  # five runs are too few to call one far (TAMED_MIN_RUNS)


def test_the_gate_judges_a_three_run_baseline_with_its_history() -> None:
    """A 12% p50 slowdown at 5% drift: with the baseline's 2 df alone the gate cannot say
    (INCONCLUSIVE), with 20 earlier runs of history it FAILS."""
    rng = np.random.default_rng(53)
    base = drifted_runs(rng, 3, 4000, drift=0.02)
    earlier = drifted_runs(rng, 20, 4000, drift=0.02)
    slow = drifted_runs(rng, 1, 4000, median_s=0.0225, drift=0.0)
    alone = check_regressions(slow, base, {"p50": 0.05})
    informed = check_regressions(slow, base, {"p50": 0.05}, noise_runs=earlier)
    p50 = [next(c for c in r.checks if c.metric == "p50" and c.journey is None)
           for r in (alone, informed)]
    assert p50[0].status is Status.INCONCLUSIVE, p50[0].message
    assert p50[1].status is Status.FAIL, p50[1].message


def test_a_machine_that_stays_in_one_mode_for_several_runs_is_no_regression() -> None:
    """The demo's p95 sat near 6 ms or near 9 ms for several runs at a time: a baseline of
    three low runs and a current high one is the machine's own spread, which the history
    shows as long as its runs are pooled as one group (groups of five consecutive runs
    each saw one mode and the gate FAILED an unchanged service)."""
    from engine.analysis.drift import noise_groups

    rng = np.random.default_rng(59)
    high = drifted_runs(rng, 6, 4000, median_s=0.03, drift=0.01)
    low = drifted_runs(rng, 10, 4000, median_s=0.02, drift=0.01)
    history = [*low[:4], *high[:5], *low[4:7]]  # newest first: a high regime in between
    base, current = low[7:], high[5:]
    result = check_regressions(current, base, {"p95": 0.15}, noise_runs=history)
    p95 = next(c for c in result.checks if c.metric == "p95" and c.journey is None)
    assert p95.status is not Status.FAIL, p95.message
    assert len(noise_groups(history)) == 1


def _p95(run: RunResult) -> float:
    value = point(pool([run], None), "p95")
    assert value is not None
    return value


def test_a_group_of_runs_is_valued_at_its_runs_geometric_mean() -> None:
    rng = np.random.default_rng(41)
    runs = drifted_runs(rng, 4, 3000, drift=0.1)
    group = pool(runs, None)
    expected = math.exp(sum(math.log(_p95(r)) for r in runs) / len(runs))
    assert centre(group, "p95") == pytest.approx(expected, rel=1e-12)
    assert centre(group, "p95") != point(group, "p95")  # not the pooled percentile
    assert centre(pool(runs[:1], None), "p95") == _p95(runs[0])  # one run: its own value
    assert centre(group, "throughput") == point(group, "throughput")  # counts stay pooled
    assert centre(group, "error_rate") == point(group, "error_rate")


def test_a_disturbed_baseline_run_does_not_set_the_baselines_tail() -> None:
    """Pooled, one baseline run in ten 1.4x slower put its requests into the pooled tail:
    the baseline's p95 rose toward that run's, and a slower current run read as faster."""
    rng = np.random.default_rng(42)
    calm = drifted_runs(rng, 9, 2000, sigma=0.1, drift=0.01)
    slow = drifted_runs(rng, 1, 2000, median_s=0.028, sigma=0.1, drift=0.0)
    current = drifted_runs(rng, 1, 2000, median_s=0.022, sigma=0.1, drift=0.0)  # +10%
    base = [*calm[:4], *slow, *calm[4:]]
    effect = compare(base, current, "p95")
    calm_level = math.exp(sum(math.log(_p95(r)) for r in calm) / len(calm))
    pooled = point(pool(base, None), "p95")
    assert pooled is not None and pooled > 1.15 * calm_level  # what the pooled value did
    assert effect.a_value == pytest.approx(calm_level * 1.4 ** 0.1, rel=0.02)  # 1/10 of it
    assert effect.change is not None and effect.change > 0.05  # slower reads slower
    assert effect.ci_low is not None and effect.ci_high is not None
    middle = (math.log1p(effect.ci_low) + math.log1p(effect.ci_high)) / 2
    assert middle == pytest.approx(math.log1p(effect.change), abs=0.03)  # about the value


def test_the_max_of_several_runs_is_the_centre_of_its_welch_interval() -> None:
    rng = np.random.default_rng(43)
    before, after = drifted_runs(rng, 3, 2000, drift=0.1), drifted_runs(rng, 3, 2000, drift=0.1)
    effect = compare(before, after, "max")
    maxima = [[point(pool([r], None), "max") for r in runs] for runs in (before, after)]
    a, b = (math.exp(sum(math.log(v) for v in m if v) / 3) for m in maxima)
    assert effect.a_value == pytest.approx(a) and effect.b_value == pytest.approx(b)
    assert effect.change == pytest.approx(b / a - 1.0)  # value and change say one thing


def test_a_pass_cannot_rest_on_an_interval_spanning_a_halving_to_a_doubling() -> None:
    """Issue #14, seen on a noisy VM: 'p95 +4.5% ... [-73%, +322%] PASS'. The point within
    the tolerance passed while the interval could not tell a halving from a doubling. Such
    a check is INCONCLUSIVE with its span and its minimum detectable effect; the same point
    on a narrow interval still passes, and a FAIL (the whole interval on the bad side)
    stands however wide."""
    assert span_problem(-0.4, 0.8) == ""  # a factor of 3
    assert span_problem(-0.73, 3.22) == (
        "interval -73%..+322% spans a factor of 16 between its ends (more than 4, a halving "
        "to a doubling): too wide to pass")
    assert "spans from nothing" in span_problem(-1.0, 0.5)
    rng = np.random.default_rng(11)
    # a history whose runs read 10 ms and 20 ms at p50, the current run between them
    base = [make_run(lognormal_ns(rng, 480, 0.010 * k, sigma=0.3)) for k in (1, 2, 1, 2)]
    wide = check_regressions([make_run(lognormal_ns(rng, 480, 0.0141, sigma=0.3))], base)
    (p95,) = [c for c in wide.checks if c.metric == "p95" and c.journey is None]
    assert p95.change is not None and abs(p95.change) < 0.15  # within the 15% tolerance
    assert p95.ci_low is not None and p95.ci_high is not None
    assert (1 + p95.ci_high) / (1 + p95.ci_low) >= 4
    assert p95.status is Status.INCONCLUSIVE
    assert "too wide to pass" in p95.message and "smallest change this noise" in p95.message
    # the same spread in a sub-millisecond journey: the interval's far end is under the
    # gate's minimum effect, so its PASS is sure in milliseconds, however wide in percent
    tiny = [make_run(lognormal_ns(rng, 480, 0.0001 * k, sigma=0.3)) for k in (1, 2, 1, 2)]
    jitter = check_regressions([make_run(lognormal_ns(rng, 480, 0.000141, sigma=0.3))], tiny,
                               min_effect_s=0.001)
    (sub_ms,) = [c for c in jitter.checks if c.metric == "p95" and c.journey is None]
    assert sub_ms.ci_low is not None and sub_ms.ci_high is not None
    assert (1 + sub_ms.ci_high) / (1 + sub_ms.ci_low) >= 4 and sub_ms.status is Status.PASS
    steady = [make_run(lognormal_ns(rng, 480, 0.010, sigma=0.3)) for _ in range(4)]
    calm = check_regressions([make_run(lognormal_ns(rng, 480, 0.0102, sigma=0.3))], steady)
    (ok,) = [c for c in calm.checks if c.metric == "p95" and c.journey is None]
    assert ok.status is Status.PASS


RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "runs" / "checkout-a-vs-a.json"


def _recorded_seconds() -> list[list[np.ndarray]]:
    """Two identical quick-start runs (tests/fixtures/runs/checkout-a-vs-a.json): 5 s each,
    pooled p95 7.39 ms and then 17.3 ms on the same commit and machine."""
    doc = json.loads(RECORDED.read_text(encoding="utf-8"))
    return [[np.asarray(s, np.int64) for s in run] for run in doc["runs"]]


def _pooled_p95(current: RunResult, baseline: RunResult) -> RegressionCheck:
    result = check_regressions([current], [baseline])
    return next(c for c in result.checks if c.metric == "p95" and c.journey is None)


def test_a_within_run_variance_from_five_blocks_is_not_taken_as_known() -> None:
    """The quick start's second identical apply FAILed checkout-capacity (p95 +134%, 98%
    interval +0.9%..+358%; on these recorded runs 04bc9a5 FAILed p50 and p95): each run's
    variance came from five 1 s blocks and was used as if exact. Unbiased, and drawn from
    its own uncertainty (4 df), it leaves the change undecided."""
    baseline, current = (_with_seconds(run) for run in _recorded_seconds())
    p95 = _pooled_p95(current, baseline)
    assert p95.status is Status.INCONCLUSIVE, p95.message
    assert p95.change is not None and p95.change > 1.0  # the same +134% point
    noise = run_noise([pool([baseline], None), pool([current], None)], "p95",
                      np.random.default_rng(3))
    assert noise.within_df is not None and list(noise.within_df) == [4.0, 4.0]
    draws = noise.within_draws(1, 4000, np.random.default_rng(4))
    assert float(np.quantile(draws, 0.99)) > 10.0  # 4 / chi2(4)'s 99th percentile: 13.5
    p50 = next(c for c in check_regressions([current], [baseline]).checks
               if c.metric == "p50" and c.journey is None)
    assert p50.status is not Status.FAIL, p50.message  # +29.6%: 04bc9a5 FAILed it too


def test_five_block_runs_still_fail_a_real_regression() -> None:
    """What one 5 s run a side can still decide: p95 five times slower (four times is
    undecided: the baseline run's own p95 spans 4.8..17.6 ms over its seconds), p50 1.5x."""
    before, _ = _recorded_seconds()
    p95 = _pooled_p95(_with_seconds([s * 5 for s in before]), _with_seconds(before))
    assert p95.status is Status.FAIL, p95.message
    result = check_regressions([_with_seconds([s * 3 // 2 for s in before])],
                               [_with_seconds(before)])
    p50 = next(c for c in result.checks if c.metric == "p50" and c.journey is None)
    assert p50.status is Status.FAIL, p50.message


def test_many_blocks_leave_the_within_run_variance_nearly_known() -> None:
    """24 one-second blocks (the user-lookup spec's run), one of them slow so the block
    estimate is the larger: 23 df, little wider than known."""
    rng = np.random.default_rng(5)
    seconds = [lognormal_ns(rng, 60, median_s=0.002) for _ in range(24)]
    seconds[5] = lognormal_ns(rng, 60, median_s=0.006)
    calm = [lognormal_ns(rng, 60, median_s=0.002) for _ in range(24)]
    noise = run_noise([pool([_with_seconds(seconds)], None), pool([_with_seconds(calm)], None)],
                      "p95", rng)
    assert noise.within_df is not None and noise.within_df[0] == 23.0
    draws = noise.within_draws(0, 4000, rng)
    assert float(np.median(draws)) == pytest.approx(1.0, abs=0.1)
    assert float(np.quantile(draws, 0.99)) < 2.5  # 5 blocks: 13.5 (above)


def test_a_measured_drift_carries_the_runs_own_noise_once() -> None:
    """Where two runs a side measure the spread of runs, that spread already holds each run's
    own noise, and its chi2 draw how unsure it is: the within-run draw stays as estimated."""
    rng = np.random.default_rng(6)
    runs = [_with_seconds([lognormal_ns(rng, 60, median_s=0.002) for _ in range(5)])
            for _ in range(4)]
    noise = run_noise([pool(runs[:2], None), pool(runs[2:], None)], "p95", rng)
    assert noise.df == 2.0
    assert noise.within_draws(0, 100, rng) == 1.0
