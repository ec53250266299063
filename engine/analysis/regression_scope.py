"""Which regression checks hold the gate, and how a check that does not says why.

A check the current data structurally cannot decide (a max from one run per side, a far
tail or a journey too small in the current run, a pooled percentile between journeys)
is reported as ``not judged`` with what would make it count, and does not hold the
gate; every other INCONCLUSIVE does (docs/STATISTICS.md, "The regression gate").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from engine.analysis.compare import StatsConfig, requests_required
from engine.analysis.intervals import interval_problem
from engine.analysis.metrics import is_latency, percentile_of
from engine.analysis.regression_check import RegressionCheck, label, ms_text
from engine.result import Status

__all__ = ["between_journeys", "holds_gate", "not_judged"]


def between_journeys(checks: Sequence[RegressionCheck]) -> list[RegressionCheck]:
    """A pooled percentile whose interval is too wide because it falls between the
    journeys' latencies (50/50 of a 21 ms and a 1 ms journey: the resamples' p50 lands in
    either mode, -96%..+2356%) steps aside when each journey's own check of that metric
    decided: they carry what the pooled one cannot. Its interval is not estimable (the
    sample has almost no density at the quantile), not merely uncertain."""
    return [_steps_aside(c, checks) or c for c in checks]


def _steps_aside(check: RegressionCheck,
                 checks: Sequence[RegressionCheck]) -> RegressionCheck | None:
    lo, hi, value = check.ci_low, check.ci_high, check.current
    if (check.journey is not None or check.status is not Status.INCONCLUSIVE
            or not is_latency(check.metric) or check.metric in ("mean", "max")
            or lo is None or hi is None or value is None
            or interval_problem(lo, hi, "relative", sure_bad=True)  # not finite: no
            or not interval_problem(lo, hi, "relative")):  # sane width: it decides
        return None
    own = [c for c in checks if c.journey is not None and c.metric == check.metric]
    values = [c.current for c in own if c.current is not None]
    if (len(own) < 2 or len(values) < len(own)
            or any(c.status is Status.INCONCLUSIVE for c in own)
            or not min(values) < value < max(values)):
        return None
    shown = ", ".join(f"{c.journey} {ms_text(c.current)}" for c in own)
    return replace(check, judged=False, message=(
        f"{check.message}; not judged: the pooled {check.metric} {ms_text(value)} falls between "
        f"the journeys' ({shown}), so it has no stable value; each journey's "
        f"{check.metric} decided instead"))


def holds_gate(check: RegressionCheck, named: Collection[str], cfg: StatsConfig) -> bool:
    """Whether a check holds the gate. A check the current data structurally cannot decide
    does not, unless the spec's ``tolerances`` name its metric: a max from one run per side
    (one observation each), or a tail percentile beyond p95 or one journey's check the
    current run is too small for (p99 of a 480-request run needs 1000; 96 of its requests
    are one journey's). More history cannot fix those, only more or longer current runs,
    so the gate would be INCONCLUSIVE forever. The pooled p50 and p95 always decide (a
    run too small for them is too little data), and so does every other INCONCLUSIVE."""
    if not check.judged:
        return False
    if check.status is not Status.INCONCLUSIVE or check.metric in named:
        return True
    if check.metric == "max":
        return not (check.effect is not None and check.effect.insufficient)
    beyond_p95 = is_latency(check.metric) and check.metric != "mean" \
        and percentile_of(check.metric) > 95.0
    small_part = check.journey is not None or beyond_p95  # a journey's share, or a far tail
    return not (small_part and _current_too_small(check, cfg))


def _current_too_small(check: RegressionCheck, cfg: StatsConfig) -> bool:
    e = check.effect
    return (e is not None and e.insufficient and e.requests_needed is not None
            and e.n_b < requests_required(check.metric, cfg))


def not_judged(check: RegressionCheck, cfg: StatsConfig) -> RegressionCheck:
    """The check as reported when it does not hold the gate: why, and what would make it count."""
    if check.effect is None or not check.judged:
        return check
    name, metric = label(check.metric, check.journey), check.metric
    require = f"name {metric} in the gate's tolerances to require it"
    if metric == "max":
        return replace(check, message=f"{name}: not judged: {check.effect.reason} ({require})")
    return replace(check, message=(
        f"{name}: not judged: the current run has {check.effect.n_b} "
        f"{check.journey + ' ' if check.journey else ''}requests, {metric} "
        f"needs {requests_required(metric, cfg)} (run longer or faster, or {require})"))
