"""Leak verdicts that scale: a resource gauge's trend extrapolated to a horizon.

An ordinary least-squares line through the gauge's samples (RSS, fds, threads)
gives a slope ``b`` with a t-interval ``[lo, hi]`` whose standard error is
widened for the lag-1 autocorrelation of the residuals (10 Hz samples are far
from independent). The slope is then projected to ``horizon_s`` (default 24 h)
and compared with a *headroom*: the growth the service can afford over the
horizon, ``max(min_growth, min_relative x starting level)`` per metric, or for
RSS ``memory_limit - starting level`` when a limit is given. The verdict is

- ``LEAK`` when ``lo x horizon > headroom`` and the last half of the span still
  grows (at least 30% of the overall slope: a warm-up that flattened is not a
  leak);
- ``NO_LEAK`` when ``hi x horizon < headroom``;
- ``INCONCLUSIVE`` when the samples span less than 1% of the horizon (a warm-up
  grows as steeply as a leak for a few seconds), and otherwise, with the span of
  samples the run would need to
  decide: the interval's half-width ``w`` shrinks roughly like ``span^-1.5``
  (OLS slope at a constant sampling rate: ``se ~ sigma / sqrt(n span^2 / 12)``
  with ``n ~ span``), so the span needed for it to clear the headroom is about
  ``span x (w / |b - headroom / horizon|)^(2/3)`` if the slope stays as measured.

The rule is written up in docs/STATISTICS.md ("Leak verdicts").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from engine.units import human_duration

__all__ = ["HORIZON_S", "MATERIAL", "TrendFit", "fit_trend", "headroom",
           "leak_verdict", "needed_span"]

MIN_POINTS = 8
CONFIDENCE = 0.95
HORIZON_S = 24 * 3600.0
# metric -> (minimum absolute growth, minimum growth relative to the starting level) over the
# horizon: growth below both is not worth calling a leak
MATERIAL: dict[str, tuple[float, float]] = {
    "rss_bytes": (4 * 2**20, 0.05),
    "fds": (8.0, 0.10),
    "threads": (4.0, 0.10),
}
_WORDS = {"LEAK": "leak", "NO_LEAK": "no leak", "INCONCLUSIVE": "leak inconclusive"}
MIN_SPAN_SHARE = 0.01
"""Either verdict needs samples over at least this share of the horizon (14.4 min for 24 h):
a few seconds of a service warming its caches grow as steeply as a leak, and a line through
them says nothing about the next day."""
SHRINK_EXPONENT = 1.5
"""The slope interval's half-width shrinks like span^-SHRINK_EXPONENT (OLS, constant rate)."""


def _amount(metric: str, value: float, sign: str = "+") -> str:
    if metric.endswith("bytes"):
        unit = next((u for u in (("TiB", 2**40), ("GiB", 2**30)) if abs(value) >= u[1]),
                    ("MiB", 2**20))
        return f"{value / unit[1]:{sign}.3g} {unit[0]}"
    return f"{value:{sign}.3g} {metric}"


@dataclass(frozen=True)
class TrendFit:
    """OLS trend of one resource metric projected to a horizon; slope in units per second."""

    metric: str
    verdict: str
    """LEAK, NO_LEAK or INCONCLUSIVE."""
    n: int
    slope_per_s: float | None
    ci_low: float | None
    ci_high: float | None
    start_value: float | None
    span_s: float
    growth: float | None
    """slope x span: what the line says the metric grew by over the analysed span."""
    material: float
    """Headroom: growth over the horizon that counts as a leak for this metric and level."""
    horizon_s: float = HORIZON_S
    needed_span_s: float | None = None
    """INCONCLUSIVE: about how many seconds of samples would decide (None: unknown)."""
    partial_reason: str = ""
    under_limit: bool = False
    """``material`` is what is left under the target's memory limit (else it is the smallest
    growth that counts as a leak: ``headroom``)."""

    @property
    def room_text(self) -> str:
        """What ``material`` is, in words: 'headroom 4 MiB' read as free memory when it was
        the smallest growth that counts as a leak."""
        amount = _amount(self.metric, self.material, "")
        return (f"{amount} left under the memory limit" if self.under_limit
                else f"a leak grows more than {amount}")

    @property
    def projected(self) -> tuple[float, float, float] | None:
        """(slope, low, high) x horizon: the growth projected to the horizon."""
        if self.slope_per_s is None or self.ci_low is None or self.ci_high is None:
            return None
        h = self.horizon_s
        return self.slope_per_s * h, self.ci_low * h, self.ci_high * h

    @property
    def message(self) -> str:
        """The verdict with its slope per hour, interval and projection (one line)."""
        head = f"{self.metric} {_WORDS.get(self.verdict, self.verdict)}"
        if self.partial_reason:
            head += f" ({self.partial_reason}: partial evidence)"
        proj = self.projected
        if proj is None or self.slope_per_s is None or self.ci_low is None \
                or self.ci_high is None:
            return f"{head}: {self.n} samples over {human_duration(self.span_s)}, too few to fit"
        m, hz = self.metric, human_duration(self.horizon_s)
        text = (f"{head}: slope {_amount(m, self.slope_per_s * 3600)}/h (95% CI "
                f"{_amount(m, self.ci_low * 3600)}/h to {_amount(m, self.ci_high * 3600)}/h), "
                f"projected {_amount(m, proj[0])} in {hz} (95% CI {_amount(m, proj[1])} to "
                f"{_amount(m, proj[2])}; {self.room_text}) from "
                f"{human_duration(self.span_s)} of samples")
        if self.verdict == "INCONCLUSIVE" and not self.partial_reason:
            text += "; " + self._undecided(proj[1])
        return text

    def _undecided(self, low_projected: float) -> str:
        least = MIN_SPAN_SHARE * self.horizon_s
        if self.span_s < least:
            return (f"{human_duration(self.span_s)} of samples cannot tell a warm-up from a "
                    f"leak over {human_duration(self.horizon_s)}: a verdict needs at least "
                    f"{human_duration(least)}")
        if self.needed_span_s:
            return (f"about {human_duration(self.needed_span_s)} of samples would decide "
                    f"(if the slope holds; the interval narrows like span^-1.5)")
        if low_projected > self.material:
            return "the last half grew much slower than the whole (a warm-up that flattened?)"
        return "the slope sits on the headroom: a longer run will not settle it soon"

    def to_doc(self) -> dict[str, object]:
        proj = self.projected
        return {"verdict": self.verdict, "slope_bytes_per_s": self.slope_per_s,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "metric": self.metric,
                "growth": self.growth, "n": self.n, "horizon_s": self.horizon_s,
                "headroom": self.material, "projected_growth": proj[0] if proj else None,
                "needed_span_s": self.needed_span_s, "message": self.message}


