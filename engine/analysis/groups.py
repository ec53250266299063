"""One group of runs for a comparison: pooled histogram, point values, within-run draws.

Used by engine.analysis.compare (docs/STATISTICS.md, "Method"). For a percentile the
k-th smallest of n multinomial draws is ``G^-1(U)`` with ``U ~ Beta(k, n - k + 1)``; the
mean uses its CLT form, throughput a binomial (open model) or Poisson (closed) count of
ok responses, error rate a binomial count of errors.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.analysis.blocks import interval_counts
from engine.analysis.metrics import is_latency, merged_response, percentile_of
from engine.result import RunResult

__all__ = ["Group", "centre", "count_draws", "draws", "inverse", "log_scale", "point", "pool",
           "rank", "rank_band", "run_band", "run_centred", "transform"]

NS = 1e-9
Array = Any  # numpy arrays: numpy's stubs make ndarray generics noisy under --strict


@dataclass(frozen=True)
class Group:
    """One group's pooled data for one journey selection."""

    values: Array  # bucket values, seconds, ascending
    counts: Array  # int64 counts per bucket
    requests: int
    errors: int
    duration_s: float
    per_run: tuple[Group, ...] = ()
    scheduled: bool = True
    """Open model: the request count was scheduled, only outcomes vary."""
    blocks: tuple[Array, Array] | None = None
    """One run's 1 s intervals (engine.analysis.blocks.interval_counts), when kept."""
    ok_in_load: float | None = None
    """OK answers to the load, the backlog's left out (RunResult.in_load): throughput's
    count. None: every OK answer (``requests - errors``)."""

    @property
    def ok(self) -> float:
        """Throughput's count: OK answers to the load."""
        return float(self.requests - self.errors) if self.ok_in_load is None else self.ok_in_load

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def run_group(run: RunResult, journey: str | None) -> Group:
    selected = [j for j in run.journeys if journey is None or j.name == journey]
    requests = sum(j.requests for j in selected)
    errors = sum(j.errors for j in selected)
    ok = run.in_load(journey).ok
    # a backlog left out: the OK count is what the target could carry, not the schedule's
    backlog = ok < requests - errors - 0.5
    if selected:
        values, counts = merged_response(run, journey).recorded()
    else:
        values, counts = np.zeros(0, np.int64), np.zeros(0, np.int64)
    return Group(np.asarray(values, np.float64) * NS, np.asarray(counts, np.int64),
                 requests, errors, run.duration_s, scheduled=run.model == "open" and not backlog,
                 blocks=interval_counts(run, journey) if selected else None, ok_in_load=ok)


def pool(runs: Sequence[RunResult], journey: str | None) -> Group:
    parts = tuple(run_group(r, journey) for r in runs)
    if not parts:
        return Group(np.zeros(0), np.zeros(0, np.int64), 0, 0, 0.0)
    values, inverse = np.unique(np.concatenate([p.values for p in parts]), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([p.counts for p in parts]),
                         minlength=values.size).astype(np.int64)
    return Group(values, counts, sum(p.requests for p in parts), sum(p.errors for p in parts),
                  sum(p.duration_s for p in parts), parts, all(p.scheduled for p in parts),
                  ok_in_load=sum(p.ok for p in parts))


def rank(metric: str, n: int) -> int:
    """1-based rank of the order statistic (HdrHistogram's rank rule)."""
    if metric == "max":
        return n
    return max(1, min(n, math.ceil(percentile_of(metric) / 100.0 * n)))


def run_centred(g: Group, metric: str) -> bool:
    """Whether ``centre`` of ``g`` is its runs' geometric mean (not the pooled ``point``):
    a latency metric of a group with two or more runs that hold requests."""
    return is_latency(metric) and sum(1 for p in g.per_run if p.n > 0) >= 2


def centre(g: Group, metric: str) -> float | None:
    """A group's value in a comparison: for a latency metric (percentile, mean, max) of two
    or more runs with requests, the geometric mean of the runs' own values (``point`` of
    each run with data; for the max that is the centre of the Welch interval on log per-run
    maxima); otherwise the pooled ``point`` (throughput and error rate are counts). None
    without data.

    The between-run model (engine.analysis.drift) takes each run's log value as the service's
    level plus that run's drift, and widens each group's value by the drift over its run
    count: the estimate that model calls for is the runs' mean log value. A pooled
    percentile is another quantity: one slow run puts its whole share of the requests into
    the pooled tail, and a current run -- always one run, its own value -- was judged
    against that tail (docs/STATISTICS.md, "What is compared")."""
    if not run_centred(g, metric):
        return point(g, metric)
    values = [v for v in (point(r, metric) for r in g.per_run) if v is not None and v > 0]
    return statistics.geometric_mean(values) if values else point(g, metric)


