"""PromQL built from a production SLI: error ratios over a window, batched by label.

Every expression of one SLO that is evaluated at the same instant goes into one query:
each is tagged with ``label_replace(..., "perfopt_q", NAME, "", "")`` and joined with
``or``, so burn rates over six windows, the event count and the percentile cost one
HTTP request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.production.client import PrometheusClient, QueryRejected
from engine.spec.model import Slo
from engine.spec.production_model import ProductionSli

WINDOW = "{window}"
TAG = "perfopt_q"
QUANTILE = "quantile"
"""The batch name of the percentile: the one answer that is not a share or a count."""


def promql_range(seconds: float) -> str:
    """A PromQL range: 14d, 6h, 30m or plain seconds."""
    s = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def _at(template: str, seconds: float) -> str:
    return template.replace(WINDOW, promql_range(seconds))


def error_ratio(sli: ProductionSli, seconds: float) -> str:
    """Bad events / all events over the window (no series when there were no events)."""
    total = _at(sli.total, seconds)
    if sli.bad is not None:
        return f"(({_at(sli.bad, seconds)}) or vector(0)) / ({total})"
    return f"1 - ({_at(sli.good or '', seconds)}) / ({total})"


def good_ratio(sli: ProductionSli, seconds: float) -> str:
    """Good events / all events over the window."""
    return f"1 - ({error_ratio(sli, seconds)})"


def events(sli: ProductionSli, seconds: float) -> str:
    """All events in the window (the per-second rate times its length)."""
    return f"({_at(sli.total, seconds)}) * {round(seconds)}"


def slo_quantile(slo: Slo, seconds: float) -> str | None:
    """The SLO's own percentile (p95 when it names none) over the window, for a histogram."""
    assert slo.production is not None
    return quantile(slo.production, (slo.sli.percentile or 95.0) / 100.0, seconds)


def quantile(sli: ProductionSli, q: float, seconds: float) -> str | None:
    """The q-quantile of a latency histogram over the window (None for other SLIs)."""
    if sli.histogram is None:
        return None
    return (f"histogram_quantile({q:g}, sum by (le) "
            f"(rate({sli.histogram}[{promql_range(seconds)}])))")


def batch(parts: Mapping[str, str]) -> str:
    """One query answering every named expression; results carry the name in TAG."""
    tagged = [f'label_replace({expr}, "{TAG}", "{name}", "", "")' for name, expr in parts.items()]
    return " or ".join(tagged)


def read_batch(client: PrometheusClient, parts: Mapping[str, str],
               at: float) -> dict[str, float]:
    """The batch's answers at ``at`` by name, each judged the same way wherever it is read:
    a name with no series or a non-finite value (x/0, a histogram without buckets) is
    absent; a share or count below 0 (float error in ``1 - good/total``) reads 0; and a
    query that answers with several series for one name is rejected (QueryRejected), since
    which of them to judge is not known."""
    found = client.query(batch(parts), at)
    tags = [s.labels.get(TAG) for s in found]
    if any(tags.count(tag) > 1 for tag in tags):
        raise QueryRejected(f"its query returns {max(map(tags.count, tags))} series where one "
                            "is needed: aggregate it (sum(...) without by)")
    out: dict[str, float] = {}
    for series in found:
        name = series.labels.get(TAG)
        if name and series.points and math.isfinite(series.points[0][1]):
            value = series.points[0][1]
            out[name] = value if name == QUANTILE else max(0.0, value)
    return out
