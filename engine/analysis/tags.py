"""Per-tag results: every ``key=value`` tag of a run's journeys and steps, with the merged
response histogram, requests, errors and error rate of what carried it.

A tag belongs to a *unit*: a step of a multi-step journey (its tags merged over its
journey's, the step's value winning), or a whole single-step journey. A unit counts
once under each of its tags; a tag's figures are the sums over its units and its
percentiles those of the units' merged response histogram (HDR histograms merge
exactly, so a tag's p95 is the p95 of its requests, never a mean of percentiles).
Defined in docs/STATISTICS.md ("Figures"); computed here once, the reports print it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.hotpath.native import Histogram
from engine.result import JourneyResult, RunResult

__all__ = ["TagResult", "percentile_s", "tag_results", "tagged_units"]

NS = 1e-9
Unit = tuple[str, Mapping[str, str], Histogram, Mapping[str, int]]
"""(journey name, tags, response histogram, outcomes) of one tagged unit."""


def percentile_s(h: Histogram, pct: float) -> float | None:
    """The ``pct`` percentile of a histogram in ns, as seconds; None when it is empty."""
    return None if h.total_count == 0 else float(h.value_at_percentile(pct)) * NS


@dataclass(frozen=True)
class TagResult:
    """What the requests carrying one tag measured. Times in seconds (None: no response)."""

    key: str
    value: str
    requests: int
    errors: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    journeys: tuple[str, ...]
    """The journeys whose journey or step tags include this one, in run order."""

    @property
    def error_rate(self) -> float:
        """Errors / requests; 0.0 when nothing was requested."""
        return self.errors / self.requests if self.requests else 0.0

    def to_doc(self) -> dict[str, Any]:
        return {"tag": f"{self.key}={self.value}", "key": self.key, "value": self.value,
                "requests": self.requests, "errors": self.errors,
                "error_rate": self.error_rate, "p50": self.p50_s, "p95": self.p95_s,
                "p99": self.p99_s, "journeys": list(self.journeys)}


def tagged_units(journey: JourneyResult) -> Iterator[Unit]:
    """The journey's steps (tags merged over the journey's), or the journey itself when
    it has no per-step results."""
    if not journey.steps:
        if journey.tags:
            yield journey.name, journey.tags, journey.response, journey.outcomes
        return
    for step in journey.steps:
        tags = {**journey.tags, **step.tags}
        if tags:
            yield journey.name, tags, step.response, step.outcomes


@dataclass
class _Acc:
    hist: Histogram
    requests: int
    errors: int
    journeys: list[str]


def _accumulate(run: RunResult) -> dict[tuple[str, str], _Acc]:
    acc: dict[tuple[str, str], _Acc] = {}
    for journey in run.journeys:
        for name, tags, hist, outcomes in tagged_units(journey):
            requests = sum(outcomes.values())
            errors = requests - outcomes.get("ok", 0)
            for item in tags.items():
                a = acc.get(item)
                if a is None:
                    acc[item] = _Acc(hist.copy(), requests, errors, [name])
                    continue
                a.hist.add(hist)
                a.requests += requests
                a.errors += errors
                if name not in a.journeys:
                    a.journeys.append(name)
    return acc


def tag_results(run: RunResult) -> tuple[TagResult, ...]:
    """One result per tag ``key=value`` present in the run, ordered by key then value."""
    acc = _accumulate(run)
    return tuple(TagResult(k, v, a.requests, a.errors, percentile_s(a.hist, 50.0),
                           percentile_s(a.hist, 95.0), percentile_s(a.hist, 99.0),
                           tuple(a.journeys))
                 for (k, v), a in sorted(acc.items()))
