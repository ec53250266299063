"""Soak analysis: windows over a long constant run, a leak verdict and degradation.

Leak: each resource gauge (RSS, fds, threads) after a warm-up is fitted and its
slope projected to a horizon (default 24 h) by ``engine.analysis.leak``: LEAK,
NO_LEAK or INCONCLUSIVE with the span that would decide. A run that was
interrupted or aborted is *partial*: every verdict is INCONCLUSIVE and says so.

Degradation: relative change of p95 and of throughput (ok responses per second)
from the first to the last windows (the first and last fifth, at least one
window each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.analysis.evidence import partial_reason
from engine.analysis.leak import HORIZON_S, TrendFit, fit_trend, leak_verdict
from engine.analysis.resources import timed
from engine.hotpath.native import Histogram
from engine.result import ResourceSample, RunResult, time_mean

__all__ = [
    "IntervalPoint",
    "SoakAnalysis",
    "SoakWindow",
    "TrendFit",
    "analyse_soak",
    "fit_trend",
    "leak_verdict",
    "span",
    "timeline",
]

NS = 1e-9
P95_DEGRADED = 0.5
"""Degraded: p95 of the last windows more than 50% above the first ones ..."""
P95_MIN_SHIFT_S = 0.005
"""... and by at least 5 ms (loopback p95s of a millisecond move by their own size)."""
THROUGHPUT_DEGRADED = -0.10
"""Degraded: ok responses per second fell more than 10% from the first to the last windows."""
GENERATOR_FLAT_BYTES = 16 * 2**20


@dataclass(frozen=True)
class IntervalPoint:
    """One interval of a run, all journeys merged. Latencies in seconds (None: no response)."""

    index: int
    t_s: float
    duration_s: float
    target_rate: float | None
    requests: int
    ok: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None

    @property
    def errors(self) -> int:
        return self.requests - self.ok

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def rate(self) -> float:
        """Requests per second (every outcome)."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


def _merge(encoded: Sequence[str]) -> Histogram:
    merged = Histogram()
    for text in encoded:
        merged.add(Histogram.decode(text))
    return merged


def _pcts(h: Histogram) -> tuple[float | None, float | None, float | None]:
    if h.total_count == 0:
        return None, None, None
    p50, p95, p99 = h.values_at_percentiles([50.0, 95.0, 99.0])
    return p50 * NS, p95 * NS, p99 * NS


def timeline(run: RunResult) -> tuple[IntervalPoint, ...]:
    """Every interval of ``run`` as an :class:`IntervalPoint`, in time order."""
    points = []
    for iv in run.intervals:
        requests = sum(sum(o) for o in iv.outcomes)
        ok = sum(o[0] for o in iv.outcomes if o)  # OUTCOME_NAMES[0] == "ok"
        points.append(IntervalPoint(iv.index, iv.start_s, iv.duration_s, iv.target_rate,
                                    requests, ok, *_pcts(_merge(iv.response))))
    return tuple(points)


@dataclass(frozen=True)
class Span:
    """Intervals ``start_s <= t_s < end_s`` merged: their histogram and counters."""

    hist: Histogram
    requests: int
    ok: int
    duration_s: float

    @property
    def error_rate(self) -> float:
        return (self.requests - self.ok) / self.requests if self.requests else 0.0

    @property
    def throughput(self) -> float:
        """Ok responses per second."""
        return self.ok / self.duration_s if self.duration_s > 0 else 0.0

    def percentile_s(self, p: float) -> float | None:
        return self.hist.value_at_percentile(p) * NS if self.hist.total_count else None


def span(run: RunResult, start_s: float, end_s: float) -> Span:
    """Merge the intervals of ``run`` that start in [start_s, end_s)."""
    chosen = [iv for iv in run.intervals if start_s <= iv.start_s < end_s]
    hist = _merge([e for iv in chosen for e in iv.response])
    requests = sum(sum(o) for iv in chosen for o in iv.outcomes)
    ok = sum(o[0] for iv in chosen for o in iv.outcomes if o)
    return Span(hist, requests, ok, sum(iv.duration_s for iv in chosen))


@dataclass(frozen=True)
class SoakWindow:
    """One window: start (s from run start), p95 (s), throughput (ok/s), mean gauges."""

    t_s: float
    duration_s: float
    p95_s: float | None
    rate: float
    error_rate: float
    rss_bytes: int | None
    fds: float | None
    threads: float | None

    def to_doc(self) -> dict[str, object]:
        return {"t_s": self.t_s, "duration_s": self.duration_s, "p95": self.p95_s or 0.0,
                "rate": self.rate, "error_rate": self.error_rate, "rss_bytes": self.rss_bytes,
                "fds": self.fds, "threads": self.threads}


