"""Worker reports -> one RunResult (and intervals -> RunInterval / progress events).

Whatever the worker count, the result has the same form: recorder states are merged
through the histogram encoding, counters are summed, generator measurements combined.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.answered import ANSWERABLE, in_load
from engine.driver.details import journey_details
from engine.driver.progress import IntervalProgress
from engine.driver.servertiming import merge_encoded
from engine.driver.shapes import Shape
from engine.driver.validity import LAG_LIMIT_S, GeneratorStats, assess
from engine.hotpath.native import DROPPED, OK, OUTCOME_NAMES, Histogram, Recorder, count_above
from engine.result import JourneyResult, RunInterval, RunResult
from engine.spec.model import Journey, LoadProfile


@dataclass(frozen=True)
class RunInfo:
    """The facts of a run the workers do not know."""

    profile: LoadProfile
    variant: str
    target_url: str
    shape: Shape
    workers: int
    started_at: float
    start_ns: int
    journeys: tuple[Journey, ...] = ()
    """The spec's journeys (step names, checks, tags for the per-step results)."""


def merge_states(states: Sequence[dict[str, Any]]) -> Any:
    """One Recorder holding every worker's data."""
    rec = Recorder.from_state(states[0])
    for st in states[1:]:
        rec.merge(Recorder.from_state(st))
    return rec


def run_interval(snap: Any, info: RunInfo) -> RunInterval:
    """A closed recorder interval as the result type (times from the run start)."""
    t0 = (snap.start_ns - info.start_ns) / 1e9
    dur = (snap.end_ns - snap.start_ns) / 1e9
    target = None
    if info.shape.model == "open" and dur > 0:
        target = info.shape.area(t0, t0 + dur) / dur
    return RunInterval(snap.index, t0, dur, target, tuple(snap.response),
                       tuple(tuple(o) for o in snap.outcomes))


def interval_progress(ri: RunInterval, info: RunInfo,
                      journeys: Sequence[str] = ()) -> IntervalProgress:
    """Live numbers of one interval: all journeys together (``ri`` itself rides along, with
    the ``journeys`` names, for per-journey live consumers)."""
    total = Histogram()
    for enc in ri.response:
        total.add(Histogram.decode(enc))
    requests = sum(sum(o) for o in ri.outcomes)
    sent = requests - sum(o[DROPPED] for o in ri.outcomes)
    ok = sum(o[OK] for o in ri.outcomes)
    end = ri.start_s + ri.duration_s

    def pct(p: float) -> float | None:
        return total.value_at_percentile(p) / 1e9 if total.total_count else None

    return IntervalProgress(
        ri.index, end, max(0.0, info.shape.duration_s - end), ri.target_rate,
        sent / ri.duration_s if ri.duration_s > 0 else 0.0, pct(50), pct(95), pct(99),
        requests, requests - ok, ri, tuple(journeys))


def build_result(info: RunInfo, reports: Sequence[Any], tolerance: float,
                 abort_reason: str = "") -> RunResult:
    """Merge worker reports (engine.driver.runtime.WorkerReport) into the RunResult."""
    rec = merge_states([r.state for r in reports])
    names = list(rec.journeys)
    timings = merge_encoded([r.server_timing for r in reports], len(names))
    details = journey_details(info.journeys, [getattr(r, "detail", {}) for r in reports],
                              len(names))
    journeys = tuple(
        JourneyResult(n, rec.response(j), rec.service(j),
                      dict(zip(OUTCOME_NAMES, rec.outcomes(j), strict=True)), timings[j],
                      **details[j])
        for j, n in enumerate(names))
    load_s = max((r.load_s for r in reports), default=0.0)
    reason = abort_reason or next((r.aborted for r in reports if r.aborted), "")
    intervals = tuple(run_interval(s, info) for s in rec.intervals())
    counts = [getattr(r, "answerable", None) for r in reports]  # None: a host that did not count
    answerable = None if None in counts else sum(c for c in counts if c is not None)
    answered = in_load([j.outcomes for j in journeys], range(len(journeys)), answerable,
                       intervals, load_s)
    stats = replace(_stats(info, reports, rec, load_s), answered_in_load=answered.answered)
    return RunResult(
        profile=info.profile.name, kind=info.profile.kind, variant=info.variant,
        target_url=info.target_url, model=info.shape.model, workers=info.workers,
        started_at=info.started_at, duration_s=load_s, journeys=journeys,
        intervals=intervals, validity=assess(stats, tolerance), aborted=bool(reason), abort_reason=reason,
        extra={**_extra(info, reports, rec),
               **({ANSWERABLE: answerable} if answerable is not None else {})})


def _stats(info: RunInfo, reports: Sequence[Any], rec: Any, load_s: float) -> GeneratorStats:
    lag = Histogram()
    for r in reports:
        lag.add(Histogram.decode(r.lag))
    outcomes = dict.fromkeys(OUTCOME_NAMES, 0)
    for j in range(len(rec.journeys)):
        for name, n in zip(OUTCOME_NAMES, rec.outcomes(j), strict=True):
            outcomes[name] += n
    due = info.shape.area(0.0, load_s) if info.shape.model == "open" and load_s > 0 else 0.0
    return GeneratorStats(
        target_rate=due / load_s if due else None,
        load_s=load_s, outcomes=outcomes, dispatched=sum(r.dispatched for r in reports),
        due=due,
        connections=info.profile.settings.connections,
        lag_p99_s=lag.value_at_percentile(99) / 1e9 if lag.total_count else 0.0,
        lag_max_s=max((r.lag_max_ns for r in reports), default=0) / 1e9,
        late=count_above(lag, LAG_LIMIT_S * 1e9),
        worker_cpu_pct=[100.0 * r.cpu_s / r.wall_s if r.wall_s > 0 else 0.0 for r in reports],
        rss_growth_bytes=sum(r.rss_growth_bytes for r in reports),
        cancelled=sum(r.cancelled for r in reports),
        connect_error=next((r.connect_error for r in reports if r.connect_error), ""))


def _extra(info: RunInfo, reports: Sequence[Any], rec: Any) -> dict[str, Any]:
    return {
        "planned_requests": sum(r.planned for r in reports),
        "dispatched": sum(r.dispatched for r in reports),
        "cancelled_at_abort": sum(r.cancelled for r in reports),
        "generator_cpu_s": sum(r.cpu_s for r in reports),
        "host_cpus": os.cpu_count() or 1,  # psutil's machine-wide CPU % is over all of them
        "recorder_invalid": int(rec.invalid_count),
        "shape": [list(p) for p in info.shape.points],
        **_cross_origin(reports),
        **_dispatch(reports),
    }


def _dispatch(reports: Sequence[Any]) -> dict[str, Any]:
    """Open model: the scheduler's batching window (wake-ups at least this far apart, each
    sending what is due within half of it; a late send timed from its intended time, an
    early one from the wake-up) and how often its timer woke."""
    window = max((getattr(r, "window_ns", 0) for r in reports), default=0)
    if not window:
        return {}
    return {"dispatch_window_ns": window,
            "scheduler_wakeups": sum(getattr(r, "wakeups", 0) for r in reports)}


def _cross_origin(reports: Sequence[Any]) -> dict[str, Any]:
    """Origins redirected to and not followed (only same-origin redirects are)."""
    seen = sorted({o for r in reports for o in getattr(r, "detail", {}).get("cross_origin", ())})
    return {"redirects_not_followed": seen} if seen else {}
