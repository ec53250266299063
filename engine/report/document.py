"""The result document (``perfopt/report/v1``): build it, validate it, load it.

docs/REPORT_FORMAT.md describes the shape; ``schemas/report.v1.schema.json``
validates it. Units in the document: seconds, requests/second, fractions in
[0, 1], bytes. Histograms in a ``RunResult`` count nanoseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from engine import __version__
from engine.hotpath.snapshot import OUTCOME_NAMES
from engine.redact import redact
from engine.report.details_doc import journey_details, run_tags
from engine.result import JourneyResult, RunInterval, RunResult

__all__ = [
    "SCHEMA_ID",
    "DocumentError",
    "HistogramLike",
    "Quantiles",
    "empty_spec_report",
    "latency_summary",
    "load_document",
    "new_document",
    "run_to_doc",
    "spectrum",
    "validate_document",
]

SCHEMA_ID = "perfopt/report/v1"
REVISION = 4
"""Additions within v1 (docs/REPORT_FORMAT.md): 2 = per-journey statuses, error causes,
steps, checks, ended instances, redirects and tags, and each run's per-tag results."""
NS = 1e-9
OUTCOME_DROPPED = "dropped"
OUTCOME_OK = "ok"
# Positions in RunInterval.outcomes, read from the counter order itself so they cannot drift.
OUTCOME_INDEX_OK = OUTCOME_NAMES.index(OUTCOME_OK)
OUTCOME_INDEX_DROPPED = OUTCOME_NAMES.index(OUTCOME_DROPPED)
_LATENCY_POINTS = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9))


class DocumentError(ValueError):
    """A result document file that is missing, not JSON, or not a v1 document."""


class Quantiles(Protocol):
    """What a latency summary needs of a histogram (values in ns)."""

    @property
    def total_count(self) -> int: ...
    @property
    def max(self) -> int: ...
    @property
    def mean(self) -> float: ...
    def value_at_percentile(self, percentile: float) -> int: ...


class HistogramLike(Quantiles, Protocol):
    """The part of engine.hotpath.native.Histogram the report stage uses (values in ns)."""

    def add(self, other: Any) -> None: ...
    def copy(self) -> Any: ...
    def encode(self) -> str: ...


def _s(ns: float) -> float:
    """Nanoseconds -> seconds, rounded to the nanosecond so documents stay small and stable."""
    return round(float(ns) * NS, 9)


def latency_summary(h: Quantiles) -> dict[str, Any]:
    """``Latency`` record (seconds) of a histogram in ns; all zeros for an empty one."""
    out: dict[str, Any] = {}
    empty = h.total_count == 0
    for key, pct in _LATENCY_POINTS:
        out[key] = 0.0 if empty else _s(h.value_at_percentile(pct))
    out["max"] = 0.0 if empty else _s(h.max)
    out["mean"] = 0.0 if empty else _s(h.mean)
    out["count"] = int(h.total_count)
    return out


def spectrum_percentiles(count: int, per_decade: int = 4) -> list[float]:
    """Percentiles for a distribution plot: 0, then 1 - 10^(-k/per_decade), then 100.

    Like HdrHistogram's percentile distribution, stops where fewer than one sample
    is left beyond the percentile, so a small run does not pretend to have a p99.999.
    """
    points = [0.0]
    k = 1
    while count > 0:
        tail = 10 ** (-k / per_decade)
        if tail * count < 1.0 or k > 6 * per_decade:
            break
        points.append(round(100.0 * (1.0 - tail), 6))
        k += 1
    points.append(100.0)
    return points


def spectrum(h: Quantiles) -> list[list[float]]:
    """``[[percentile, seconds], ...]`` for the latency distribution chart; [] when empty."""
    if h.total_count == 0:
        return []
    pts = []
    for p in spectrum_percentiles(int(h.total_count)):
        value = h.max if p >= 100.0 else h.value_at_percentile(p)
        pts.append([p, _s(value)])
    return pts


def _merged(hists: Iterable[HistogramLike]) -> HistogramLike | None:
    merged: HistogramLike | None = None
    for h in hists:
        if merged is None:
            merged = h.copy()
        else:
            merged.add(h)
    return merged


