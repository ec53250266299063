"""Read SLI values out of a RunResult: one vocabulary for every analysis stage.

Metric names: ``p50 p75 p90 p95 p99 p999 max mean`` (response time from the
intended send, seconds), ``throughput`` (ok answers to the load per second of it,
engine.answered.in_load),
``error_rate`` (errors / requests) and ``availability`` (1 - error_rate).
"""

from __future__ import annotations

import re

from engine.hotpath.native import Histogram
from engine.result import RunResult
from engine.spec.lint import percentile_samples_needed

__all__ = [
    "is_latency",
    "latency_value",
    "merged_response",
    "metric_value",
    "percentile_level",
    "percentile_of",
    "tail_samples_needed",
]

_PCT_RE = re.compile(r"^p(\d+(?:\.\d+)?)$")
NS = 1e-9


def is_latency(metric: str) -> bool:
    """True for max, mean and any ``pNN`` metric."""
    return metric in ("max", "mean") or _PCT_RE.match(metric) is not None


def percentile_of(metric: str) -> float:
    """``p95`` -> 95.0, ``p999`` -> 99.9, ``p99.99`` -> 99.99."""
    m = _PCT_RE.match(metric)
    if not m:
        raise ValueError(f"not a percentile metric: {metric}")
    digits = m.group(1)
    if "." not in digits and len(digits) > 2 and digits.startswith("99"):
        return float(digits[:2] + "." + digits[2:])
    return float(digits)


def percentile_level(metric: str) -> float | None:
    """``p95`` -> 95.0 like ``percentile_of``; None for a metric that is no percentile (max,
    mean, throughput, error_rate, availability): the one test of "is it a pNN" that the
    rules keyed on a percentile's level share."""
    return percentile_of(metric) if _PCT_RE.match(metric) else None


def merged_response(run: RunResult, journey: str | None = None) -> Histogram:
    """Response-time histogram (ns) of one journey, or all journeys merged (a copy)."""
    selected = [j for j in run.journeys if journey is None or j.name == journey]
    if not selected:
        raise KeyError(f"no journey {journey!r} in run {run.profile}")
    merged = selected[0].response.copy()
    for other in selected[1:]:
        merged.add(other.response)
    return merged


def tail_samples_needed(metric: str, min_tail: int = 10) -> int:
    """Recorded values a percentile needs before it may decide anything: ``min_tail``
    expected beyond it (p95 -> 200, p99 -> 1000). 0 for max and mean."""
    if metric in ("max", "mean"):
        return 0
    return percentile_samples_needed(percentile_of(metric), min_tail)


def _requests(run: RunResult, journey: str | None) -> tuple[int, int]:
    """(requests, errors) for a journey or all."""
    selected = [j for j in run.journeys if journey is None or j.name == journey]
    return sum(j.requests for j in selected), sum(j.errors for j in selected)


def metric_value(run: RunResult, metric: str, journey: str | None = None) -> float | None:
    """The metric's value in base units, or None when the run has no data for it."""
    if metric in ("throughput", "error_rate", "availability"):
        requests, errors = _requests(run, journey)
        if requests == 0 or run.duration_s <= 0:
            return None
        if metric == "throughput":  # OK answers to the load (RunResult.in_load)
            return run.throughput(journey)
        ratio = errors / requests
        return ratio if metric == "error_rate" else 1.0 - ratio
    return latency_value(merged_response(run, journey), metric)


def latency_value(hist: Histogram, metric: str) -> float | None:
    """A latency metric (p95, max, mean) of a histogram in seconds; None when it is empty."""
    if hist.total_count == 0:
        return None
    if metric == "max":
        return float(hist.max) * NS
    if metric == "mean":
        return float(hist.mean) * NS
    return float(hist.value_at_percentile(percentile_of(metric))) * NS
