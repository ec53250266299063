"""Variance components of a comparison: each run's own noise, and drift between runs.

For every run of both groups: its value ``y`` (log scale for latency and throughput),
its within-run variance ``w`` -- the larger of the multinomial resample's (requests
independent) and the block bootstrap's over its 1 s intervals (engine.analysis.blocks;
stalls move many requests together). Disturbed runs are flagged (and named), not
down-weighted. The drift variance is what the spread of runs around their group's
mean leaves beyond ``w`` (docs/STATISTICS.md, "Method").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.analysis.blocks import block_variance, flag_disturbed
from engine.analysis.groups import Group, draws, point, transform

__all__ = ["Noise", "drift_draws", "run_noise"]

Array = Any
_WITHIN_DRAWS = 400  # enough to estimate a per-run variance to ~7%


@dataclass(frozen=True)
class Noise:
    """Per-run values and variances of one comparison (runs of A first, then of B)."""

    values: Array
    within: Array
    multinomial: Array
    group: Array
    weights: Array
    flagged: tuple[int, ...]
    s2: float
    """Pooled variance of unflagged runs around their group's mean (drift + own noise)."""
    mean_within: float
    df: float
    """Degrees of freedom of s2 (0: drift unmeasured)."""

    def design_effect(self, g: int) -> float:
        """How much wider group g's within-run noise is than independent requests imply."""
        sel = self.group == g
        base = float(np.dot(self.weights[sel], self.multinomial[sel]))
        return max(1.0, float(np.dot(self.weights[sel], self.within[sel])) / base) if base > 0 \
            else 1.0

    def effective_runs(self, g: int) -> float:
        """(sum w)^2 / sum w^2 of group g's robust weights: runs that carry its drift."""
        w = self.weights[self.group == g]
        return float(w.sum() ** 2 / np.sum(w**2)) if w.size else 1.0


def _one_run(p: Group, metric: str, rng: np.random.Generator) -> tuple[float, float, float]:
    value = point(p, metric)
    assert value is not None
    y = float(transform(metric, np.array([value]))[0])
    multi = float(np.var(transform(metric, draws(p, metric, _WITHIN_DRAWS, rng))))
    block = block_variance(p.blocks, metric, rng) if p.blocks is not None else None
    return y, max(multi, block or 0.0), multi


def run_noise(groups: Sequence[Group], metric: str, rng: np.random.Generator) -> Noise:
    """Values, within-run variances, robust weights and the drift estimate of all runs."""
    rows = [(_one_run(p, metric, rng), gi) for gi, g in enumerate(groups)
            for p in g.per_run if point(p, metric) is not None]
    y = np.array([r[0][0] for r in rows])
    w = np.array([r[0][1] for r in rows])
    multi = np.array([r[0][2] for r in rows])
    gid = np.array([r[1] for r in rows], np.int64)
    flagged = flag_disturbed(y, w, gid)
    # Every run counts in full: the current side of a regression check is one run, as
    # likely to be disturbed as any baseline run, and the point change is the pooled
    # histograms' (unweighted). Down-weighting flagged runs (0.1) narrowed the drift
    # estimate and made the gate FAIL disturbed A-vs-A runs (benchmarks/power.py).
    weights = np.ones(y.size)
    squares, df, within = 0.0, 0, []
    for gi in range(len(groups)):
        sel = gid == gi
        if sel.sum() < 2:
            continue
        centre = float(np.average(y[sel], weights=weights[sel]))
        squares += float(np.sum(weights[sel] * (y[sel] - centre) ** 2))
        df += int(sel.sum()) - 1
        within += w[sel & (weights == 1.0)].tolist()
    s2, mean_w = (squares / df, float(np.mean(within or [0.0]))) if df else (0.0, 0.0)
    return Noise(y, w, multi, gid, weights, flagged, s2, mean_w, float(df))


def drift_draws(noise: Noise, floor: float, size: int,
                rng: np.random.Generator) -> tuple[Array, Array, float]:
    """Drift of each group's pooled value, and the point estimate tau of the drift sd.

    The per-run variance s2 (drift + within-run noise) is uncertain with df degrees of
    freedom: each resample draws s2* = s2 df / chi2(df), and the drift variance is what
    s2* leaves beyond the within-run variance (which the within-run resamples carry).
    This makes the interval Student-t wide when drift dominates and bootstrap-exact
    when it does not. A group's pooled value drifts by tau* / sqrt(effective runs) * Z.
    """
    s2, within, df = noise.s2, noise.mean_within, noise.df
    tau = max(math.sqrt(max(0.0, s2 - within)), floor)
    if df > 0:
        tau2 = np.maximum(s2 * df / rng.chisquare(df, size) - within, floor**2)
    else:
        tau2 = np.full(size, floor**2)
    scale = np.sqrt(tau2)
    return (scale / math.sqrt(noise.effective_runs(0)) * rng.standard_normal(size),
            scale / math.sqrt(noise.effective_runs(1)) * rng.standard_normal(size), tau)
