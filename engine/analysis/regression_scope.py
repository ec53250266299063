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
from engine.analysis.intervals import interval_problem, span_problem
from engine.analysis.metrics import percentile_level
from engine.analysis.regression_check import RegressionCheck, bad_sign, label, ms_text
from engine.result import Status

__all__ = ["between_journeys", "holds_gate", "not_judged", "too_wide"]


def between_journeys(checks: Sequence[RegressionCheck],
                     named: Collection[str] = ()) -> list[RegressionCheck]:
    """A pooled percentile whose interval is too wide because it falls in a gap between the
    journeys' latencies (50/50 of a 21 ms and a 1 ms journey: the resamples' p50 lands in
    either mode, -96%..+2356%) steps aside when each journey's own check of that metric
    decided with a usable interval: they carry what the pooled one cannot. Its interval is
    not estimable (the sample has almost no density at the quantile), not merely
    uncertain. A metric the spec's ``tolerances`` name never steps aside."""
    return [c if c.metric in named else (_steps_aside(c, checks) or c) for c in checks]


def too_wide(check: RegressionCheck) -> bool:
    """Whether a check's interval is too wide for it to decide: a relative half-width beyond
    MAX_HALF_WIDTH (``interval_problem``) or, for a point within the tolerance, ends MAX_SPAN
    or more apart (``span_problem``, the width a PASS cannot rest on:
    engine.analysis.regression._within). Both structural rules here ask it. Before, they
    asked only the first: the quick start's fifth apply left platform-proactive INCONCLUSIVE
    on a pooled p50 in the gap between its journeys (-0.2%, interval -94%..+1679%: 321x
    between its ends, yet under +-1000%) while each journey's own p50 had passed. A point
    past the tolerance that is not significant is not excused by its span: that is what a
    regression measured on too little data looks like, and it holds the gate. A guard's
    interval is of a value, not a change: neither applies, and it always holds the gate."""
    lo, hi = check.ci_low, check.ci_high
    if lo is None or hi is None or check.guard:
        return False
    if interval_problem(lo, hi, "relative"):
        return True
    if check.change is None:
        return False
    within = bad_sign(check.metric) * check.change <= check.tolerance
    return within and bool(span_problem(lo, hi))


GAP_RATIO = 2.0
"""The journeys on either side of the pooled value must differ by this factor, before and
after: a mixture's quantile always lies between its parts' own; only a gap makes it jump."""


def _steps_aside(check: RegressionCheck,
                 checks: Sequence[RegressionCheck]) -> RegressionCheck | None:
    lo, hi = check.ci_low, check.ci_high
    if (check.journey is not None or check.status is not Status.INCONCLUSIVE
            or percentile_level(check.metric) is None
            or lo is None or hi is None
            or interval_problem(lo, hi, "relative", sure_bad=True)  # not finite: no
            or not too_wide(check)):  # it could decide: no
        return None
    own = [c for c in checks if c.journey is not None and c.metric == check.metric]
    if len(own) < 2 or not all(_decided(c) for c in own):
        return None
    if not (_in_gap(check.current, [c.current for c in own])
            and _in_gap(check.baseline, [c.baseline for c in own])):
        return None
    shown = ", ".join(f"{c.journey} {ms_text(c.current)}" for c in own)
    return replace(check, judged=False, message=(
        f"{check.message}; not judged: the pooled {check.metric} {ms_text(check.current)} "
        f"falls in the gap between the journeys' ({shown}), so it has no stable value; each "
        f"journey's {check.metric} decided instead"))


def _decided(check: RegressionCheck) -> bool:
    """A FAIL, or a PASS on a usable interval: what may stand in for the pooled check."""
    if check.status is Status.FAIL:
        return True
    return (check.status is Status.PASS and check.ci_low is not None
            and check.ci_high is not None and not interval_problem(check.ci_low, check.ci_high))


def _in_gap(value: float | None, parts: Sequence[float | None]) -> bool:
    """Is ``value`` between two of ``parts`` at least GAP_RATIO apart, none in between?"""
    if value is None or any(p is None or p <= 0 for p in parts):
        return False
    below = [p for p in parts if p is not None and p < value]
    above = [p for p in parts if p is not None and p > value]
    return bool(below and above) and min(above) >= GAP_RATIO * max(below)