def fit_trend(ts: Sequence[float], ys: Sequence[float],
              confidence: float = CONFIDENCE) -> tuple[float, float, float] | None:
    """(slope, ci_low, ci_high) of ys against ts, autocorrelation-aware; None if < 3 points
    or no spread in time."""
    n = len(ts)
    if n < 3:
        return None
    mt, my = sum(ts) / n, sum(ys) / n
    sxx = sum((t - mt) ** 2 for t in ts)
    if sxx <= 0:
        return None
    slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / sxx
    res = [y - my - slope * (t - mt) for t, y in zip(ts, ys, strict=True)]
    ssr = sum(r * r for r in res)
    r1 = _lag1(res)
    # an AR(1)-style inflation: n_eff = n (1 - r) / (1 + r)
    inflate = math.sqrt((1 + r1) / (1 - r1)) if r1 > 0 else 1.0
    n_eff = max(3.0, n * (1 - r1) / (1 + r1)) if r1 > 0 else float(n)
    se = math.sqrt(ssr / (n - 2) / sxx) * inflate
    # Student t quantile from scipy.special (the function scipy.stats' t.ppf calls): importing
    # scipy.stats costs ~0.8 s of CPU, and every managed run fits memory trends here
    from scipy.special import stdtrit

    t = float(stdtrit(n_eff - 2 if n_eff > 3 else 1, 0.5 + confidence / 2))
    return slope, slope - t * se, slope + t * se


def _lag1(res: Sequence[float]) -> float:
    den = sum(r * r for r in res)
    if den <= 0:
        return 0.0
    return min(0.99, sum(a * b for a, b in pairwise(res)) / den)


def headroom(metric: str, start: float, memory_limit: float | None = None) -> float:
    """Growth over the horizon that counts as a leak: for RSS with a limit, what is left
    under it; else ``max(min_growth, min_relative x start)``."""
    if metric == "rss_bytes" and memory_limit is not None:
        return max(0.0, memory_limit - start)
    min_abs, min_rel = MATERIAL.get(metric, (0.0, 0.05))
    return max(min_abs, min_rel * start)


def needed_span(span_s: float, fit: tuple[float, float, float], room: float,
                horizon_s: float) -> float | None:
    """Span of samples after which the interval would clear ``room / horizon`` if the slope
    stayed as measured: ``span x (w / |b - room / horizon|)^(1 / SHRINK_EXPONENT)``."""
    slope, low, high = fit
    half = (high - low) / 2
    gap = abs(slope - room / horizon_s)
    if span_s <= 0 or half <= 0 or gap <= 0:
        return None
    need = span_s * (half / gap) ** (1 / SHRINK_EXPONENT)
    return need if need > span_s else None


def leak_verdict(metric: str, ts: Sequence[float], ys: Sequence[float], *,
                 horizon_s: float = HORIZON_S, memory_limit: float | None = None) -> TrendFit:
    """Fit ``ys`` (a resource gauge) against ``ts`` (seconds) and judge it as a leak at
    ``horizon_s`` (see the module doc)."""
    span_s = (ts[-1] - ts[0]) if ts else 0.0
    room = headroom(metric, float(ys[0]) if ys else 0.0, memory_limit)
    fit = fit_trend(ts, ys) if len(ts) >= MIN_POINTS else None
    if fit is None:
        return TrendFit(metric, "INCONCLUSIVE", len(ts), None, None, None,
                        ys[0] if ys else None, span_s, None, room, horizon_s)
    slope, low, high = fit
    verdict, need = "INCONCLUSIVE", None
    if low * horizon_s > room and _still_growing(ts, ys, slope):
        verdict = "LEAK"
    elif high * horizon_s < room:
        verdict = "NO_LEAK"
    else:
        need = needed_span(span_s, fit, room, horizon_s)
    if span_s < MIN_SPAN_SHARE * horizon_s:
        verdict, need = "INCONCLUSIVE", max(need or 0.0, MIN_SPAN_SHARE * horizon_s)
    return TrendFit(metric, verdict, len(ts), slope, low, high, float(ys[0]), span_s,
                    slope * span_s, room, horizon_s, need,
                    under_limit=metric == "rss_bytes" and memory_limit is not None)


def _still_growing(ts: Sequence[float], ys: Sequence[float], slope: float) -> bool:
    half = len(ts) // 2
    fit = fit_trend(ts[half:], ys[half:])
    return fit is not None and fit[0] >= 0.3 * slope
