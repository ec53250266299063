"""Server-Timing breakdown: how much of each journey's time each component takes.

The driver aggregates every ``Server-Timing`` component (``db``, ``cache``,
``ext``, ``app``, ...) into a histogram per journey. Here each component is set
against the journey's response time, so a report can say "db is 82% of
lookup's p95".

Conventions:

- A component's *contribution* per request is its mean times the fraction of
  responses that carried it (a cache hit header on half the responses
  contributes half its mean).
- ``share`` is contribution / response mean (the shares and ``unaccounted``
  sum to 1 when components do not overlap). ``share_p50``/``share_p95`` are
  ratios of percentiles (component pXX / response pXX, capped at 1):
  percentiles do not add, so these are indicators, not a partition.
- A component named ``total``, ``app`` or ``server`` whose mean covers the sum
  of the others is read as the enclosing handler time (the demo reports
  ``app`` that way); it is replaced by its exclusive remainder, so nothing is
  counted twice, and it sets the server time.
- ``unaccounted`` is the time the server did not report: queueing, network
  and client time (response is measured from the intended send).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.hotpath.native import Histogram
from engine.result import JourneyResult, RunResult

__all__ = [
    "ENCLOSING_NAMES",
    "ComponentShare",
    "JourneyBreakdown",
    "breakdown",
    "breakdown_run",
    "enclosing_name",
    "merge_journeys",
]

NS = 1e-9
ENCLOSING_NAMES = ("total", "app", "server")
_COVER = 0.98  # the enclosing component's mean must reach 98% of the others' sum


@dataclass(frozen=True)
class ComponentShare:
    """One Server-Timing component of one journey. Times in seconds, shares in [0, 1]."""

    journey: str
    component: str
    count: int
    """Responses that reported this component."""
    p50_s: float
    p95_s: float
    mean_s: float
    """Mean over the responses that reported it."""
    contribution_s: float
    """Mean per response of the journey (mean_s x count / responses)."""
    share: float
    share_p50: float
    share_p95: float
    exclusive: bool = False
    """True when this is an enclosing component reduced to its own (exclusive) time."""

    def describe(self, percentile: str = "mean") -> str:
        """``db is 82.0% of lookup's mean response time`` (the report's one share figure);
        ``percentile`` p50 or p95 gives the percentile-ratio indicators instead."""
        if percentile == "mean":
            return f"{self.component} is {self.share:.1%} of {self.journey}'s mean response time"
        value = {"p50": self.share_p50, "p95": self.share_p95}[percentile]
        return f"{self.component} is {value:.0%} of {self.journey}'s {percentile}"

    def to_doc(self) -> dict[str, object]:
        """The report's ``{component, p50, p95, mean, share}`` entry."""
        return {"component": self.component, "p50": self.p50_s, "p95": self.p95_s,
                "mean": self.mean_s, "share": self.share}


@dataclass(frozen=True)
class JourneyBreakdown:
    """A journey's response time split into Server-Timing components."""

    journey: str
    requests: int
    """Requests attempted (every outcome)."""
    responses: int
    """Responses timed (the response histogram's count)."""
    response_mean_s: float
    response_p50_s: float
    response_p95_s: float
    components: tuple[ComponentShare, ...]
    """Largest contribution first."""
    server_mean_s: float
    """Time the server reported per response (enclosing total, or the components' sum)."""
    unaccounted_share: float
    """Fraction of the response mean not reported by the server (queueing, network)."""
    enclosing: str | None = None

    @property
    def total_s(self) -> float:
        """Latency summed over the journey's responses, seconds."""
        return self.responses * self.response_mean_s

    @property
    def dominant(self) -> ComponentShare | None:
        """The component with the largest contribution, or None without Server-Timing."""
        return self.components[0] if self.components else None

    def component(self, name: str) -> ComponentShare | None:
        return next((c for c in self.components if c.component == name), None)

    def to_doc(self) -> list[dict[str, object]]:
        """The report's per-journey ``server_timing`` list."""
        return [c.to_doc() for c in self.components]


@dataclass(frozen=True)
class _Stat:
    count: int
    p50: float
    p95: float
    mean: float


def _resolved(value_ns: float, h: Histogram) -> float:
    """A percentile in seconds; 0 when it lies below the histogram's lowest discernible value
    (1 us), where HDR reports the first bucket's top (511 ns) for what were zero durations."""
    return 0.0 if value_ns < h.lowest else value_ns * NS


