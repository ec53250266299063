"""Where did a metric shift? E-divisive change points over a metric's run history.

Method: the energy-distance statistic of Matteson & James (2014) "e-divisive", the method
behind Apache Otava (formerly Hunter): for each split of a series, how much further apart
the two sides are than each side is within itself; the best split of the best segment is
kept when a permutation test (values shuffled within the segment, seeded so a report is
reproducible) says a split that strong is unlikely by chance (p <= alpha); repeat on the
pieces. Energy distance makes no normality assumption and sees shifts in spread as well as
level, which suits latency percentiles. Shifts smaller than ``min_change`` are then
dropped as practically irrelevant (relative for latency/throughput, absolute points for
rates), weakest first, re-measuring neighbours after each drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.history.store import HistoryStore

__all__ = [
    "ChangePoint",
    "ChangePointView",
    "SeriesPoint",
    "changepoint_views",
    "detect_changepoints",
    "metric_series",
]

Floats = npt.NDArray[np.float64]
RATE_METRICS = frozenset({"error_rate", "availability"})
DEFAULT_METRICS = ("p50", "p95", "p99", "throughput", "error_rate")


@dataclass(frozen=True)
class SeriesPoint:
    """One run's value of a metric (base units: s, req/s, fraction); ``at`` Unix seconds."""

    run_id: int
    at: float
    value: float


@dataclass(frozen=True)
class ChangePoint:
    """The metric shifted starting with run ``run_id`` (the first run after the shift).

    ``before``/``after`` are the medians of the segments either side; ``change`` is
    after/before - 1 for latency and throughput, after - before (points) for rates, None
    when a relative change has a zero base. ``p_value`` from the permutation test.
    """

    metric: str
    run_id: int
    at: float
    index: int
    before: float
    after: float
    change: float | None
    p_value: float

    def to_doc(self) -> dict[str, Any]:
        """A ``regression.changepoints`` entry (docs/REPORT_FORMAT.md)."""
        return {"metric": self.metric, "run_id": self.run_id, "at": self.at,
                "before": self.before, "after": self.after, "change": self.change}


@dataclass(frozen=True)
class ChangePointView:
    """A metric's series (oldest first) and the change points found in it."""

    metric: str
    points: tuple[SeriesPoint, ...]
    changepoints: tuple[ChangePoint, ...]

    def to_doc(self) -> list[dict[str, Any]]:
        return [c.to_doc() for c in self.changepoints]


def metric_series(store: HistoryStore, spec: str, metric: str, *, profile: str = "baseline",
                  variant: str = "", host: str | None = None,
                  limit: int = 200) -> list[SeriesPoint]:
    """The stored summary value of ``metric`` for the last ``limit`` COMPLETE runs of
    ``spec``/``profile`` (optionally one host fingerprint hash), oldest first."""
    runs = store.runs(spec, limit, profile=profile, status="COMPLETE")
    points = [SeriesPoint(r.id, r.started_at, float(v)) for r in runs
              if r.variant == variant and (host is None or r.host == host)
              and (v := r.summary.get(metric)) is not None]
    return points[::-1]


def changepoint_views(store: HistoryStore, spec: str, metrics: Sequence[str] = DEFAULT_METRICS,
                      **kw: Any) -> list[ChangePointView]:
    """metric_series + detect_changepoints for each metric (``kw`` goes to metric_series)."""
    views = []
    for metric in metrics:
        series = metric_series(store, spec, metric, **kw)
        views.append(ChangePointView(metric, tuple(series),
                                     tuple(detect_changepoints(series, metric))))
    return views


def detect_changepoints(points: Sequence[SeriesPoint], metric: str, *, alpha: float = 0.05,
                        permutations: int = 199, min_size: int = 3,
                        min_change: float | None = None, max_changes: int = 10,
                        seed: int = 0) -> list[ChangePoint]:
    """Change points of a series (oldest first). ``alpha`` in (0, 1) is the significance
    level; ``min_size`` >= 2 runs per segment; ``min_change`` defaults to 5% relative
    (0.1 points for rates). Deterministic for a given ``seed``."""
    values = np.asarray([p.value for p in points], dtype=np.float64)
    rng = np.random.default_rng(seed)
    cuts = _segment(values, alpha, permutations, max(2, min_size), max_changes, rng)
    threshold = min_change if min_change is not None else (
        0.001 if metric in RATE_METRICS else 0.05)
    cuts = _drop_small(values, cuts, metric, threshold)
    return [_changepoint(points, values, cuts, k, metric) for k in range(len(cuts))]


