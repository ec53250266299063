"""Noise-aware comparison of two groups of runs: an effect with a bootstrap interval.

``compare(a_runs, b_runs, metric, journey)`` returns an ``Effect``: the value of each
group (engine.analysis.groups.centre: a latency metric of 2+ runs is their geometric
mean, else the pooled data's), the relative change ``(b - a) / a`` and its confidence
interval, the absolute difference ``b - a`` with its interval, and the interval of ``b``
alone.

Method (docs/STATISTICS.md says why): a two-level bootstrap.

1. Within-run noise: each resample re-draws every request latency from the group's
   merged histogram buckets. For a percentile (p50..p999) the k-th smallest
   of n multinomial draws is ``G^-1(U)`` with ``U ~ Beta(k, n - k + 1)`` -- the same
   distribution as drawing the multinomial counts and reading rank k, at O(resamples)
   instead of O(resamples x buckets). The mean uses its CLT form, throughput a binomial
   count of ok responses (open model: the schedule fixed the request count) or a
   Poisson count (closed model), error rate a binomial count of errors. Where the
   group's value is its runs' geometric mean, the draws are moved to it and scaled to
   the variance of a mean of the runs' log values (``_within``). The max is
   one observation per run: Welch's t on the log per-run maxima (>= 2 runs per group).
2. Between-run drift: the spread of per-run values (log scale for latency and
   throughput) within each group gives a pooled variance s2 with df = runs - groups
   (less one per pulled-in earlier run) degrees of freedom. Each resample draws
   s2* = s2 df / chi2(df) and adds drift with variance max(0, s2* - within-run
   variance) / runs to each group -- Student-t wide
   when drift dominates, so 2-5 runs per group are not over-confident (resampling only
   3 runs with replacement would be), and a one-run group borrows the spread measured
   in the other group. Earlier runs of the same setup (``noise_runs``: the spec's
   history beyond the baseline, one group around its own mean) add their spread and
   degrees of freedom to s2, so a baseline of three runs is not judged on df=2; a far
   latency run among 10+ of them is pulled in and costs a degree of freedom
   (engine.analysis.blocks.tamed).
   With no group of two runs a prior (``StatsConfig.drift_prior``: 7.5%, 15% for a tail) is used.

Percentile intervals of the resampled statistic give the CI. Everything is seeded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.analysis.drift import Noise, Prior, drift_draws, run_noise
from engine.analysis.groups import (
    Group,
    centre,
    draws,
    inverse,
    log_scale,
    pool,
    run_band,
    run_centred,
    transform,
)
from engine.analysis.metrics import is_latency, percentile_level
from engine.result import RunResult

__all__ = [
    "HIGHER_IS_BETTER",
    "Effect",
    "StatsConfig",
    "compare",
    "higher_is_better",
    "samples_to_decide",
]

_POWER = 0.8
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
    assumed_drift: float = 0.075
    """Between-run standard deviation assumed when no group has two runs to measure it
    (log scale, latency below p90 -- ``tail_drift`` above -- and closed-model throughput;
    open-model throughput is scheduled and error rates vary binomially, so they assume
    none). 7.5%: the drift the engine's own estimator finds in its A-vs-A histories of the
    demo on the dev VM, pooled over 27 degrees of freedom of six series (p50 7.4%,
    benchmarks/calibrate.py; the first value, 5%, was a guess that let a 1-vs-1 quick start
    FAIL checkout's p50 at +41% on the same commit)."""
    tail_drift: float = 0.15
    """``assumed_drift`` for a tail percentile (p90 and above, ``drift_prior``). A tail
    moves more between identical runs than a median: with the open model's evenly spaced
    arrivals a request queues only when the one before it outlasts the spacing, so a few
    percent on the service time moves a p95 by tens. Measured 2026-12-02 over 31 A-vs-A
    runs (25 df) of the demo's specs (``python benchmarks/calibrate.py DB...``): p95 drift 12.4%
    whole service, 14.9% per journey, beside p50's 4.1-4.2%; with 7.5% a quick start's
    second apply FAILed checkout's profile p95 at +93.4% [+16.9%, +183.6%] (1.31 -> 2.54 ms,
    the same commit) where its p50 read +5.8%."""
    prior_runs: float = 3.0
    """Where drift was measured, ``drift_prior`` also counts as this many earlier runs
    (engine.analysis.drift.Prior): a two-run baseline is not judged on one degree of
    freedom alone, and a long history outweighs the assumption (docs/STATISTICS.md).
    Three, not one: the prior is itself measured over 27 degrees of freedom, and at one a
    fresh history's third apply (two baseline runs) drew t on 2 df (t(0.99) = 7.0) and was
    INCONCLUSIVE in 59% of simulated A-vs-A experiments at 7.5% drift (31% at three);
    five made the 95% interval miss 7.4% at 10% drift with three runs a side (three: 5.2%;
    ``python -m engine.bench stats --prior-runs N``)."""

    def drift_prior(self, metric: str) -> float:
        """The drift sd assumed for ``metric``: ``tail_drift`` for p90 and above."""
        return self.tail_drift if (percentile_level(metric) or 0.0) >= 90.0 \
            else self.assumed_drift


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
    mde: float | None = None
    """Minimum detectable effect at this noise (80% power at the interval's level):
    relative change for latency/throughput, absolute points for error rate."""
    flagged_runs: tuple[str, ...] = ()
    """Disturbed runs, named so a reader can look at them ('before run 2')."""
    a_band: tuple[float, float] | None = None
    """For a percentile: the before group's distribution-free interval of it at one run's
    size, the values at the ranks that bracket it in a typical run
    (engine.analysis.groups.run_band); a band spanning a gap says the percentile has no
    stable value in a run of these requests."""
    b_band: tuple[float, float] | None = None
    """The same for the after group."""


# --- sufficiency ----------------------------------------------------------------------


def _size(g: Group, metric: str) -> int:
    """Observations behind the metric: recorded latencies, or requests for rates."""
    return g.n if is_latency(metric) else g.requests


def requests_required(metric: str, cfg: StatsConfig) -> int:
    """Requests a group needs before its metric gets an interval."""
    need = cfg.min_requests
    p = percentile_level(metric)
    if p is not None and p < 100.0:
        need = max(need, math.ceil(cfg.min_tail / (1.0 - p / 100.0) - 1e-9))
    return need


def _shortfall(groups: Sequence[Group], metric: str, cfg: StatsConfig) -> tuple[str, int | None]:
    """('', None) when both groups suffice, else (reason, more requests per group needed)."""
    need = requests_required(metric, cfg)
    sizes = [_size(g, metric) for g in groups]
    if any(not g.per_run for g in groups):
        return "a group has no runs", None
    runs = min(sum(1 for p in g.per_run if p.n > 0) for g in groups)
    if metric == "max" and runs < 2:
        # One run has one maximum: a single scheduler hiccup doubles it. Only the spread of
        # per-run maxima across replicated runs (each with latencies) can say whether the
        # max really moved; a run without latencies has no maximum to count.
        return f"max is one observation per run: needs at least 2 runs per group, got {runs}", None
    if metric == "throughput" and any(g.ok <= 0 for g in groups):
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
            journey: str | None = None, config: StatsConfig | None = None,
            noise_runs: Sequence[Sequence[RunResult]] = ()) -> Effect:
    """Effect of going from runs ``a_runs`` (before) to ``b_runs`` (after) on ``metric``.

    ``metric``: p50..p999, max, mean (seconds), throughput (ok/s), error_rate or
    availability (fractions). ``journey`` None pools all journeys. ``noise_runs``: earlier
    runs of the same setup, whatever their verdict, as one group (the spec's history beyond
    the baseline, engine.history.baseline, engine.analysis.drift.noise_groups): they add
    degrees of freedom to the between-run drift estimate only, never to either side's
    value.
    """
    cfg = config or StatsConfig()
    ga, gb = pool(a_runs, journey), pool(b_runs, journey)
    ref = tuple(pool(chunk, journey) for chunk in noise_runs if chunk)
    a, b = centre(ga, metric), centre(gb, metric)
    effect = Effect(
        metric, journey, a, b, None if a is None or b is None or a == 0 else b / a - 1.0,
        None, None, _size(ga, metric), _size(gb, metric), len(a_runs), len(b_runs),
        method="", diff=None if a is None or b is None else b - a, confidence=cfg.confidence,
        a_band=run_band(ga, metric, cfg.confidence), b_band=run_band(gb, metric, cfg.confidence))
    reason, needed = _shortfall((ga, gb), metric, cfg)
    if not reason and (a is None or b is None):
        reason = f"no {metric} data in a group (no requests or zero duration)"
    if reason:
        return replace(effect, insufficient=True, reason=reason, requests_needed=needed,
                        method="none: insufficient data")
    if metric == "max":
        return _max_between_runs(effect, ga, gb, cfg)
    return _bootstrap(effect, ga, gb, cfg, ref)


