"""Noise-aware comparison of two groups of runs: an effect with a bootstrap interval.

``compare(a_runs, b_runs, metric, journey)`` returns an ``Effect``: the pooled metric
of each group, the relative change ``(b - a) / a`` and its confidence interval, the
absolute difference ``b - a`` with its interval, and the interval of ``b`` alone.

Method (docs/STATISTICS.md says why): a two-level bootstrap.

1. Within-run noise: each resample re-draws every request latency from the group's
   merged histogram buckets. For a percentile (p50..p999) the k-th smallest
   of n multinomial draws is ``G^-1(U)`` with ``U ~ Beta(k, n - k + 1)`` -- the same
   distribution as drawing the multinomial counts and reading rank k, at O(resamples)
   instead of O(resamples x buckets). The mean uses its CLT form, throughput a binomial
   count of ok responses (open model: the schedule fixed the request count) or a
   Poisson count (closed model), error rate a binomial count of errors. The max is
   one observation per run: Welch's t on the log per-run maxima (>= 2 runs per group).
2. Between-run drift: the spread of per-run values (log scale for latency and
   throughput) within each group gives a pooled variance s2 with df = runs - groups
   degrees of freedom. Each resample draws s2* = s2 df / chi2(df) and adds drift with
   variance max(0, s2* - within-run variance) / runs to each group -- Student-t wide
   when drift dominates, so 2-5 runs per group are not over-confident (resampling only
   3 runs with replacement would be), and a one-run group borrows the spread measured
   in the other group. With no group of two runs a prior (``assumed_drift``) is used.

Percentile intervals of the resampled statistic give the CI. Everything is seeded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.stats import t as t_dist

from engine.analysis.metrics import is_latency, merged_response, percentile_of
from engine.result import RunResult

__all__ = [
    "HIGHER_IS_BETTER",
    "Effect",
    "StatsConfig",
    "compare",
    "higher_is_better",
    "samples_to_decide",
]

NS = 1e-9
HIGHER_IS_BETTER = frozenset({"throughput", "availability"})
Array = Any  # numpy arrays: numpy's stubs make ndarray generics noisy under --strict


def higher_is_better(metric: str) -> bool:
    """True for throughput/availability; latency metrics and error_rate are lower-better."""
    return metric in HIGHER_IS_BETTER


@dataclass(frozen=True)
class StatsConfig:
    """Bootstrap settings. Defaults are the ones the false-alarm rates were measured at."""

    resamples: int = 2000
    confidence: float = 0.95
    """Two-sided interval level in (0, 1)."""
    seed: int = 20261127
    min_requests: int = 200
    """Fewer requests than this in a group -> insufficient."""
    min_tail: int = 10
    """A percentile needs at least this many requests above it (p99: 1000 requests)."""
    drift_floor: float = 0.0
    """Minimum between-run standard deviation assumed (log scale; 0.02 = 2%)."""
    assumed_drift: float = 0.05
    """Between-run standard deviation assumed when no group has two runs to measure it
    (log scale, latency and closed-model throughput; open-model throughput is scheduled
    and error rates vary binomially, so they assume none)."""


@dataclass(frozen=True)
class Effect:
    """Change of ``metric`` from group A (before/baseline) to group B (after/current).

    Values are in base units (seconds, requests/s, fractions). ``change`` and its CI are
    relative ((b - a) / a; None when a is 0); ``diff`` and its CI are absolute (b - a).
    ``insufficient`` means the data cannot support an interval; ``requests_needed`` then
    says how many more requests per group would.
    """

    metric: str
    journey: str | None
    a_value: float | None
    b_value: float | None
    change: float | None
    ci_low: float | None
    ci_high: float | None
    n_a: int
    n_b: int
    runs_a: int
    runs_b: int
    method: str
    diff: float | None = None
    diff_ci_low: float | None = None
    diff_ci_high: float | None = None
    b_ci_low: float | None = None
    b_ci_high: float | None = None
    confidence: float = 0.95
    drift_sd: float = 0.0
    """Estimated between-run standard deviation (log scale, or absolute for error rate)."""
    drift_share: float = 0.0
    """Share of the interval's variance that comes from between-run drift, 0..1."""
    insufficient: bool = False
    reason: str = ""
    requests_needed: int | None = None


