"""Within-run noise from a run's 1 s interval snapshots, and disturbed runs.

A run's requests are not independent draws: a second in which the machine stalled
moves hundreds of them together. Treating them as independent (the multinomial
resample of engine.analysis.compare) then understates how much the run's value could
have differed. The recorder keeps one histogram per journey per second
(``RunResult.intervals``); resampling those seconds with replacement (a block
bootstrap with 1 s blocks) gives each run's within-run variance including that
dependence. ``run_noise`` takes the larger of the two estimates, the block one scaled by
m / (m - 1) and, over m blocks, itself uncertain (engine.analysis.drift.Noise.within_draws).

``flag_disturbed`` flags a run whose own noise or whose distance from the other runs of
its group is far beyond the rest (a disturbed run), so reports can name it; a compared
run still counts in full. ``tamed`` pulls the farthest of the history's earlier runs in,
so one disturbed run does not decide the drift estimate (docs/STATISTICS.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.analysis.metrics import is_latency, percentile_of
from engine.hotpath.native import Histogram
from engine.result import RunResult

__all__ = ["MIN_BLOCKS", "TAMED_MIN_RUNS", "block_variance", "flag_disturbed",
           "interval_counts", "tamed"]

Array = Any
NS = 1e-9
MIN_BLOCKS = 4
"""Fewer 1 s intervals with data than this: no block estimate (the multinomial one stands)."""
BLOCK_DRAWS = 200
FLAG_WITHIN = 9.0
"""A run whose within-run variance exceeds this multiple of its groups' median is flagged."""
FLAG_Z = 3.5
"""A run this many (robust) standard deviations from its group's other runs is flagged."""
MIN_OUTLIER_RUNS = 5
"""A group needs this many runs before one can be called far from the others (with fewer,
the others' spread is too uncertain: flagging then narrows A-vs-A intervals too much)."""
TAMED_SHARE = 0.1
"""``tamed`` moves at most this share of a group's runs (at least one): 2 of 20."""
TAMED_MIN_RUNS = 10
"""``tamed`` leaves smaller groups alone: the others' MAD from a few runs runs low and varies
much, so ordinary runs cross FLAG_Z. Simulated Gaussian histories (4,000 each): a run is
moved in 46% of 5-run histories and the variance (on df - moved) is 9% low; at 10 runs 26%
and 3% low; at 20, 20% and 1% low."""


def interval_counts(run: RunResult, journey: str | None) -> tuple[Array, Array] | None:
    """(bucket values in seconds, counts per interval x bucket) of ``journey`` (None: all),
    or None when fewer than MIN_BLOCKS intervals hold latencies."""
    names = [j.name for j in run.journeys]
    cols = [i for i, n in enumerate(names) if journey is None or n == journey]
    rows: list[tuple[Array, Array]] = []
    for iv in run.intervals:
        parts = [Histogram.decode(iv.response[i]).recorded()
                 for i in cols if i < len(iv.response) and iv.response[i]]
        parts = [(np.asarray(v, np.int64), np.asarray(c, np.int64)) for v, c in parts]
        if any(c.sum() > 0 for _, c in parts):
            rows.append((np.concatenate([v for v, _ in parts]),
                         np.concatenate([c for _, c in parts])))
    if len(rows) < MIN_BLOCKS:
        return None
    values = np.unique(np.concatenate([v for v, _ in rows]))
    matrix = np.zeros((len(rows), values.size), np.float64)
    for r, (v, c) in enumerate(rows):
        np.add.at(matrix[r], np.searchsorted(values, v), c)
    return values.astype(np.float64) * NS, matrix


def block_variance(blocks: tuple[Array, Array], metric: str,
                   rng: np.random.Generator, draws: int = BLOCK_DRAWS) -> float | None:
    """Variance of the log of ``metric`` (a latency percentile or the mean) over block
    bootstrap resamples of the run's 1 s intervals; None for other metrics."""
    if not is_latency(metric) or metric == "max":
        return None
    values, matrix = blocks
    m = matrix.shape[0]
    picks = rng.integers(0, m, (draws, m))
    weights = np.zeros((draws, m))
    np.add.at(weights, (np.repeat(np.arange(draws), m), picks.ravel()), 1.0)
    counts = weights @ matrix
    n = counts.sum(axis=1)
    if metric == "mean":
        stat = counts @ values / np.maximum(n, 1.0)
    else:
        rank = np.maximum(1.0, np.ceil(percentile_of(metric) / 100.0 * n))
        idx = (np.cumsum(counts, axis=1) < rank[:, None]).sum(axis=1)
        stat = values[np.minimum(idx, values.size - 1)]
    return float(np.var(np.log(np.maximum(stat, 1e-12))))


def flag_disturbed(values: Array, within: Array, group_of: Array) -> tuple[int, ...]:
    """The indices of disturbed runs, named in the comparison's method and messages.

    A run is flagged when its within-run variance is more than FLAG_WITHIN times the
    median of all runs', or (in a group of MIN_OUTLIER_RUNS or more runs) when it lies more than
    FLAG_Z robust standard deviations from the median of its group's other runs.
    """
    w = np.asarray(within, np.float64)
    y = np.asarray(values, np.float64)
    groups = np.asarray(group_of)
    med_w = float(np.median(w)) if w.size else 0.0
    flagged = set(np.flatnonzero(w > FLAG_WITHIN * med_w).tolist()) if med_w > 0 else set()
    for g in set(groups.tolist()):
        idx = np.flatnonzero(groups == g)
        if idx.size < MIN_OUTLIER_RUNS:
            continue
        z, _, _ = _distances(y[idx], w[idx], med_w)
        flagged.update(int(i) for i in idx[z > FLAG_Z])
    return tuple(sorted(flagged))


def tamed(values: Array, within: Array) -> tuple[Array, int]:
    """One group's per-run values with its far runs pulled in: (values, how many moved).

    A run more than FLAG_Z robust standard deviations from the median of the group's other
    runs (``flag_disturbed``'s distance, with the group's own typical within-run variance)
    is moved to FLAG_Z of them, on its own side: it still widens the spread, but no longer
    decides it alone. At most TAMED_SHARE of the runs (at least one) are moved, the
    farthest first, and only in a group of TAMED_MIN_RUNS or more: a second mode that
    several runs share keeps all but its farthest runs' excess (docs/STATISTICS.md,
    "Between-run drift").
    """
    y = np.asarray(values, np.float64)
    w = np.asarray(within, np.float64)
    if y.size < TAMED_MIN_RUNS:
        return y, 0
    z, centre, scale = _distances(y, w, float(np.median(w)))
    limit = max(1, int(y.size * TAMED_SHARE))
    far = [int(i) for i in np.argsort(-z, kind="stable")[:limit] if z[i] > FLAG_Z]
    out = y.copy()
    for i in far:
        out[i] = centre[i] + math.copysign(FLAG_Z * scale[i], y[i] - centre[i])
    return out, len(far)


def _distances(y: Array, w: Array, med_w: float) -> tuple[Array, Array, Array]:
    """For each run: its distance from the median of the others in robust standard
    deviations (MAD of the others, plus its own and the typical within-run variance), that
    median, and that scale."""
    n = y.size
    z, centre, scale = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        others = np.delete(y, i)
        centre[i] = float(np.median(others))
        mad = 1.4826 * float(np.median(np.abs(others - centre[i])))
        scale[i] = math.sqrt(mad**2 + w[i] + med_w)
        z[i] = abs(y[i] - centre[i]) / scale[i] if scale[i] > 0 else 0.0
    return z, centre, scale
