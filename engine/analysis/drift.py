"""Variance components of a comparison: each run's own noise, and drift between runs.

For every run of both groups: its value ``y`` (log scale for latency and throughput),
its within-run variance ``w`` -- the larger of the multinomial resample's (requests
independent) and the block bootstrap's over its m 1 s intervals, scaled by m / (m - 1)
(engine.analysis.blocks; stalls move many requests together), with m - 1 degrees of
freedom where the block one is the larger. Disturbed runs of the compared groups are flagged
(and named), not down-weighted. The drift variance is what the spread of runs around
their group's mean leaves beyond ``w`` (docs/STATISTICS.md, "Method"). Groups after the
first two are earlier runs of the same setup (the spec's history): they only add to that
estimate, with their farthest runs pulled in (engine.analysis.blocks.tamed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.analysis.blocks import block_variance, flag_disturbed, tamed
from engine.analysis.groups import Group, draws, point, transform
from engine.analysis.metrics import is_latency

__all__ = ["NOISE_GROUP", "Noise", "Prior", "drift_draws", "noise_groups", "posterior", "run_noise"]

Array = Any
NOISE_GROUP = 20
"""Earlier runs enter the drift estimate as one group around its own mean (up to this
many; engine.history.baseline keeps at most 20). Not in small groups of consecutive runs:
on this machine the demo's p95 sat in one of two modes for several runs at a time, groups
of five saw little spread within each, and a baseline in one mode judged a current run in
the other a regression (A-vs-A FAIL). A slow regime, or a deploy, counts as spread: wider
intervals. Only a latency run far from all the others is pulled in (blocks.tamed)."""
_WITHIN_DRAWS = 400  # enough to estimate a per-run variance to ~7%


@dataclass(frozen=True)
class Noise:
    """Per-run values and variances of one comparison (runs of A first, then of B)."""

    values: Array
    within: Array
    multinomial: Array
    group: Array
    flagged: tuple[int, ...]
    """Disturbed runs, named in messages; they count in full."""
    s2: float
    """Pooled variance of the runs around their group's mean (drift + own noise)."""
    mean_within: float
    df: float
    """Degrees of freedom of s2 (0: drift unmeasured)."""
    history_df: float = 0.0
    """The part of df that earlier runs (groups after the first two) contributed."""
    history_runs: int = 0
    """How many earlier runs contributed to s2."""
    history_tamed: int = 0
    """How many of them were far from the others and pulled in (engine.analysis.blocks.tamed)."""
    within_df: Array | None = None
    """Per run: degrees of freedom of its within-run variance (blocks - 1 where the block
    bootstrap's estimate is the larger, else inf: the multinomial one is exact)."""

    def design_effect(self, g: int) -> float:
        """How much wider group g's within-run noise is than independent requests imply."""
        sel = self.group == g
        base = float(self.multinomial[sel].sum())
        return max(1.0, float(self.within[sel].sum()) / base) if base > 0 else 1.0

    def centre_variance(self, g: int) -> float:
        """Within-run variance of group g's mean log run value (engine.analysis.groups.centre):
        each run's own (blocks included) weighs 1/runs, so the sum over runs^2."""
        sel = self.group == g
        k = int(np.count_nonzero(sel))
        return float(self.within[sel].sum()) / k**2 if k else 0.0

    def within_draws(self, g: int, size: int, rng: np.random.Generator) -> Array | float:
        """Per resample, group g's within-run variance over its estimate (1.0: known).

        A variance from 5 one-second blocks is itself uncertain; treating it as known made a
        5 s run's p95 intervals too narrow (an identical quick-start run FAILed: +134%). Its
        degrees of freedom are Satterthwaite's over the group's runs (each block estimate m - 1,
        a multinomial one exact); each draw is df / chi2(df), floored where the multinomial
        variance (independent requests, exact) would be: the block estimate only adds to it.
        Only where drift is unmeasured (df 0): a measured spread of runs s2 already holds
        their own noise, and its chi2 draw (``drift_draws``) carries how unsure it is."""
        sel = self.group == g
        if self.df > 0 or self.within_df is None or not np.any(sel):
            return 1.0
        w, df = self.within[sel], self.within_df[sel]
        finite = np.isfinite(df) & (df > 0)
        denominator = float(np.sum(w[finite] ** 2 / df[finite]))
        total = float(np.sum(w))
        if denominator <= 0 or total <= 0:
            return 1.0
        nu = total**2 / denominator
        floor = float(np.sum(self.multinomial[sel])) / total
        return np.maximum(floor, nu / rng.chisquare(nu, size))

    def runs(self, g: int) -> int:
        """Runs of group g (each carries its own drift); at least 1."""
        return max(1, int(np.count_nonzero(self.group == g)))


def _one_run(p: Group, metric: str,
             rng: np.random.Generator) -> tuple[float, float, float, float]:
    """(value, within-run variance, multinomial variance, df of the within-run variance).

    The block bootstrap's variance over m blocks is scaled by m / (m - 1), the unbiased
    form, and carries m - 1 degrees of freedom; the multinomial one is exact (inf)."""
    value = point(p, metric)
    assert value is not None
    y = float(transform(metric, np.array([value]))[0])
    multi = float(np.var(transform(metric, draws(p, metric, _WITHIN_DRAWS, rng))))
    block = block_variance(p.blocks, metric, rng) if p.blocks is not None else None
    m = p.blocks[1].shape[0] if p.blocks is not None else 0
    if block is None or m < 2 or block * m / (m - 1) <= multi:
        return y, multi, multi, math.inf
    return y, block * m / (m - 1), multi, float(m - 1)