def _segment(x: Floats, alpha: float, permutations: int, min_size: int, max_changes: int,
             rng: np.random.Generator) -> list[tuple[int, float]]:
    """Hierarchical e-divisive: (cut index, p-value) pairs, sorted by index."""
    found: list[tuple[int, float]] = []
    while len(found) < max_changes:
        bounds = [0, *sorted(c for c, _ in found), len(x)]
        best = max(((_best_split(x[a:b], min_size), a, b) for a, b in pairwise(bounds)),
                   key=lambda t: t[0][1], default=None)
        if best is None or best[0][0] < 0:
            break
        (tau, stat), a, b = best
        p = _permutation_p(x[a:b], stat, min_size, permutations, rng)
        if p > alpha:
            break
        found.append((a + tau, p))
    return sorted(found)


def _energy(d: Floats, min_size: int) -> Floats:
    """Q(tau) for every split of a segment with distance matrix ``d``; -inf where either
    side would be shorter than min_size."""
    n = d.shape[0]
    s = np.zeros((n + 1, n + 1))
    s[1:, 1:] = d.cumsum(0).cumsum(1)
    tau = np.arange(n + 1)
    within_left = s[tau, tau]
    cross = s[tau, n] - within_left
    within_right = s[n, n] - within_left - 2 * cross
    m, k = tau.astype(np.float64), (n - tau).astype(np.float64)
    q = np.full(n + 1, -np.inf)
    ok = (tau >= min_size) & (n - tau >= min_size)
    m, k = m[ok], k[ok]
    # unbiased within-sums: pairs i<j, so the full symmetric sum halves.
    e = 2 * cross[ok] / (m * k) - within_left[ok] / (m * (m - 1)) \
        - within_right[ok] / (k * (k - 1))
    q[ok] = m * k / (m + k) * e
    return q


def _best_split(seg: Floats, min_size: int) -> tuple[int, float]:
    if len(seg) < 2 * min_size:
        return -1, -np.inf
    q = _energy(np.abs(seg[:, None] - seg[None, :]), min_size)
    tau = int(np.argmax(q))
    return tau, float(q[tau])


def _permutation_p(seg: Floats, observed: float, min_size: int, permutations: int,
                   rng: np.random.Generator) -> float:
    d = np.abs(seg[:, None] - seg[None, :])
    hits = 0
    for _ in range(permutations):
        order = rng.permutation(len(seg))
        if float(np.max(_energy(d[np.ix_(order, order)], min_size))) >= observed:
            hits += 1
    return (hits + 1) / (permutations + 1)


def _shift(before: float, after: float, metric: str) -> float | None:
    if metric in RATE_METRICS:
        return after - before
    return None if before == 0 else after / before - 1.0


def _segment_medians(x: Floats, cuts: list[tuple[int, float]], k: int) -> tuple[float, float]:
    bounds = [0, *(c for c, _ in cuts), len(x)]
    return float(np.median(x[bounds[k]:bounds[k + 1]])), \
        float(np.median(x[bounds[k + 1]:bounds[k + 2]]))


def _drop_small(x: Floats, cuts: list[tuple[int, float]], metric: str,
                threshold: float) -> list[tuple[int, float]]:
    cuts = list(cuts)
    while cuts:
        sizes = [_shift(*_segment_medians(x, cuts, k), metric) for k in range(len(cuts))]
        magnitude = [abs(s) if s is not None else np.inf for s in sizes]
        weakest = int(np.argmin(magnitude))
        if magnitude[weakest] >= threshold:
            break
        del cuts[weakest]
    return cuts


def _changepoint(points: Sequence[SeriesPoint], x: Floats, cuts: list[tuple[int, float]],
                 k: int, metric: str) -> ChangePoint:
    index, p = cuts[k]
    before, after = _segment_medians(x, cuts, k)
    first = points[index]
    return ChangePoint(metric, first.run_id, first.at, index, before, after,
                       _shift(before, after, metric), p)
