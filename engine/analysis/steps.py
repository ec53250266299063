"""Per-step figures of multi-step journeys, what each journey's errors were, and the run's
per-tag results: the request details every report format shows, computed here once.

- A **step's** requests, errors and error rate are its own outcomes (``StepResult``); its
  p50/p95/p99 come from its own response histogram (a followed redirect chain is one
  request, timed whole).
- A journey's **error causes** name its failed requests: each HTTP status class that
  counted errors (``status_4xx``) split into the codes of ``JourneyResult.statuses`` when
  those codes account for exactly that many responses (``401 x 50``), else the class
  itself; every other error outcome by its name (``timeout x 3``). Most frequent first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.analysis.tags import TagResult, percentile_s, tag_results
from engine.result import JourneyResult, RunResult, StepResult

__all__ = ["JourneyDetails", "RunDetails", "StepSummary", "error_causes", "run_details",
           "step_summary"]

_STATUS_CLASS = re.compile(r"status_([1-5])xx")


@dataclass(frozen=True)
class StepSummary:
    """One step's figures. Times in seconds (None: no response was timed)."""

    index: int
    name: str
    requests: int
    errors: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    outcomes: Mapping[str, int]
    tags: Mapping[str, str]

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def to_doc(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "requests": self.requests,
                "errors": self.errors, "error_rate": self.error_rate, "p50": self.p50_s,
                "p95": self.p95_s, "p99": self.p99_s,
                "outcomes": {k: int(v) for k, v in self.outcomes.items() if v},
                "tags": dict(self.tags)}


def step_summary(step: StepResult, journey_tags: Mapping[str, str]) -> StepSummary:
    """A step's figures; its tags merged over its journey's (the step's value wins)."""
    h = step.response
    return StepSummary(step.index, step.name, step.requests, step.errors,
                       percentile_s(h, 50.0), percentile_s(h, 95.0), percentile_s(h, 99.0),
                       dict(step.outcomes), {**journey_tags, **step.tags})


def error_causes(journey: JourneyResult) -> tuple[tuple[str, int], ...]:
    """(cause, count) of the journey's errors, most first: status codes where the statuses
    account for their class's errors, else the outcome's name. Empty without errors."""
    causes: list[tuple[str, int]] = []
    for name, count in journey.outcomes.items():
        if name == "ok" or count <= 0:
            continue
        match = _STATUS_CLASS.fullmatch(name)
        codes = {c: n for c, n in journey.statuses.items()
                 if match and n > 0 and c // 100 == int(match.group(1))}
        if codes and sum(codes.values()) == count:
            causes += [(str(c), int(n)) for c, n in codes.items()]
        else:
            causes.append((name, int(count)))
    return tuple(sorted(causes, key=lambda c: (-c[1], c[0])))


@dataclass(frozen=True)
class JourneyDetails:
    """One journey's per-step figures and error causes."""

    steps: tuple[StepSummary, ...] = ()
    error_causes: tuple[tuple[str, int], ...] = ()

    def to_doc(self) -> dict[str, Any]:
        return {"steps": [s.to_doc() for s in self.steps],
                "error_causes": [{"cause": c, "count": n} for c, n in self.error_causes]}


@dataclass(frozen=True)
class RunDetails:
    """A run's per-journey details and per-tag results (the report's request details)."""

    journeys: Mapping[str, JourneyDetails] = field(default_factory=dict)
    tags: tuple[TagResult, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        return {"journeys": {name: d.to_doc() for name, d in self.journeys.items()},
                "tags": [t.to_doc() for t in self.tags]}


def run_details(run: RunResult) -> RunDetails:
    """Per-step figures, error causes and tag results of every journey of ``run``."""
    journeys = {j.name: JourneyDetails(tuple(step_summary(s, j.tags) for s in j.steps),
                                       error_causes(j))
                for j in run.journeys}
    return RunDetails(journeys, tag_results(run))