@dataclass(frozen=True)
class _Group:
    """One group's pooled data for one journey selection."""

    values: Array  # bucket values, seconds, ascending
    counts: Array  # int64 counts per bucket
    requests: int
    errors: int
    duration_s: float
    per_run: tuple[_Group, ...] = ()
    scheduled: bool = True
    """Open model: the request count was scheduled, only outcomes vary."""

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def _run_group(run: RunResult, journey: str | None) -> _Group:
    selected = [j for j in run.journeys if journey is None or j.name == journey]
    requests = sum(j.requests for j in selected)
    errors = sum(j.errors for j in selected)
    if selected:
        values, counts = merged_response(run, journey).recorded()
    else:
        values, counts = np.zeros(0, np.int64), np.zeros(0, np.int64)
    return _Group(np.asarray(values, np.float64) * NS, np.asarray(counts, np.int64),
                  requests, errors, run.duration_s, scheduled=run.model == "open")


def _pool(runs: Sequence[RunResult], journey: str | None) -> _Group:
    parts = tuple(_run_group(r, journey) for r in runs)
    if not parts:
        return _Group(np.zeros(0), np.zeros(0, np.int64), 0, 0, 0.0)
    values, inverse = np.unique(np.concatenate([p.values for p in parts]), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([p.counts for p in parts]),
                         minlength=values.size).astype(np.int64)
    return _Group(values, counts, sum(p.requests for p in parts), sum(p.errors for p in parts),
                  sum(p.duration_s for p in parts), parts, all(p.scheduled for p in parts))


# --- point values and within-run resamples --------------------------------------------


def _rank(metric: str, n: int) -> int:
    """1-based rank of the order statistic (HdrHistogram's rank rule)."""
    if metric == "max":
        return n
    return max(1, min(n, math.ceil(percentile_of(metric) / 100.0 * n)))


def _point(g: _Group, metric: str) -> float | None:
    """The metric of a group, or None without data."""
    if metric in ("throughput", "error_rate", "availability"):
        if g.requests == 0 or g.duration_s <= 0:
            return None
        ok = g.requests - g.errors
        return {"throughput": ok / g.duration_s, "error_rate": g.errors / g.requests,
                "availability": ok / g.requests}[metric]
    n = g.n
    if n == 0:
        return None
    if metric == "mean":
        return float(np.dot(g.values, g.counts) / n)
    idx = int(np.searchsorted(np.cumsum(g.counts), _rank(metric, n), side="left"))
    return float(g.values[idx])


def _draws(g: _Group, metric: str, size: int, rng: np.random.Generator) -> Array:
    """``size`` within-run bootstrap replicates of the metric of group ``g``."""
    if metric in ("throughput", "error_rate", "availability"):
        return _count_draws(g, metric, size, rng)
    n = g.n
    if metric == "mean":
        mean = float(np.dot(g.values, g.counts) / n)
        var = float(np.dot((g.values - mean) ** 2, g.counts) / n)
        return mean + math.sqrt(var / n) * rng.standard_normal(size)
    k = _rank(metric, n)
    u = rng.beta(k, n - k + 1, size)
    idx = np.searchsorted(np.cumsum(g.counts), u * n, side="left")
    return g.values[np.minimum(idx, g.values.size - 1)]


def _count_draws(g: _Group, metric: str, size: int, rng: np.random.Generator) -> Array:
    if metric == "throughput":
        ok = g.requests - g.errors
        if g.scheduled:  # the arrival count was fixed by the schedule; outcomes vary
            return rng.binomial(g.requests, ok / g.requests, size) / g.duration_s
        return rng.poisson(ok, size) / g.duration_s
    errors = rng.binomial(g.requests, g.errors / g.requests, size) / g.requests
    return errors if metric == "error_rate" else 1.0 - errors


def _log_scale(metric: str) -> bool:
    """Latency and throughput vary multiplicatively; rates of errors additively."""
    return metric not in ("error_rate", "availability")


def _transform(metric: str, x: Array) -> Array:
    if _log_scale(metric):
        return np.log(np.maximum(x, 1e-12))
    return np.asarray(x, np.float64)


def _inverse(metric: str, t: Array) -> Array:
    return np.exp(np.clip(t, -700.0, 700.0)) if _log_scale(metric) else np.clip(t, 0.0, None)


# --- between-run drift ----------------------------------------------------------------

_WITHIN_DRAWS = 400  # enough to estimate a per-run variance to ~7%


def _drift(groups: Sequence[_Group], metric: str,
           rng: np.random.Generator) -> tuple[float, float, float]:
    """(s2, within, df): pooled variance of per-run values across runs of the same group,
    the mean within-run variance of one run's value, and the degrees of freedom.

    df is 0 when no group has two runs: drift is then unmeasured.
    """
    squares, df, within = 0.0, 0, []
    for g in groups:
        runs = [p for p in g.per_run if _point(p, metric) is not None]
        if len(runs) < 2:
            continue
        s = np.array([float(_transform(metric, np.array([_point(p, metric)]))[0]) for p in runs])
        squares += float(np.sum((s - s.mean()) ** 2))
        df += len(runs) - 1
        within += [float(np.var(_transform(metric, _draws(p, metric, _WITHIN_DRAWS, rng))))
                   for p in runs]
    if df == 0:
        return 0.0, 0.0, 0.0
    return squares / df, float(np.mean(within)), float(df)