def _run_maxima(g: Group) -> Array:
    return np.log(np.array([float(r.values[-1]) for r in g.per_run if r.n > 0]))


def _max_between_runs(effect: Effect, ga: Group, gb: Group, cfg: StatsConfig) -> Effect:
    """The max compared as one observation per run: Welch's t interval on the mean log of
    the per-run maxima, so only a shift that the replicated runs agree on is significant."""
    la, lb = _run_maxima(ga), _run_maxima(gb)
    va, vb = la.var(ddof=1) / la.size, lb.var(ddof=1) / lb.size
    diff, se = float(lb.mean() - la.mean()), math.sqrt(va + vb)
    df = (va + vb) ** 2 / max(1e-300, va**2 / (la.size - 1) + vb**2 / (lb.size - 1)) if se else 1.0
    from scipy.special import stdtrit  # t.ppf without importing scipy.stats (~0.8 s CPU)

    half = float(stdtrit(df, (1.0 + cfg.confidence) / 2.0)) * se
    lo, hi = math.expm1(diff - half), math.expm1(diff + half)
    return replace(effect, change=math.expm1(diff), ci_low=lo, ci_high=hi,
                   mde=_mde("max", se, effect, cfg.confidence),
                   method=f"Welch t on log per-run maxima ({la.size} vs {lb.size} runs)")