def holds_gate(check: RegressionCheck, named: Collection[str], cfg: StatsConfig) -> bool:
    """Whether a check holds the gate. A check the current data structurally cannot decide
    does not, unless the spec's ``tolerances`` name its metric: a max from one run per side
    (one observation each), or a tail percentile beyond p95 or one journey's check the
    current run is too small for (p99 of a 480-request run needs 1000; 96 of its requests
    are one journey's) or whose value sits in a gap of a baseline run's latencies
    (``_gap_in_baseline``). More history cannot fix those, only more or longer current runs,
    so the gate would be INCONCLUSIVE forever. The pooled p50 and p95 decide (a run too
    small for them is too little data) unless they fall in a gap between the journeys
    (``between_journeys``), and so does every other INCONCLUSIVE."""
    if not check.judged:
        return False
    if check.status is not Status.INCONCLUSIVE or check.metric in named:
        return True
    if check.metric == "max":
        return not (check.effect is not None and check.effect.insufficient)
    beyond_p95 = (percentile_level(check.metric) or 0.0) > 95.0
    small_part = check.journey is not None or beyond_p95  # a journey's share, or a far tail
    return not (small_part and (_current_too_small(check, cfg) or bool(_gap_in_baseline(check))))


def _current_too_small(check: RegressionCheck, cfg: StatsConfig) -> bool:
    e = check.effect
    return (e is not None and e.insufficient and e.requests_needed is not None
            and e.n_b < requests_required(check.metric, cfg))


def _gap_in_baseline(check: RegressionCheck) -> tuple[float, float] | None:
    """A typical baseline run's band around the percentile, when the check could not decide
    because the percentile sits in a gap of a run's latencies: its interval too wide
    (``too_wide``), its point within the tolerance, and the distribution-free band of the
    baseline's runs (the values at the ranks that bracket it in each run, ``Effect.a_band``,
    engine.analysis.groups.run_band) spanning GAP_RATIO or more.

    user-lookup's pooled p99 of 1440 requests read 3.3 ms with a band of 1.75..35.8 ms (about
    1% of requests wait behind the /stats cache's refresh): whether 14 or 16 of them did
    decides it. Its /stats p95 read 1.05..2.67 ms over nine identical runs (3% to 7% of the
    requests wait 1.5..3 ms; a run's band 1.2..3.1 ms). Neither has a stable value at this run
    length, and more baseline runs cannot give it one. The baseline's runs must show the
    gap: a smooth baseline tail whose current run gained 1% of slow requests is what a tail
    regression looks like. The current run need not (until 2026-12-02 it had to, and a smooth
    current /stats p95 of 1.18 ms, band 1.09..1.72 ms, held the gate on the baseline's
    instability); a point past the tolerance is never excused, however wide its interval: that
    keeps a tail that moved into the slow mode holding the gate."""
    e, lo, hi = check.effect, check.ci_low, check.ci_high
    if (check.status is not Status.INCONCLUSIVE or e is None or e.a_band is None
            or lo is None or hi is None or not too_wide(check) or check.change is None
            or bad_sign(check.metric) * check.change > check.tolerance):
        return None
    low, high = e.a_band
    return e.a_band if low > 0 and high >= GAP_RATIO * low else None


def not_judged(check: RegressionCheck, cfg: StatsConfig) -> RegressionCheck:
    """The check as reported when it does not hold the gate: why, and what would make it count."""
    if check.effect is None or not check.judged:
        return check
    name, metric = label(check.metric, check.journey), check.metric
    require = f"name {metric} in the gate's tolerances to require it"
    if metric == "max":
        return replace(check, message=f"{name}: not judged: {check.effect.reason} ({require})")
    band = _gap_in_baseline(check)
    if band is not None:
        return replace(check, message=(
            f"{check.message}; not judged: the {metric} sits in a gap of the latencies in the "
            f"baseline's runs (the ranks around it span {ms_text(band[0])}..{ms_text(band[1])} "
            f"in a typical run), so it has no stable value at {check.effect.n_b} requests "
            f"(run longer, or {require})"))
    return replace(check, message=(
        f"{name}: not judged: the current run has {check.effect.n_b} "
        f"{check.journey + ' ' if check.journey else ''}requests, {metric} "
        f"needs {requests_required(metric, cfg)} (run longer or faster, or {require})"))
