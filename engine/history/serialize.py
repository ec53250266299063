"""RunResult <-> history rows: JSON metadata and encoded (HdrHistogram V2) histograms.

Histograms are stored in their compressed text encoding (a few hundred bytes for a sparse
1 us - 1 h histogram), so any HdrHistogram tool can read the database, and decoding
restores every count exactly: the regression statistics on a stored run see the same
distribution they would have seen live.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from typing import Any

from engine.analysis.machine_speed import MACHINE_SPEED, MEASURED_AGAIN
from engine.answered import ANSWERABLE
from engine.redact import redact
from engine.result import (
    CheckResult,
    JourneyResult,
    ResourceSample,
    RunInterval,
    RunResult,
    StepResult,
    Validity,
)

__all__ = [
    "INTERVAL_COLUMNS",
    "JOURNEY_COLUMNS",
    "RESOURCE_COLUMNS",
    "interval_from_row",
    "interval_rows",
    "journey_from_row",
    "journey_rows",
    "meta_doc",
    "resource_from_row",
    "resource_rows",
    "summarize",
    "validity_from_meta",
]

JOURNEY_COLUMNS = ("run_id", "position", "name", "response", "service", "outcomes",
                   "server_timing", "detail")
INTERVAL_COLUMNS = ("run_id", "idx", "start_s", "duration_s", "target_rate", "response",
                    "outcomes")
RESOURCE_FIELDS = tuple(f.name for f in fields(ResourceSample))
RESOURCE_COLUMNS = ("run_id", "seq", *RESOURCE_FIELDS)
SUMMARY_METRICS = ("p50", "p90", "p95", "p99", "max", "mean", "throughput", "error_rate")


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON (stable text for equal values)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def journey_rows(run_id: int, run: RunResult) -> list[tuple[Any, ...]]:
    """One row per journey, in run order."""
    return [
        (run_id, i, j.name, j.response.encode(), j.service.encode(), dumps(dict(j.outcomes)),
         dumps({k: h.encode() for k, h in j.server_timing.items()}), dumps(journey_detail(j)))
        for i, j in enumerate(run.journeys)
    ]


def journey_detail(j: JourneyResult) -> dict[str, Any]:
    """The #16 fields of a journey as JSON (histograms encoded; texts redacted like every
    stored text: check names, early-end reasons and tags come from the spec)."""
    doc: dict[str, Any] = redact({
        "statuses": {str(k): n for k, n in j.statuses.items()}, "redirects": j.redirects,
        "ended": dict(j.ended), "tags": dict(j.tags),
        "checks": [[c.step, c.name, c.passed, c.failed, c.fail_request] for c in j.checks],
        "steps": [{"index": s.index, "name": s.name, "response": s.response.encode(),
                   "outcomes": dict(s.outcomes), "tags": dict(s.tags)} for s in j.steps],
    })
    return doc


def _detail_fields(text: str) -> dict[str, Any]:
    """JourneyResult keyword arguments from a stored detail document ({} before v3)."""
    d: dict[str, Any] = json.loads(text or "{}")
    return {
        "statuses": {int(k): int(n) for k, n in d.get("statuses", {}).items()},
        "redirects": int(d.get("redirects", 0)), "ended": dict(d.get("ended", {})),
        "tags": dict(d.get("tags", {})),
        "checks": tuple(CheckResult(int(c[0]), str(c[1]), int(c[2]), int(c[3]), bool(c[4]))
                        for c in d.get("checks", [])),
        "steps": tuple(StepResult(int(s["index"]), str(s["name"]), _decode(s["response"]),
                                  {k: int(v) for k, v in s["outcomes"].items()},
                                  dict(s.get("tags", {}))) for s in d.get("steps", [])),
    }


def interval_rows(run_id: int, run: RunResult) -> list[tuple[Any, ...]]:
    """One row per interval; histograms stay encoded (they already are in RunInterval)."""
    return [
        (run_id, iv.index, iv.start_s, iv.duration_s, iv.target_rate,
         dumps(list(iv.response)), dumps([list(o) for o in iv.outcomes]))
        for iv in run.intervals
    ]


def resource_rows(run_id: int, run: RunResult) -> list[tuple[Any, ...]]:
    """One row per resource sample, in time order."""
    return [(run_id, i, *(_cell(getattr(s, f)) for f in RESOURCE_FIELDS))
            for i, s in enumerate(run.resources)]


def _cell(value: Any) -> Any:
    """A sample field as a column value: the ``unknown`` names comma-separated."""
    return ",".join(value) if isinstance(value, tuple) else value


def meta_doc(run: RunResult, extra: Mapping[str, Any] | None = None) -> str:
    """The scalar run fields load_result needs that have no column of their own, and
    ``extra`` (the regression gate's inputs for the run apply judged)."""
    return dumps({
        "target_url": redact(run.target_url), "model": run.model, "workers": run.workers,
        "duration_s": run.duration_s, "aborted": run.aborted,
        "abort_reason": run.abort_reason, "validity": asdict(run.validity),
        **{k: run.extra[k] for k in KEPT_EXTRA if k in run.extra}, **(extra or {}),
    })


KEPT_EXTRA = ("generator_cpu_s", "host_cpus", MACHINE_SPEED, MEASURED_AGAIN, ANSWERABLE)
"""RunResult.extra entries a stored run keeps: what engine.analysis.host_load reads of a
baseline run (the generator's own CPU, the generating machine's CPU count) and what
engine.analysis.machine_speed reads (the machine-speed probe's summary, and why a run was
a second measurement), and how many answers the load could have (engine.answered.in_load:
the achieved rate and throughput recomputed from a stored run)."""


def _decode(text: str) -> Any:
    from engine.hotpath.native import Histogram  # numpy/native import only when rows are read

    return Histogram.decode(text)


def journey_from_row(row: sqlite3.Row) -> JourneyResult:
    """Rebuild a JourneyResult with live (decoded) histograms."""
    timing: dict[str, str] = json.loads(row["server_timing"] or "{}")
    return JourneyResult(
        name=row["name"], response=_decode(row["response"]), service=_decode(row["service"]),
        outcomes={k: int(v) for k, v in json.loads(row["outcomes"]).items()},
        server_timing={k: _decode(v) for k, v in timing.items()},
        **_detail_fields(row["detail"]),
    )


def interval_from_row(row: sqlite3.Row) -> RunInterval:
    """Rebuild one RunInterval (histograms stay encoded, as RunInterval keeps them)."""
    return RunInterval(
        index=row["idx"], start_s=row["start_s"], duration_s=row["duration_s"],
        target_rate=row["target_rate"], response=tuple(json.loads(row["response"])),
        outcomes=tuple(tuple(int(c) for c in o) for o in json.loads(row["outcomes"])),
    )


def resource_from_row(row: sqlite3.Row) -> ResourceSample:
    """Rebuild one ResourceSample."""
    values = {f: row[f] for f in RESOURCE_FIELDS}
    values["unknown"] = tuple(n for n in str(values["unknown"]).split(",") if n)
    return ResourceSample(**values)


def validity_from_meta(meta: Mapping[str, Any], journeys: Sequence[JourneyResult],
                       duration_s: float) -> Validity:
    """The stored Validity; runs written before schema v2 get one rebuilt from counters."""
    stored = meta.get("validity")
    if isinstance(stored, dict):
        stored = dict(stored, reasons=tuple(stored.get("reasons", ())),
                      notes=tuple(stored.get("notes", ())))
        return Validity(**stored)
    sent = sum(j.requests for j in journeys)
    dropped = sum(j.outcomes.get("dropped", 0) for j in journeys)
    rate = sent / duration_s if duration_s > 0 else 0.0
    return Validity(valid=True, reasons=("recorded before schema v2: validity not stored",),
                    target_rate=None, achieved_rate=rate, schedule_lag_p99_s=0.0,
                    schedule_lag_max_s=0.0, dropped=dropped, generator_cpu_pct=0.0)


def summarize(run: RunResult) -> dict[str, float | None]:
    """Key metrics of a run for listings: latency in seconds, throughput in ok/s, rates as
    fractions, plus request and error counts. None where the run has no data."""
    from engine.analysis.metrics import metric_value

    out: dict[str, float | None] = {"requests": float(run.requests),
                                    "errors": float(run.errors)}
    for name in SUMMARY_METRICS:
        out[name] = metric_value(run, name) if run.journeys else None
    return out