def _server_timing(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # The analysis stage computes the rows (engine.analysis.servertiming.run_timing_rows:
    # an enclosing "app" reduced to its exclusive time, contribution weighted by how many
    # responses carried the component); the report only rounds and prints them.
    return [{k: (round(float(v), 9) if isinstance(v, float) else v) for k, v in row.items()}
            for row in rows]


def _journey_doc(j: JourneyResult, timing_rows: Sequence[Mapping[str, Any]],
                 details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    latency = latency_summary(j.response)
    timing = _server_timing(timing_rows)
    return {
        "name": j.name, "requests": j.requests, "errors": j.errors,
        "error_rate": round(j.errors / j.requests, 9) if j.requests else 0.0,
        "outcomes": {k: int(v) for k, v in j.outcomes.items() if v},
        "latency": latency, "server_timing": timing, **journey_details(j, details),
    }


def _journey_percentiles(hists: Sequence[HistogramLike], names: Sequence[str]) -> dict[str, Any]:
    """Each journey's p50/p95/p99 in one interval (a journey's SLO is judged on these)."""
    out = {}
    for name, h in zip(names, hists, strict=False):
        lat = latency_summary(h)
        out[name] = {k: lat[k] for k in ("p50", "p95", "p99")}
    return out


def _interval_doc(iv: RunInterval, hist_type: Any, names: Sequence[str]) -> dict[str, Any]:
    total = sum(sum(c) for c in iv.outcomes)
    ok = sum(c[OUTCOME_INDEX_OK] for c in iv.outcomes)
    dropped = sum(c[OUTCOME_INDEX_DROPPED] for c in iv.outcomes if len(c) > OUTCOME_INDEX_DROPPED)
    hists = [hist_type.decode(s) for s in iv.response] if hist_type else []
    merged = _merged(hists) if hists else None
    lat = latency_summary(merged) if merged is not None else None
    duration = iv.duration_s if iv.duration_s > 0 else 1.0
    return {
        "t_s": round(iv.start_s, 6), "duration_s": round(iv.duration_s, 6),
        "target_rate": iv.target_rate,
        # requests actually sent per second (dropped ones never left the generator)
        "rate": round((total - dropped) / duration, 6),
        "errors": int(total - ok),
        "p50": lat["p50"] if lat else 0.0, "p95": lat["p95"] if lat else 0.0,
        "p99": lat["p99"] if lat else 0.0,
        "journeys": _journey_percentiles(hists, names) if len(names) > 1 else {},
    }


def _resources_doc(run: RunResult) -> list[dict[str, Any]]:
    return [{
        "t_s": round(r.t_s, 6), "cpu_pct": round(r.cpu_pct, 3), "rss_bytes": int(r.rss_bytes),
        "threads": int(r.threads), "fds": int(r.fds), "sys_cpu_pct": round(r.sys_cpu_pct, 3),
        "sys_mem_pct": round(r.sys_mem_pct, 3), "hot_thread_pct": round(r.hot_thread_pct, 3),
        **({"unknown": sorted(r.unknown)} if r.unknown else {}),  # held at 0, not read
    } for r in run.resources]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _validity_doc(run: RunResult) -> dict[str, Any]:
    v = run.validity
    return {
        "valid": v.valid, "reasons": list(v.reasons), "target_rate": v.target_rate,
        "achieved_rate": round(v.achieved_rate, 6),
        "schedule_lag_p99_s": round(v.schedule_lag_p99_s, 9),
        "schedule_lag_max_s": round(v.schedule_lag_max_s, 9), "dropped": int(v.dropped),
        "generator_cpu_pct": round(v.generator_cpu_pct, 3),
        "generator_rss_growth_bytes": int(v.generator_rss_growth_bytes),
        "sent_rate": round(v.sent_rate, 6), "notes": list(v.notes),
    }


def run_to_doc(run: RunResult, run_id: str, secrets: Sequence[str] = (),
               timing: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
               details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Convert a driver ``RunResult`` into a ``Run`` entry of the document.

    ``timing``: each journey's Server-Timing rows from the analysis stage
    (``Analysed.server_timing``); a journey without rows shows none. ``details``: the
    run's ``RunDetails.to_doc()`` from the analysis stage (per-step figures, error causes,
    per-tag results); without it those lists are empty.

    Latencies become seconds; ``spectrum`` is the merged response distribution;
    ``histograms`` keeps each journey's encoded response histogram (HdrHistogram V2,
    ns) so any HdrHistogram tool can re-read it. Strings pass through ``redact``.
    """
    response = _merged(j.response for j in run.journeys)
    service = _merged(j.service for j in run.journeys)
    hist_type = type(response) if response is not None else None
    empty = latency_summary(_EmptyHistogram())
    doc = {
        "id": run_id, "profile": run.profile, "kind": run.kind, "variant": run.variant,
        "model": run.model, "workers": run.workers, "started_at": run.started_at,
        "duration_s": round(run.duration_s, 6), "target_rate": run.validity.target_rate,
        "achieved_rate": round(run.validity.achieved_rate, 6), "throughput": _rounded(run.throughput()),
        "requests": run.requests, "errors": run.errors, "error_rate": round(run.error_rate, 9),
        "dropped": int(sum(j.outcomes.get(OUTCOME_DROPPED, 0) for j in run.journeys)),
        "latency": latency_summary(response) if response is not None else empty,
        "service_latency": latency_summary(service) if service is not None else empty,
        "spectrum": spectrum(response) if response is not None else [],
        "journeys": [_journey_doc(j, (timing or {}).get(j.name, ()),
                                  (details or {}).get("journeys", {}).get(j.name))
                     for j in run.journeys],
        "tags": run_tags((details or {}).get("tags", ()), secrets),
        "intervals": [_interval_doc(iv, hist_type, [j.name for j in run.journeys])
                      for iv in run.intervals],
        "resources": _resources_doc(run), "validity": _validity_doc(run),
        "aborted": run.aborted, "abort_reason": run.abort_reason,
        "histograms": {j.name: j.response.encode() for j in run.journeys},
    }
    result: dict[str, Any] = redact(_with_hosts(doc, run), secrets)
    return result


def _with_hosts(doc: dict[str, Any], run: RunResult) -> dict[str, Any]:
    """A scale-out run (engine.scale) also carries one row per generator host."""
    if "hosts" in run.extra:
        doc["hosts"] = [dict(row) for row in run.extra["hosts"]]
    return doc


class _EmptyHistogram:
    """Stand-in for a run with no journeys (never recorded anything)."""

    total_count = 0
    max = 0
    mean = 0.0

    def value_at_percentile(self, percentile: float) -> int:
        return 0


def empty_spec_report(name: str, component: str = "", **fields: Any) -> dict[str, Any]:
    """A ``SpecReport`` with every key present and empty; ``fields`` override keys."""
    report: dict[str, Any] = {
        "name": name, "component": component or name, "project": "", "trigger": "proactive",
        "description": "", "source": "", "status": "IN_PROGRESS", "verdict": "NOT_RUN",
        "history_ids": [], "started_at": "", "finished_at": "", "duration_s": 0.0,
        "target": {"url": "", "managed": False, "demo_fix": None, "output_tail": None},
        "messages": [], "runs": [], "slo_checks": [], "error_budgets": [], "gates": [],
        "checklist": [], "regression": None, "hypotheses": [], "priorities": [],
        "bottlenecks": [], "bottleneck_runs": None, "stress": None, "soak": None, "spike": None,
        "capacity": None,
        "lessons": [], "next_steps": [],
        "warnings": [], "actions": [], "money": None, "next_target": "", "next_review": "",
        "lessons_ledger": [],
        "production": None,
    }
    unknown = set(fields) - set(report)
    if unknown:
        raise KeyError(f"not SpecReport keys: {sorted(unknown)}")
    report.update(fields)
    return report


def new_document(specs: Sequence[Mapping[str, Any]], *, verdict: str, exit_code: int,
                 generated_at: datetime | None = None, version: str = __version__,
                 ) -> dict[str, Any]:
    """The top-level document around ``specs`` (SpecReport dicts), time in UTC ISO-8601."""
    when = generated_at or datetime.now(UTC)
    return {
        "schema": SCHEMA_ID, "revision": REVISION,
        "tool": {"name": "perfopt-engine", "version": version},
        "generated_at": when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "exit_code": exit_code, "verdict": verdict, "specs": [dict(s) for s in specs],
    }


REPORT_SCHEMA = "report.v1.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # imported here: only validation needs it

    from engine.spec.validate import load_schema

    return jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA))


def validate_document(doc: Any) -> list[str]:
    """Schema violations of ``doc`` as ``path: message`` lines; [] when valid."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}" for e in errors]


def load_document(path: str | Path) -> dict[str, Any]:
    """Read and validate a stored result; ``DocumentError`` says what is wrong with the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError(f"{p}: no such file (expected a result JSON written by apply)"
                            ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{p}: cannot read: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"{p}:{exc.lineno}: not JSON ({exc.msg}); "
                            "expected a perfopt/report/v1 result document") from None
    problems = validate_document(doc)
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        shown = "; ".join(problems[:5]) + more
        raise DocumentError(f"{p}: not a valid {SCHEMA_ID} document: {shown}")
    result: dict[str, Any] = doc
    return result