def run_noise(groups: Sequence[Group], metric: str, rng: np.random.Generator) -> Noise:
    """Values, within-run variances, disturbed runs and the drift estimate of all runs."""
    with np.errstate(divide="ignore", invalid="ignore"):  # an earlier run's 0 on a log scale
        rows = [(r, gi) for gi, g in enumerate(groups) for p in g.per_run
                if point(p, metric) is not None
                for r in [_one_run(p, metric, rng)]
                if gi < 2 or all(math.isfinite(v) for v in r[:3])]  # is left out of the noise
    y = np.array([r[0][0] for r in rows])
    w = np.array([r[0][1] for r in rows])
    multi = np.array([r[0][2] for r in rows])
    within_df = np.array([r[0][3] for r in rows])
    gid = np.array([r[1] for r in rows], np.int64)
    # Flagged runs are named but count in full: the current side of a regression check is
    # one run, as likely to be disturbed as any baseline run, and each run weighs 1/runs in
    # its group's value (groups.centre); discounting a run could only narrow the interval.
    # Only the compared groups' runs are named: earlier runs (groups 2..) are not shown.
    flagged = tuple(i for i in flag_disturbed(y, w, gid) if gid[i] < 2)
    squares, df, within = 0.0, 0, []
    history_df = history_runs = history_tamed = 0
    for gi in range(len(groups)):
        sel = gid == gi
        if sel.sum() < 2:
            continue
        # A latency history's far runs are pulled in (tamed), each costing a degree of
        # freedom (a winsorized variance is less sure); the compared runs count as they are,
        # and error rates and throughput keep their bursts: an error burst in 1 of 20 runs
        # is their spread, not a slower machine.
        values, moved = tamed(y[sel], w[sel]) if gi >= 2 and is_latency(metric) else (y[sel], 0)
        squares += float(np.sum((values - values.mean()) ** 2))
        df += int(sel.sum()) - 1 - moved
        within += w[sel].tolist()
        if gi >= 2:
            history_df += int(sel.sum()) - 1 - moved
            history_runs += int(sel.sum())
            history_tamed += moved
    s2, mean_w = (squares / df, float(np.mean(within or [0.0]))) if df else (0.0, 0.0)
    return Noise(y, w, multi, gid, flagged, s2, mean_w, float(df), float(history_df),
                 history_runs, history_tamed, within_df)


@dataclass(frozen=True)
class Prior:
    """What the engine believes about drift before it has measured much of it: a scaled
    inverse chi-square prior worth ``df`` runs at drift sd ``sd`` (log scale)."""

    sd: float = 0.0
    df: float = 0.0


def posterior(noise: Noise, prior: Prior) -> tuple[float, float]:
    """(s2, df) of the per-run variance with the prior's pseudo-runs added (conjugate:
    (nu0 (tau0^2 + w) + df s2) / (nu0 + df) on nu0 + df degrees of freedom).

    Only where drift was measured (df >= 1): with no group of two runs the caller's fixed
    floor stands for the drift. Without the prior a two-run baseline (df=1) drew s2 from
    chi2(1), whose draws near 0 made intervals like -100%..+201935%. Three pseudo-runs
    (``StatsConfig.prior_runs``; its docstring says why not one or five)."""
    if noise.df <= 0 or prior.df <= 0:
        return noise.s2, noise.df
    nu = prior.df + noise.df
    return (prior.df * (prior.sd**2 + noise.mean_within) + noise.df * noise.s2) / nu, nu


def drift_draws(noise: Noise, floor: float, size: int, rng: np.random.Generator,
                prior: Prior = Prior()) -> tuple[Array, Array, float]:
    """Drift of each group's value, and the point estimate tau of the drift sd.

    The per-run variance s2 (drift + within-run noise) is uncertain with df degrees of
    freedom: each resample draws s2* = s2 df / chi2(df), and the drift variance is what
    s2* leaves beyond the within-run variance (which the within-run resamples carry).
    This makes the interval Student-t wide when drift dominates and bootstrap-exact
    when it does not. A group's value drifts by tau* / sqrt(runs) * Z. ``prior``
    adds its pseudo-runs to s2 and df (``posterior``).
    """
    (s2, df), within = posterior(noise, prior), noise.mean_within
    tau = max(math.sqrt(max(0.0, s2 - within)), floor)
    if df > 0:
        tau2 = np.maximum(s2 * df / rng.chisquare(df, size) - within, floor**2)
    else:
        tau2 = np.full(size, floor**2)
    scale = np.sqrt(tau2)
    return (scale / math.sqrt(noise.runs(0)) * rng.standard_normal(size),
            scale / math.sqrt(noise.runs(1)) * rng.standard_normal(size), tau)


def noise_groups(runs: Sequence[Any]) -> tuple[tuple[Any, ...], ...]:
    """The valid runs (RunResult) as groups of up to NOISE_GROUP (one, from the history's
    20), groups of 2+ kept: the ``noise_runs`` of ``engine.analysis.compare.compare``."""
    valid = [r for r in runs if r.validity.valid]
    chunks = (tuple(valid[i:i + NOISE_GROUP]) for i in range(0, len(valid), NOISE_GROUP))
    return tuple(c for c in chunks if len(c) >= 2)