def _drift_draws(est: tuple[float, float, float], floor: float, runs: tuple[int, int],
                 size: int, rng: np.random.Generator) -> tuple[Array, Array, float]:
    """Drift of each group's pooled value, and the point estimate tau of the drift sd.

    The per-run variance s2 (drift + within-run noise) is uncertain with df degrees of
    freedom: each resample draws s2* = s2 df / chi2(df), and the drift variance is what
    s2* leaves beyond the within-run variance (which the within-run resamples carry).
    This makes the interval Student-t wide when drift dominates and bootstrap-exact
    when it does not. A group's pooled value drifts by tau* / sqrt(runs) * Z.
    """
    s2, within, df = est
    tau = max(math.sqrt(max(0.0, s2 - within)), floor)
    if df > 0:
        tau2 = np.maximum(s2 * df / rng.chisquare(df, size) - within, floor**2)
    else:
        tau2 = np.full(size, floor**2)
    scale = np.sqrt(tau2)
    return (scale / math.sqrt(runs[0]) * rng.standard_normal(size),
            scale / math.sqrt(runs[1]) * rng.standard_normal(size), tau)


# --- sufficiency ----------------------------------------------------------------------


def _size(g: _Group, metric: str) -> int:
    """Observations behind the metric: recorded latencies, or requests for rates."""
    return g.n if is_latency(metric) else g.requests


def _required(metric: str, cfg: StatsConfig) -> int:
    """Requests a group needs before its metric gets an interval."""
    need = cfg.min_requests
    if metric not in ("max", "mean") and is_latency(metric):
        p = percentile_of(metric)
        if p < 100.0:
            need = max(need, math.ceil(cfg.min_tail / (1.0 - p / 100.0) - 1e-9))
    return need


def _shortfall(groups: Sequence[_Group], metric: str, cfg: StatsConfig) -> tuple[str, int | None]:
    """('', None) when both groups suffice, else (reason, more requests per group needed)."""
    need = _required(metric, cfg)
    sizes = [_size(g, metric) for g in groups]
    if any(not g.per_run for g in groups):
        return "a group has no runs", None
    runs = min(sum(1 for p in g.per_run if p.n > 0) for g in groups)
    if metric == "max" and runs < 2:
        # One run has one maximum: a single scheduler hiccup doubles it. Only the spread of
        # per-run maxima across replicated runs (each with latencies) can say whether the
        # max really moved; a run without latencies has no maximum to count.
        return f"max is one observation per run: needs at least 2 runs per group, got {runs}", None
    if metric == "throughput" and any(g.requests == g.errors for g in groups):
        return "a group has no successful responses", None
    if min(sizes) < need:
        reason = f"{metric} needs at least {need} requests per group, got {min(sizes)}"
        return reason, need - min(sizes)
    return "", None


# --- the comparison -------------------------------------------------------------------