@dataclass(frozen=True)
class SoakAnalysis:
    """Leak verdicts per gauge, degradation and generator memory of a soak run."""

    duration_s: float
    windows: tuple[SoakWindow, ...]
    fits: tuple[TrendFit, ...]
    """rss_bytes, fds, threads (those with samples)."""
    p95_change: float | None
    """(last p95 - first p95) / first p95; + = slower."""
    throughput_change: float | None
    generator_rss_growth_bytes: int
    warmup_s: float
    partial_reason: str = ""
    """Why the run is partial evidence ("interrupted after 4 s of 15 s"); '' when whole."""
    horizon_s: float = HORIZON_S

    @property
    def partial(self) -> bool:
        return bool(self.partial_reason)

    @property
    def degradation(self) -> tuple[str, ...]:
        """How the soak degraded (p95, throughput), in words; empty when it did not. The one
        judgement the load gate, the flow's messages and the checklist all read."""
        out = []
        first = next((w.p95_s for w in self.windows if w.t_s >= self.warmup_s and w.p95_s), None)
        p95 = self.p95_change
        if p95 is not None and p95 > P95_DEGRADED and p95 * (first or 0.0) >= P95_MIN_SHIFT_S:
            out.append(f"p95 degraded {p95 * 100:+.0f}% from the first to the last windows")
        tput = self.throughput_change
        if tput is not None and tput < THROUGHPUT_DEGRADED:
            out.append(f"throughput degraded {tput * 100:+.0f}% over the run")
        return tuple(out)

    @property
    def leak(self) -> TrendFit:
        """The first leaking gauge, else the RSS fit."""
        leaking = [f for f in self.fits if f.verdict == "LEAK"]
        rss = [f for f in self.fits if f.metric == "rss_bytes"]
        if leaking:
            return leaking[0]
        if rss:
            return rss[0]
        return TrendFit("rss_bytes", "INCONCLUSIVE", 0, None, None, None, None, 0.0, None, 0.0,
                        self.horizon_s, None, self.partial_reason)

    @property
    def generator_flat(self) -> bool:
        """The generator's own memory grew by less than 16 MiB."""
        return self.generator_rss_growth_bytes < GENERATOR_FLAT_BYTES

    def to_doc(self) -> dict[str, object]:
        """The report's ``Soak`` object (plus ``fits`` and ``generator_flat``)."""
        return {
            "duration_s": self.duration_s, "windows": [w.to_doc() for w in self.windows],
            "leak": self.leak.to_doc(),
            "degradation": {"p95_change": self.p95_change,
                            "throughput_change": self.throughput_change},
            "generator_rss_growth_bytes": self.generator_rss_growth_bytes,
            "generator_flat": self.generator_flat, "warmup_s": self.warmup_s,
            "fits": [f.to_doc() for f in self.fits], "partial": self.partial,
            "partial_reason": self.partial_reason, "leak_horizon_s": self.horizon_s,
        }


def _gauge(samples: Sequence[ResourceSample], name: str) -> list[float]:
    return [float(getattr(s, name)) for s in samples]


def _windows(run: RunResult, window_s: float) -> tuple[SoakWindow, ...]:
    """The run cut into windows; each gauge's mean is over the window's time (a reading
    weighs the seconds of it that it stands for: engine.analysis.resources.timed)."""
    out = []
    t = 0.0
    while t < run.duration_s - 1e-9:
        end = min(t + window_s, run.duration_s)
        sp = span(run, t, end)
        rss, fds, threads = (time_mean(timed(run.resources, name, t, end))
                             for name in ("rss_bytes", "fds", "threads"))
        out.append(SoakWindow(t, end - t, sp.percentile_s(95.0), sp.throughput, sp.error_rate,
                              None if rss is None else int(rss), fds, threads))
        t = end
    return tuple(out)


def _change(first: float | None, last: float | None) -> float | None:
    if first is None or last is None or first <= 0:
        return None
    return (last - first) / first


def _degradation(run: RunResult, windows: Sequence[SoakWindow],
                 warmup_s: float) -> tuple[float | None, float | None]:
    usable = [w for w in windows if w.t_s >= warmup_s] or list(windows)
    if len(usable) < 2:
        return None, None
    k = max(1, len(usable) // 5)
    first = span(run, usable[0].t_s, usable[k - 1].t_s + usable[k - 1].duration_s)
    last = span(run, usable[-k].t_s, run.duration_s)  # not the drain's interval after it
    return (_change(first.percentile_s(95.0), last.percentile_s(95.0)),
            _change(first.throughput, last.throughput))


MAX_WARMUP_S = 600.0


def analyse_soak(run: RunResult, window_s: float | None = None, *,
                 warmup_s: float | None = None, ramp_up_s: float = 0.0,
                 horizon_s: float | None = None, memory_limit: float | None = None,
                 planned_s: float | None = None) -> SoakAnalysis:
    """Windows, leak fits (RSS, fds, threads) and degradation of a long constant run.

    ``window_s`` > 0 defaults to a tenth of the run (at least 1 s). ``warmup_s`` (excluded
    from the fits and degradation) defaults to the ramp-up plus 20% of the rest, at most
    10 minutes of it: a service warms its caches and allocator in minutes, not hours.
    Leaks are judged at ``horizon_s`` (default 24 h) against ``memory_limit`` (bytes) when
    given; an aborted run (``planned_s`` its planned length) is partial: INCONCLUSIVE.
    """
    window = window_s if window_s and window_s > 0 else max(1.0, run.duration_s / 10)
    warm = warmup_s if warmup_s is not None else ramp_up_s + min(
        0.2 * max(0.0, run.duration_s - ramp_up_s), MAX_WARMUP_S)
    horizon = horizon_s if horizon_s and horizon_s > 0 else HORIZON_S
    windows = _windows(run, window)
    kept = [s for s in run.resources if s.t_s >= warm and s.rss_bytes > 0]
    ts = [s.t_s for s in kept]
    fits = tuple(leak_verdict(m, ts, _gauge(kept, m), horizon_s=horizon,
                              memory_limit=memory_limit) for m in ("rss_bytes", "fds", "threads"))
    partial = partial_reason(run, planned_s)
    if partial:
        fits = tuple(replace(f, verdict="INCONCLUSIVE", partial_reason=partial) for f in fits)
    p95_change, tput_change = _degradation(run, windows, warm)
    return SoakAnalysis(run.duration_s, windows, fits if kept else (), p95_change, tput_change,
                        int(run.validity.generator_rss_growth_bytes), warm, partial, horizon)