def point(g: Group, metric: str) -> float | None:
    """The metric of a group's pooled data (one run: that run's), or None without data."""
    if metric in ("throughput", "error_rate", "availability"):
        if g.requests == 0 or g.duration_s <= 0:
            return None
        if metric == "throughput":
            return g.ok / g.duration_s
        return {"error_rate": g.errors / g.requests,
                "availability": (g.requests - g.errors) / g.requests}[metric]
    n = g.n
    if n == 0:
        return None
    if metric == "mean":
        return float(np.dot(g.values, g.counts) / n)
    return _at_rank(g, rank(metric, n))


def _at_rank(g: Group, r: int) -> float:
    """The value of the r-th smallest request (1-based, clamped to 1..n)."""
    idx = int(np.searchsorted(np.cumsum(g.counts), max(1, min(g.n, r)), side="left"))
    return float(g.values[idx])


def rank_band(g: Group, metric: str, confidence: float) -> tuple[float, float] | None:
    """The distribution-free interval of a percentile in group ``g``: the values at the
    ranks ``z`` binomial standard deviations either side of its rank (the order statistics
    that bracket the true quantile at ``confidence``). None for other metrics or no data.
    Where the sample has almost no density at the quantile (a gap between two modes) the
    band spans the gap (engine.analysis.regression_scope)."""
    if not is_latency(metric) or metric in ("mean", "max") or g.n == 0:
        return None
    from scipy.special import ndtri  # norm.ppf without importing scipy.stats

    n, p = g.n, percentile_of(metric) / 100.0
    half = float(ndtri((1.0 + confidence) / 2.0)) * math.sqrt(n * p * (1.0 - p))
    return _at_rank(g, math.floor(n * p - half)), _at_rank(g, math.ceil(n * p + half))


def run_band(g: Group, metric: str, confidence: float) -> tuple[float, float] | None:
    """``rank_band`` at one run's size: for a group of two or more runs with requests, the
    geometric means of its runs' own bands' ends (a typical run's band); else the group's.

    A comparison judges one current run, so whether a percentile has a stable value at that
    length is a question about a run, not about the pooled baseline: pooling k runs narrows
    its band (as a share of the requests) sqrt(k)-fold. user-lookup's /stats p95, whose nine
    runs on one day read 1.05..2.67 ms (3% to 7% of its requests wait 1.5..3 ms behind the
    cache's refresh), had a pooled band of 1.36..2.53 ms over six runs and 1.36..2.13 ms
    over nine, under 2x, while a typical run's spanned 1.2..3.1 ms (each run's own 1.6x to 3.9x)."""
    parts = [p for p in g.per_run if p.n > 0]
    if len(parts) < 2:
        return rank_band(g, metric, confidence)
    bands = [b for b in (rank_band(p, metric, confidence) for p in parts)
             if b is not None and b[0] > 0]
    if len(bands) < 2:
        return rank_band(g, metric, confidence)
    return (statistics.geometric_mean(b[0] for b in bands),
            statistics.geometric_mean(b[1] for b in bands))


def draws(g: Group, metric: str, size: int, rng: np.random.Generator) -> Array:
    """``size`` within-run bootstrap replicates of the metric of group ``g``."""
    if metric in ("throughput", "error_rate", "availability"):
        return count_draws(g, metric, size, rng)
    n = g.n
    if metric == "mean":
        mean = float(np.dot(g.values, g.counts) / n)
        var = float(np.dot((g.values - mean) ** 2, g.counts) / n)
        return mean + math.sqrt(var / n) * rng.standard_normal(size)
    k = rank(metric, n)
    u = rng.beta(k, n - k + 1, size)
    idx = np.searchsorted(np.cumsum(g.counts), u * n, side="left")
    return g.values[np.minimum(idx, g.values.size - 1)]


def count_draws(g: Group, metric: str, size: int, rng: np.random.Generator) -> Array:
    if metric == "throughput":
        ok = g.ok
        if g.scheduled:  # the arrival count was fixed by the schedule; outcomes vary
            return rng.binomial(g.requests, min(1.0, ok / g.requests), size) / g.duration_s
        return rng.poisson(ok, size) / g.duration_s
    errors = rng.binomial(g.requests, g.errors / g.requests, size) / g.requests
    return errors if metric == "error_rate" else 1.0 - errors


def log_scale(metric: str) -> bool:
    """Latency and throughput vary multiplicatively; rates of errors additively."""
    return metric not in ("error_rate", "availability")


def transform(metric: str, x: Array) -> Array:
    if log_scale(metric):
        return np.log(np.maximum(x, 1e-12))
    return np.asarray(x, np.float64)


def inverse(metric: str, t: Array) -> Array:
    return np.exp(np.clip(t, -700.0, 700.0)) if log_scale(metric) else np.clip(t, 0.0, None)