def _interval(x: Array, confidence: float) -> tuple[float, float]:
    lo, hi = np.quantile(x, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    return float(lo), float(hi)


def compare(a_runs: Sequence[RunResult], b_runs: Sequence[RunResult], metric: str,
            journey: str | None = None, config: StatsConfig | None = None) -> Effect:
    """Effect of going from runs ``a_runs`` (before) to ``b_runs`` (after) on ``metric``.

    ``metric``: p50..p999, max, mean (seconds), throughput (ok/s), error_rate or
    availability (fractions). ``journey`` None pools all journeys.
    """
    cfg = config or StatsConfig()
    ga, gb = _pool(a_runs, journey), _pool(b_runs, journey)
    a, b = _point(ga, metric), _point(gb, metric)
    effect = Effect(
        metric, journey, a, b, None if a is None or b is None or a == 0 else b / a - 1.0,
        None, None, _size(ga, metric), _size(gb, metric), len(a_runs), len(b_runs),
        method="", diff=None if a is None or b is None else b - a, confidence=cfg.confidence)
    reason, needed = _shortfall((ga, gb), metric, cfg)
    if not reason and (a is None or b is None):
        reason = f"no {metric} data in a group (no requests or zero duration)"
    if reason:
        return replace(effect, insufficient=True, reason=reason, requests_needed=needed,
                        method="none: insufficient data")
    if metric == "max":
        return _max_between_runs(effect, ga, gb, cfg)
    return _bootstrap(effect, ga, gb, cfg)


def _run_maxima(g: _Group) -> Array:
    return np.log(np.array([float(r.values[-1]) for r in g.per_run if r.n > 0]))


def _max_between_runs(effect: Effect, ga: _Group, gb: _Group, cfg: StatsConfig) -> Effect:
    """The max compared as one observation per run: Welch's t interval on the mean log of
    the per-run maxima, so only a shift that the replicated runs agree on is significant."""
    la, lb = _run_maxima(ga), _run_maxima(gb)
    va, vb = la.var(ddof=1) / la.size, lb.var(ddof=1) / lb.size
    diff, se = float(lb.mean() - la.mean()), math.sqrt(va + vb)
    df = (va + vb) ** 2 / max(1e-300, va**2 / (la.size - 1) + vb**2 / (lb.size - 1)) if se else 1.0
    half = float(t_dist.ppf((1.0 + cfg.confidence) / 2.0, df)) * se
    lo, hi = math.expm1(diff - half), math.expm1(diff + half)
    return replace(effect, change=math.expm1(diff), ci_low=lo, ci_high=hi,
                    method=f"Welch t on log per-run maxima ({la.size} vs {lb.size} runs)")


def _bootstrap(effect: Effect, ga: _Group, gb: _Group, cfg: StatsConfig) -> Effect:
    metric, size = effect.metric, cfg.resamples
    rng = np.random.default_rng(cfg.seed)
    ta = _transform(metric, _draws(ga, metric, size, rng))
    tb = _transform(metric, _draws(gb, metric, size, rng))
    est = _drift((ga, gb), metric, rng)
    floor = cfg.drift_floor
    scheduled = metric == "throughput" and ga.scheduled and gb.scheduled
    if est[2] == 0 and _log_scale(metric) and not scheduled:
        floor = max(floor, cfg.assumed_drift)  # a prior: one run per side cannot show drift
    da, db, tau = _drift_draws(est, floor, (len(ga.per_run), len(gb.per_run)), size, rng)
    total = float(np.var((tb + db) - (ta + da)))
    share = float(np.var(db - da)) / total if total > 0 else 0.0
    a_s, b_s = _inverse(metric, ta + da), _inverse(metric, tb + db)
    rel = (b_s / a_s - 1.0) if effect.a_value and bool(np.all(a_s > 0)) else None
    lo, hi = _interval(rel, cfg.confidence) if rel is not None else (None, None)
    d_lo, d_hi = _interval(b_s - a_s, cfg.confidence)
    b_lo, b_hi = _interval(b_s, cfg.confidence)
    dof = f"df={est[2]:g}" if est[2] else \
        f"unmeasured, assumed sd {floor:g}"
    method = (f"two-level bootstrap: {size} within-run resamples + between-run drift "
              f"({dof}), seed {cfg.seed}")
    return replace(effect, ci_low=lo, ci_high=hi, diff_ci_low=d_lo, diff_ci_high=d_hi,
                    b_ci_low=b_lo, b_ci_high=b_hi, drift_sd=tau, drift_share=share,
                    method=method)


# --- how much more data would decide --------------------------------------------------

_CAP = 10**12


def samples_to_decide(effect: Effect, threshold: float,
                      space: str = "relative") -> tuple[int | None, int | None]:
    """(more requests per group, more runs per group) for the interval to clear ``threshold``.

    ``space``: 'relative' (threshold is a change ratio), 'absolute' (b - a) or 'value'
    (b alone). The within-run part of the interval width shrinks ~1/sqrt(requests), the
    drift part ~1/sqrt(runs); requests alone cannot beat drift (None then). (0, 0) when
    the interval already clears it; (None, None) when the point sits on the threshold.
    """
    point, lo, hi, n = {
        "relative": (effect.change, effect.ci_low, effect.ci_high, max(effect.n_a, effect.n_b)),
        "absolute": (effect.diff, effect.diff_ci_low, effect.diff_ci_high,
                     max(effect.n_a, effect.n_b)),
        "value": (effect.b_value, effect.b_ci_low, effect.b_ci_high, effect.n_b),
    }[space]
    if point is None or lo is None or hi is None:
        return None, None
    half, dist = (hi - point, threshold - point) if point < threshold else (point - lo,
                                                                            point - threshold)
    if dist <= 0 or half <= 0:
        return None, None
    s2 = (dist / half) ** 2
    if s2 >= 1.0:
        return 0, 0
    ds = effect.drift_share
    runs = min(_CAP, math.ceil((1.0 / s2 - 1.0) * max(effect.runs_a, effect.runs_b)))
    if s2 <= ds:
        return None, runs
    return min(_CAP, math.ceil(((1.0 - ds) / (s2 - ds) - 1.0) * n)), runs
