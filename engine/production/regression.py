"""Before vs after a deploy: did the production SLI get worse? (issue #17)

Compares the burn rate (and, for a latency histogram, the percentile) over the window
before the deploy with the one after it. A regression is an after-deploy burn more than
REGRESSION_BURN above the one before: half the sustainable rate, which is what turns a
comfortable budget into an exhausted one within the window.
"""

from __future__ import annotations

from engine.production import queries as q
from engine.production.client import PrometheusClient
from engine.production.result import Regression
from engine.spec.model import Slo

REGRESSION_BURN = 0.5


def regression(client: PrometheusClient, slo: Slo, start: float, end: float,
               deployed_at: float) -> Regression:
    """The before/after comparison around ``deployed_at`` (inside [start, end])."""
    sli = slo.production
    assert sli is not None and slo.target is not None
    budget = 1.0 - slo.target
    before = _pair(client, slo, deployed_at - start, deployed_at)
    after = _pair(client, slo, end - deployed_at, end)
    b_before = None if before[0] is None else before[0] / budget
    b_after = None if after[0] is None else after[0] / budget
    regressed = None
    if b_before is not None and b_after is not None:
        regressed = b_after - b_before > REGRESSION_BURN
    return Regression(deployed_at, b_before, b_after, before[1], after[1], regressed)


def _pair(client: PrometheusClient, slo: Slo, seconds: float,
          at: float) -> tuple[float | None, float | None]:
    """The error ratio and the percentile over the ``seconds`` before ``at``, read and
    checked as monitor's window figures are (queries.read_batch)."""
    sli = slo.production
    assert sli is not None
    parts = {"err": q.error_ratio(sli, seconds)}
    quantile = q.slo_quantile(slo, seconds)
    if quantile is not None:
        parts[q.QUANTILE] = quantile
    got = q.read_batch(client, parts, at)
    return got.get("err"), got.get(q.QUANTILE)