def _stat(h: Histogram) -> _Stat:
    p50, p95 = h.values_at_percentiles([50.0, 95.0])
    return _Stat(int(h.total_count), _resolved(p50, h), _resolved(p95, h), float(h.mean) * NS)


def _enclosing(stats: Mapping[str, _Stat]) -> str | None:
    """The component that encloses the others, by name and by covering their sum."""
    return enclosing_name({k: s.mean * s.count for k, s in stats.items()})


def enclosing_name(totals: Mapping[str, float]) -> str | None:
    """Of components with these total times, the one that encloses the others: named like
    a handler's time (ENCLOSING_NAMES) and covering the others' sum; None when none does."""
    for name in ENCLOSING_NAMES:
        if name in totals and len(totals) > 1:
            others = sum(t for k, t in totals.items() if k != name)
            if totals[name] >= _COVER * others:
                return name
    return None


def _exclusive(stats: dict[str, _Stat], name: str) -> float:
    """Replace the enclosing stat by its remainder; returns the enclosing total (s per response)."""
    total = stats[name]
    others = [s for k, s in stats.items() if k != name]
    per = max(total.count, 1)
    rest_mean = sum(s.mean * s.count for s in others) / per
    stats[name] = _Stat(total.count, max(0.0, total.p50 - sum(s.p50 for s in others)),
                        max(0.0, total.p95 - sum(s.p95 for s in others)),
                        max(0.0, total.mean - rest_mean))
    return total.mean * total.count


def _ratio(num: float, den: float) -> float:
    return min(1.0, num / den) if den > 0 else 0.0


def breakdown(journey: JourneyResult) -> JourneyBreakdown:
    """Split one journey's response time into its Server-Timing components."""
    resp = _stat(journey.response)
    n = max(resp.count, 1)
    stats = {k: _stat(h) for k, h in journey.server_timing.items() if h.total_count}
    enclosing = _enclosing(stats)
    if enclosing is not None:
        server_total = _exclusive(stats, enclosing) / n
    else:
        server_total = sum(s.mean * s.count for s in stats.values()) / n
    comps = [
        ComponentShare(journey.name, k, s.count, s.p50, s.p95, s.mean, s.mean * s.count / n,
                       _ratio(s.mean * s.count / n, resp.mean), _ratio(s.p50, resp.p50),
                       _ratio(s.p95, resp.p95), exclusive=k == enclosing)
        for k, s in stats.items()
    ]
    comps.sort(key=lambda c: -c.contribution_s)
    unaccounted = max(0.0, 1.0 - server_total / resp.mean) if resp.mean > 0 else 0.0
    return JourneyBreakdown(journey.name, journey.requests, resp.count, resp.mean, resp.p50, resp.p95,
                            tuple(comps), server_total, unaccounted, enclosing)


def breakdown_run(run: RunResult) -> tuple[JourneyBreakdown, ...]:
    """``breakdown`` of every journey of ``run``, in the run's journey order."""
    return tuple(breakdown(j) for j in run.journeys)


def run_timing_rows(run: RunResult) -> dict[str, tuple[dict[str, object], ...]]:
    """Each journey's Server-Timing rows (``ComponentShare.to_doc``) as the report prints
    them: computed here once, so the run table and the bottlenecks use one convention."""
    return {b.journey: tuple(b.to_doc()) for b in breakdown_run(run)}


def merge_journeys(runs: Sequence[RunResult]) -> tuple[JourneyResult, ...]:
    """Each journey's totals over several runs (histograms and counters added)."""
    merged: dict[str, JourneyResult] = {}
    for run in runs:
        for j in run.journeys:
            merged[j.name] = _add(merged[j.name], j) if j.name in merged else _copy(j)
    return tuple(merged.values())


def _copy(j: JourneyResult) -> JourneyResult:
    return JourneyResult(j.name, j.response.copy(), j.service.copy(), dict(j.outcomes),
                         {k: h.copy() for k, h in j.server_timing.items()})


def _add(into: JourneyResult, j: JourneyResult) -> JourneyResult:
    into.response.add(j.response)
    into.service.add(j.service)
    outcomes = dict(into.outcomes)
    for k, v in j.outcomes.items():
        outcomes[k] = outcomes.get(k, 0) + v
    timing = dict(into.server_timing)
    for k, h in j.server_timing.items():
        if k in timing:
            timing[k].add(h)
        else:
            timing[k] = h.copy()
    return JourneyResult(into.name, into.response, into.service, outcomes, timing)
