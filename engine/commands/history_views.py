"""Text views of the history for the ``history``/``baseline``/``compare`` commands.

Pure functions from stored records to strings; engine/commands/history.py prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.analysis.metrics import is_latency
from engine.analysis.regression import GATE_CONFIG, RegressionCheck, RegressionResult, label
from engine.gates.actions import REGRESSION_ESCALATION, regression_action
from engine.history.changepoint import ChangePoint, ChangePointView
from engine.history.regression import Recheck
from engine.history.store import Pin, StoredRun
from engine.report.fmt import level_note, shown_status
from engine.result import RunResult
from engine.units import format_level

__all__ = [
    "changepoints_text", "compare_text", "doc_of_run", "fmt_metric", "pins_table",
    "run_details", "runs_table", "table", "when",
]


def when(ts: float | None) -> str:
    """Unix seconds -> ``2026-11-27 14:05:09`` (UTC); '-' for None."""
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_metric(metric: str, value: float | None) -> str:
    """Human value: latency in ms, throughput in req/s, rates in percent."""
    if value is None:
        return "-"
    if is_latency(metric):
        return f"{value * 1e3:.2f}ms"
    if metric in ("error_rate", "availability"):
        return f"{value * 100:.2f}%"
    if metric == "throughput":
        return f"{value:.1f}/s"
    return f"{value:g}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned plain-text table, columns two spaces apart."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in (headers, *rows)]
    return "\n".join(lines)


def runs_table(runs: Sequence[StoredRun], host: str, pins: Sequence[Pin]) -> str:
    """The ``history`` listing: one row per run with its key metrics and verdict."""
    pinned = _pins_by_run(pins)
    headers = ("ID", "STARTED (UTC)", "SPEC", "PROFILE", "STATUS", "VERDICT", "REQUESTS",
               "P50", "P95", "P99", "THROUGHPUT", "ERRORS", "COMMIT", "HOST", "PINS")
    return table(headers, [_run_row(r, host, pinned.get(r.id, ())) for r in runs])


def _run_row(r: StoredRun, host: str, pins: Sequence[str]) -> list[str]:
    s = r.summary
    requests = s.get("requests")
    return [
        str(r.id), when(r.started_at), r.spec,
        r.profile + (f"/{r.variant}" if r.variant else ""), r.status, r.verdict or "-",
        "-" if requests is None else f"{requests:.0f}",
        *(fmt_metric(m, s.get(m)) for m in ("p50", "p95", "p99", "throughput", "error_rate")),
        (r.git_commit or "-")[:8], "this" if r.host == host else r.host[:8], ",".join(pins),
    ]


def _pins_by_run(pins: Sequence[Pin]) -> dict[int, tuple[str, ...]]:
    out: dict[int, tuple[str, ...]] = {}
    for pin in pins:
        for run_id in pin.run_ids:
            out[run_id] = (*out.get(run_id, ()), pin.name)
    return out


def pins_table(pins: Sequence[Pin], runs: Mapping[int, StoredRun]) -> str:
    """The ``baseline list`` listing."""
    rows = []
    for pin in pins:
        stored = [runs[i] for i in pin.run_ids if i in runs]
        specs = sorted({f"{r.spec}/{r.profile}" for r in stored})
        rows.append([pin.name, " ".join(str(i) for i in pin.run_ids), when(pin.pinned_at),
                     ", ".join(specs)])
    return table(("NAME", "RUNS", "PINNED AT (UTC)", "SPEC/PROFILE"), rows)


def run_details(r: StoredRun, result: RunResult | None, host: str,
                pins: Sequence[Pin]) -> str:
    """The ``history show RUN`` text: the stored row, summary and per-journey metrics."""
    names = _pins_by_run(pins).get(r.id, ())
    duration = "-" if r.ended_at is None else f"{r.ended_at - r.started_at:.1f}s"
    lines = [
        f"run {r.id}: {r.spec} / {r.profile} ({r.kind})" + (f" variant {r.variant}"
                                                            if r.variant else ""),
        f"  status    {r.status}, verdict {r.verdict or '-'}",
        f"  started   {when(r.started_at)} UTC, duration {duration}",
        f"  spec hash {r.spec_hash}",
        f"  git       {r.git_commit or '-'}" + (f" ({r.git_branch})" if r.git_branch else ""),
        f"  host      {r.host}" + (" (this host)" if r.host == host else " (another host)")
        + (f": {r.host_text}" if r.host_text else ""),
        f"  pinned as {', '.join(names) if names else '-'}",
        "  summary   " + _summary_text(r.summary),
    ]
    if result is not None:
        lines += ["", _journeys_table(result), "", _run_extras(result)]
    return "\n".join(lines)


def _summary_text(summary: Mapping[str, float | None]) -> str:
    order = ("requests", "errors", "p50", "p95", "p99", "max", "throughput", "error_rate")
    parts = [f"{k} {fmt_metric(k, summary.get(k)) if k not in ('requests', 'errors') else int(v)}"
             for k in order if (v := summary.get(k)) is not None]
    return ", ".join(parts) or "-"


def _journeys_table(result: RunResult) -> str:
    rows = []
    for j in result.journeys:
        pct = j.response.values_at_percentiles([50.0, 95.0, 99.0]) if j.response.total_count \
            else [None, None, None]
        lat = [fmt_metric("p50", None if v is None else v * 1e-9) for v in pct]
        top = fmt_metric("max", j.response.max * 1e-9 if j.response.total_count else None)
        rows.append([j.name, str(j.requests), str(j.errors), *lat, top])
    return table(("JOURNEY", "REQUESTS", "ERRORS", "P50", "P95", "P99", "MAX"), rows)


def _run_extras(result: RunResult) -> str:
    v = result.validity
    text = [f"  validity  {'valid' if v.valid else 'INVALID'}"
            + (f": {'; '.join(v.reasons)}" if v.reasons else ""),
            f"  rate      achieved {v.achieved_rate:.1f}/s"
            + (f" of {v.target_rate:.1f}/s" if v.target_rate else ""),
            f"  recorded  {len(result.intervals)} interval(s), {len(result.resources)} "
            "resource sample(s)"]
    if result.resources:
        cpu = max(s.cpu_pct for s in result.resources)
        rss = max(s.rss_bytes for s in result.resources)
        text.append(f"  target    peak CPU {cpu:.0f}%, peak RSS {rss / 2**20:.1f} MiB")
    return "\n".join(text)


def doc_of_run(r: StoredRun) -> dict[str, Any]:
    """A stored run as JSON-ready values (``history --json``)."""
    return {"id": r.id, "spec": r.spec, "spec_hash": r.spec_hash, "profile": r.profile,
            "kind": r.kind, "variant": r.variant, "status": r.status, "verdict": r.verdict,
            "started_at": r.started_at, "ended_at": r.ended_at, "summary": dict(r.summary),
            "git_commit": r.git_commit, "git_branch": r.git_branch, "host": r.host,
            "host_text": r.host_text}


def _change(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric in ("error_rate", "availability"):
        return f"{value * 100:+.2f}pts"
    return f"{value * 100:+.1f}%"


def _check_row(check: RegressionCheck, header: str) -> list[str]:
    """One row of ``compare``'s table; an interval at another level than the column's
    ``header`` (a journey's check re-judged at its share of the gate's error) says its own."""
    interval = "-" if check.ci_low is None or check.ci_high is None else \
        f"[{_change(check.metric, check.ci_low)}, {_change(check.metric, check.ci_high)}]"
    if interval != "-" and check.effect is not None:
        interval += level_note(check.effect.confidence, header)
    sign = "-" if check.metric in ("throughput", "availability") else "+"
    tolerance = f"{sign}{check.tolerance * 100:.1f}" + (
        "pts" if check.metric in ("error_rate", "availability") else "%")
    return [label(check.metric, check.journey), fmt_metric(check.metric, check.baseline),
            fmt_metric(check.metric, check.current), _change(check.metric, check.change),
            interval, tolerance, _significance(check),
            shown_status(str(check.status), check.judged)]


def _significance(check: RegressionCheck) -> str:
    """'worse' or 'better' when the whole interval lies on that side of 0, else 'no'."""
    return "worse" if check.significant else "better" if check.improved else "no"


def _side(tag: str, r: StoredRun) -> str:
    reqs = r.summary.get("requests")
    return (f"{tag} run {r.id}: {r.spec}/{r.profile}, {when(r.started_at)} UTC, "
            f"{'-' if reqs is None else int(reqs)} requests, verdict {r.verdict or '-'}")


def compare_text(base: Sequence[StoredRun], b: StoredRun, checked: Recheck, host: str, *,
                 overridden: bool = False) -> str:
    """The ``compare`` output: the runs, what apply judged, one row per check, the verdict."""
    result = checked.result
    lines = [_side("baseline", a) for a in base] + [_side("current ", b)]
    lines += _judged_lines(b.id, checked, overridden)
    if any(a.host != b.host for a in base):
        lines.append("note: the runs were made on different hosts; the change may be the "
                     "machine, not the code")
    if any(a.spec_hash != b.spec_hash for a in base):
        lines.append("note: the spec changed between the runs (spec hash differs)")
    headers = ("METRIC", "BASELINE", "CURRENT", "CHANGE", _ci_header(result), "TOLERANCE",
               "SIGNIFICANT", "STATUS")
    lines += ["", table(headers, [_check_row(c, headers[4]) for c in result.checks]), ""]
    lines += list(result.messages)
    if str(result.status) == "FAIL":
        newest = max(base, key=lambda r: r.started_at, default=None)
        lines.append("action: " + regression_action(newest.git_commit if newest else None,
                                                    b.git_commit)
                     + f"; {REGRESSION_ESCALATION}")
    lines += [f"  {c.message}" for c in result.checks
              if str(c.status) == "INCONCLUSIVE" and c.message]
    shown = result.note and not result.invalid_reason  # an INVALID's: the notes say it
    lines.append(f"regression gate verdict: {result.status}"
                 + (f" ({result.note})" if shown else ""))
    lines += [f"note: {n}" for n in result.notes]  # a busier host, a slower machine
    return "\n".join(lines)


def _judged_lines(run_id: int, checked: Recheck, overridden: bool) -> list[str]:
    """What apply judged the current run with, and whether this comparison repeats it."""
    found = checked.judged
    if found is None:
        return [f"settings: the defaults (apply did not judge run {run_id} against a "
                "baseline): default tolerances and minimum effect, no guards"]
    ids = ", ".join(str(i) for i in sorted(found.baseline_run_ids)) or "none"
    lines = [f"apply judged run {run_id} against baseline run(s) {ids}: {found.status}; "
             "same tolerances, minimum effect, journeys and guards here"]
    if set(checked.baseline_run_ids) != set(found.baseline_run_ids):
        lines.append(f"note: other baseline runs than apply's; `compare {run_id}` repeats "
                     "apply's judgement")
    if overridden:
        lines.append("note: --tolerance overrides tolerances apply used")
    return lines


def _ci_header(result: RegressionResult) -> str:
    """'98% CI': the level the gate's intervals were computed at (GATE_CONFIG's, unless the
    caller chose another), read from the checks' effects rather than assumed."""
    level = next((c.effect.confidence for c in result.checks if c.effect is not None),
                 GATE_CONFIG.confidence)
    return f"{format_level(level)} CI"


def changepoints_text(spec: str, profile: str, found: Sequence[ChangePointView]) -> str:
    """Shifts found in a spec's history, one line each; '' when the series is too short."""
    longest = max((len(v.points) for v in found), default=0)
    if longest < 6:  # two segments of three runs: the least the detector can split
        return ""
    head = f"change points ({spec}, profile {profile}, {longest} runs):"
    lines = [_change_line(c) for v in found for c in v.changepoints]
    return "\n".join([head, *(lines or ["  none found"])])


def _change_line(c: ChangePoint) -> str:
    return (f"  {c.metric:<10} {_change(c.metric, c.change)} from run {c.run_id} "
            f"({when(c.at)} UTC): {fmt_metric(c.metric, c.before)} -> "
            f"{fmt_metric(c.metric, c.after)}, p={c.p_value:.3f}")