def _bootstrap(effect: Effect, ga: Group, gb: Group, cfg: StatsConfig,
               ref: tuple[Group, ...] = ()) -> Effect:
    metric, size = effect.metric, cfg.resamples
    rng = np.random.default_rng(cfg.seed)
    noise = run_noise((ga, gb, *ref), metric, rng)
    ta = _within(transform(metric, draws(ga, metric, size, rng)), noise, 0,
                 effect.a_value if run_centred(ga, metric) else None, rng)
    tb = _within(transform(metric, draws(gb, metric, size, rng)), noise, 1,
                 effect.b_value if run_centred(gb, metric) else None, rng)
    floor = cfg.drift_floor
    scheduled = metric == "throughput" and ga.scheduled and gb.scheduled
    prior = Prior()
    if log_scale(metric) and not scheduled:
        prior = Prior(cfg.drift_prior(metric), cfg.prior_runs)
        if noise.df == 0:  # one run per side cannot show drift: the assumption stands
            floor = max(floor, prior.sd)
    da, db, tau = drift_draws(noise, floor, size, rng, prior)
    total = float(np.var((tb + db) - (ta + da)))
    share = float(np.var(db - da)) / total if total > 0 else 0.0
    a_s, b_s = inverse(metric, ta + da), inverse(metric, tb + db)
    rel = (b_s / a_s - 1.0) if effect.a_value and bool(np.all(a_s > 0)) else None
    lo, hi = _interval(rel, cfg.confidence) if rel is not None else (None, None)
    d_lo, d_hi = _interval(b_s - a_s, cfg.confidence)
    b_lo, b_hi = _interval(b_s, cfg.confidence)
    flagged = _flagged_names(noise, len(ga.per_run))
    return replace(effect, ci_low=lo, ci_high=hi, diff_ci_low=d_lo, diff_ci_high=d_hi,
                   b_ci_low=b_lo, b_ci_high=b_hi, drift_sd=tau, drift_share=share,
                   mde=_mde(metric, math.sqrt(total), effect, cfg.confidence),
                   flagged_runs=flagged,
                   method=_method(noise, floor, cfg, flagged, prior))


def _within(t: Array, noise: Noise, g: int, centred: float | None,
            rng: np.random.Generator) -> Array:
    """Group g's within-run draws ``t`` (transformed): about the pooled value and scaled by
    sqrt(design effect), or, where the group's value is its runs' geometric mean
    (``centred``, groups.centre), about the log of that value with the variance of a mean of
    the runs' log values (``Noise.centre_variance``: each run weighs 1/runs, however many
    requests it holds), so the interval is about the value the effect reports. Where that
    variance comes from few 1 s blocks, each draw's spread is scaled by the square root of a
    draw of it (``Noise.within_draws``): about Student-t wide, as such a variance is."""
    mean = float(np.mean(t))
    unsure = np.sqrt(noise.within_draws(g, t.shape[0], rng))
    if centred is None or centred <= 0:
        return mean + math.sqrt(noise.design_effect(g)) * unsure * (t - mean)
    spread = float(np.var(t))
    scale = math.sqrt(noise.centre_variance(g) / spread) if spread > 0 else 1.0
    return math.log(centred) + scale * unsure * (t - mean)


def _flagged_names(noise: Noise, runs_a: int) -> tuple[str, ...]:
    """'before run 2', 'after run 1': the disturbed runs, in words."""
    return tuple(f"before run {i + 1}" if i < runs_a else f"after run {i - runs_a + 1}"
                 for i in noise.flagged)


def _mde(metric: str, se: float, effect: Effect, confidence: float) -> float | None:
    """Smallest change this noise detects with 80% power at the interval's level: relative
    for log-scale metrics, absolute (points) for error rate and availability."""
    if not math.isfinite(se):
        return None
    from scipy.special import ndtri  # norm.ppf without importing scipy.stats

    z = float(ndtri((1.0 + confidence) / 2.0) + ndtri(_POWER))
    if log_scale(metric):
        return math.expm1(z * se)
    return z * se


def _method(noise: Noise, floor: float, cfg: StatsConfig, flagged: tuple[str, ...],
            prior: Prior) -> str:
    dof = f"df={noise.df:g}" if noise.df else f"unmeasured, assumed sd {floor:g}"
    if noise.history_df:
        dof += f", {noise.history_df:g} of them from {noise.history_runs} earlier runs in history"
        if noise.history_tamed:
            dof += f" ({noise.history_tamed} far from the others pulled in)"
    if noise.df and prior.df:
        dof += f", plus a prior of {prior.df:g} run{'' if prior.df == 1 else 's'} at sd {prior.sd:g}"
    text = (f"two-level bootstrap: {cfg.resamples} within-run resamples (1 s blocks where "
            f"kept) + between-run drift ({dof}), seed {cfg.seed}")
    if flagged:
        text += f"; disturbed run (counted in full): {', '.join(flagged)}"
    return text


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
