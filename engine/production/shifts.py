"""Change points in the production series (issue #17): where did the SLI shift within the
window, found without being told a deploy time.

One range query stepped by STEP (the percentile for a latency histogram, else the error
ratio, each over the step before it), then the history's e-divisive change points
(engine.history.changepoint: energy distance with a permutation test). A shift counts
when it moves the SLI by at least MIN_CHANGE of its budget (error ratio) or 10% (percentile).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.production import queries as q
from engine.production.client import PrometheusClient
from engine.spec.model import Slo

STEP = 6 * 3600.0
MIN_CHANGE = 0.25
"""Error-ratio shifts under a quarter of the budget are not reported."""
MIN_LATENCY_CHANGE = 0.10


@dataclass(frozen=True)
class Shift:
    """The SLI moved from ``before`` to ``after`` (segment medians) starting at ``at``."""

    at: float
    before: float
    after: float
    worse: bool


def shifts(client: PrometheusClient, slo: Slo, start: float, end: float) -> tuple[Shift, ...]:
    """The change points of the SLO's 6-hourly series over [start, end]."""
    from engine.history.changepoint import SeriesPoint, detect_changepoints  # numpy: lazy

    sli = slo.production
    assert sli is not None and slo.target is not None
    pct = q.slo_quantile(slo, STEP)
    name = f"p{slo.sli.percentile or 95.0:g}"  # the SLO's own percentile, not always p95
    expr, metric = (pct, name) if pct is not None else (q.error_ratio(sli, STEP), "error_rate")
    found = client.query_range(expr, start + STEP, end, STEP)
    points = [SeriesPoint(i, t, v) for i, (t, v) in enumerate(found[0].points)] if found else []
    if len(points) < 8:
        return ()
    threshold = MIN_LATENCY_CHANGE if pct is not None else MIN_CHANGE * (1.0 - slo.target)
    cps = detect_changepoints(points, metric, min_change=threshold)
    return tuple(Shift(cp.at, cp.before, cp.after, cp.after > cp.before) for cp in cps)
