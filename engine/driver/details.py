"""Worker details -> the JourneyResult fields beyond the recorder's: status codes, redirect
hops, checks, early-ended instances, per-step results (multi-step journeys) and tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.driver.catalog import series_name
from engine.driver.http import REDIRECT_SLOT, STATUS_SLOTS
from engine.driver.steps import step_name
from engine.hotpath.native import OUTCOME_NAMES, Recorder
from engine.result import CheckResult, StepResult
from engine.spec.model import Journey


def journey_details(journeys: Sequence[Journey], details: Sequence[dict[str, Any]],
                    count: int) -> list[dict[str, Any]]:
    """Per journey index, the keyword arguments of JourneyResult's detail fields."""
    out: list[dict[str, Any]] = [{"statuses": {}, "redirects": 0} for _ in range(count)]
    for d in details:
        for slot, n in d.get("statuses", ()):
            j, code = divmod(int(slot), STATUS_SLOTS)
            if j >= count:
                continue
            if code == REDIRECT_SLOT:
                out[j]["redirects"] += int(n)
            else:
                out[j]["statuses"][code] = out[j]["statuses"].get(code, 0) + int(n)
    for j, journey in enumerate(journeys[:count]):
        out[j]["statuses"] = dict(sorted(out[j]["statuses"].items()))
        out[j]["tags"] = dict(journey.tags)
        out[j]["checks"] = _checks(journey, j, details)
        out[j]["ended"] = _ended(j, details)
        out[j]["steps"] = _steps(journey, details)
    return out


def _checks(journey: Journey, j: int, details: Sequence[dict[str, Any]]) -> tuple[CheckResult, ...]:
    counts: list[int] = []
    for d in details:
        rows = d.get("checks", [])
        mine = rows[j] if j < len(rows) else []
        counts = [a + b for a, b in zip(counts, mine, strict=True)] if counts else list(mine)
    out, k = [], 0
    for i, step in enumerate(journey.steps):
        for c in step.checks:
            passed, failed = (counts[2 * k], counts[2 * k + 1]) if 2 * k + 1 < len(counts) else (0, 0)
            out.append(CheckResult(i, c.name, passed, failed, c.fail_request))
            k += 1
    return tuple(out)


def _ended(j: int, details: Sequence[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in details:
        rows = d.get("ended", [])
        for reason, n in (rows[j] if j < len(rows) else {}).items():
            out[reason] = out.get(reason, 0) + int(n)
    return out


def _steps(journey: Journey, details: Sequence[dict[str, Any]]) -> tuple[StepResult, ...]:
    if len(journey.steps) < 2:
        return ()
    states = [d["steps"] for d in details if d.get("steps")]
    if not states:
        return ()
    rec = Recorder.from_state(states[0])
    for st in states[1:]:
        rec.merge(Recorder.from_state(st))
    names = list(rec.journeys)
    out = []
    for i, step in enumerate(journey.steps):
        key = series_name(journey.name, i)
        if key not in names:
            continue
        s = names.index(key)
        out.append(StepResult(i, step_name(step), rec.response(s),
                              dict(zip(OUTCOME_NAMES, rec.outcomes(s), strict=True)),
                              {**journey.tags, **step.tags}))
    return tuple(out)
