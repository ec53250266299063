"""Report sections about load tests, improvements, ROI and monitoring (Markdown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.fmt import (
    DASH,
    ci_label,
    ci_level_note,
    fmt_bytes,
    fmt_change,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_s,
    fmt_value,
    shown_status,
)
from engine.report.md_parts import bullets, no_data, table
from engine.report.md_production import production_markdown
from engine.report.md_resources import resources_table

__all__ = [
    "KINDS", "improvements", "journey_table", "kind_section", "load_tests", "monitoring",
    "regression_notes", "roi", "server_timing_table", "spike_levels", "spike_shape",
    "validity_line",
]

Doc = Mapping[str, Any]
KINDS = ("baseline", "stress", "soak", "spike", "capacity")


def validity_line(run: Doc) -> str:
    """One line on whether the run did what it was asked."""
    v = run["validity"]
    lag = f"schedule lag p99 {fmt_s(v['schedule_lag_p99_s'])}, max {fmt_s(v['schedule_lag_max_s'])}"
    if run.get("aborted"):
        return f"Run `{run['id']}` ABORTED: {run.get('abort_reason') or 'no reason given'}."
    if v["valid"]:
        notes = "".join(f" {n[0].upper()}{n[1:]}." for n in v.get("notes") or ())
        return (f"Run `{run['id']}` is valid ({lag}, generator CPU "
                f"{v['generator_cpu_pct']:.0f}%).{notes}")
    return f"Run `{run['id']}` is INVALID: {'; '.join(v['reasons']) or 'no reason given'} ({lag})."


def journey_table(journeys: Sequence[Doc]) -> str:
    """Per-journey latency and errors."""
    return table(["Journey", "Requests", "p50", "p95", "p99", "Error rate"],
                 [[j["name"], f"{j['requests']:,}", fmt_s(j["latency"]["p50"]),
                   fmt_s(j["latency"]["p95"]), fmt_s(j["latency"]["p99"]),
                   fmt_pct(j["error_rate"], 3)] for j in journeys])


def server_timing_table(spec: Doc) -> str:
    """Server-Timing breakdown of the first run that has one; '' when none does."""
    for run in spec.get("runs") or []:
        rows = [[j["name"], t["component"], _timing_s(t["p50"]), _timing_s(t["p95"]),
                 _timing_s(t["mean"]), fmt_pct(t["share"], 1)]
                for j in run["journeys"] for t in j["server_timing"]]
        if rows:
            return (f"**Server-Timing breakdown** (run `{run['id']}`; share of the journey's mean "
                    "response time)\n\n"
                    + table(["Journey", "Component", "p50", "p95", "Mean", "Share"], rows))
    return ""


def _timing_s(seconds: Any) -> str:
    """A Server-Timing duration; under the 1 us resolution (header and histogram) as '< 1 µs'."""
    if seconds is not None and float(seconds) < 1e-6:
        return "< 1 µs"
    return fmt_s(seconds)


def spike_levels(s: Doc) -> str:
    """A spike's offered rates, '100/s → 500/s' (its runs' mean rate is no rate it offered)."""
    return f"{fmt_rate(s['base_rate'])} → {fmt_rate(s['peak_rate'])}"


def spike_shape(s: Doc) -> str:
    """The spike's planned shape from its record ('100/s for 10 s, 500/s for 5 s, ...');
    base → peak for a record without the phase durations."""
    return str(s.get("shape") or spike_levels(s))


def _run_table(runs: Sequence[Doc], offered: str = "") -> str:
    """The runs of one load test; ``offered`` replaces the mean target rate (a spike)."""
    return table(["Run", "Target rate", "Achieved", "p50", "p95", "p99", "Errors", "Valid"],
                 [[r["id"], offered or fmt_rate(r["target_rate"]), fmt_rate(r["achieved_rate"]),
                   fmt_s(r["latency"]["p50"]), fmt_s(r["latency"]["p95"]),
                   fmt_s(r["latency"]["p99"]), fmt_pct(r["error_rate"], 3),
                   "aborted" if r.get("aborted") else ("yes" if r["validity"]["valid"] else "NO")]
                  for r in runs])


def _breaking_point(s: Doc) -> str:
    """The breaking point in words: it exists iff a step failed a stop condition."""
    if s.get("partial"):
        return f"not claimed ({s.get('partial_reason') or 'partial evidence'})"
    broke = s.get("broke", s.get("failure_mode") not in (None, "none"))
    if not broke:
        runs = "step or capacity scenario" if s.get("others") else "step"
        return f"none: no {runs} failed a stop condition up to {fmt_rate(s['max_rate_tested'])}"
    bp = s.get("breaking_point_rate")
    where = fmt_rate(bp) if bp is not None else "below the first step"
    return f"{where}; failure mode: {s.get('failure_mode') or DASH}"


def _stress(s: Doc) -> str:
    cond = f" Stop conditions: {s['conditions']}." if s.get("conditions") else ""
    lines = [f"Breaking point: {_breaking_point(s)}; max rate tested "
             f"{fmt_rate(s['max_rate_tested'])}; limiting resource: "
             f"{s.get('limiting_resource') or 'not identified'}.{cond}"]
    steps = s.get("steps") or []
    if steps:
        head, key, note = _cpu_column(steps)
        heads = ["Rate", "Achieved", "Sent", "p50", "p95", "p99", "Errors", head,
                 "Within limits"]
        lines.append(table(heads,
                           [[fmt_rate(p["rate"]), fmt_rate(p["achieved_rate"]),
                             fmt_rate(p.get("sent_rate")), fmt_s(p.get("p50")),
                             fmt_s(p["p95"]), fmt_s(p.get("p99")), fmt_pct(p["error_rate"], 3),
                             _cpu(p.get(key)), "yes" if p["passed"] else "NO"]
                            for p in steps]))
        lines.append(f"{ACHIEVED_NOTE}; sent: requests the generator sent per second; {note}.")
    if s.get("message"):
        lines.append(str(s["message"]))
    return "\n\n".join(lines)


CPU_NOTE = "CPU p95: the target's, the figure of the run's Resources row"
OLD_CPU_NOTE = ("CPU: the target's mean in % of one core (a document written before the "
                "tables showed the Resources figure)")


def _cpu_column(rows: Sequence[Doc]) -> tuple[str, str, str]:
    """(header, key, note) of a step or point table's CPU column: the run's Resources figure
    (``cpu_p95_pct``), or in an older document its mean in % of one core, said as such."""
    if any("cpu_p95_pct" in r for r in rows) or not any(r.get("cpu_pct") is not None
                                                        for r in rows):
        return "CPU p95", "cpu_p95_pct", CPU_NOTE
    return "CPU (mean)", "cpu_pct", OLD_CPU_NOTE


def _cpu(v: Any) -> str:
    return DASH if v is None else f"{float(v):.0f}%"


def _soak(s: Doc) -> str:
    leak, deg = s["leak"], s.get("degradation") or {}
    metric = str(leak.get("metric") or "rss_bytes")
    warm = float(s.get("warmup_s") or 0.0)
    after = f" (after the {warm:g} s warm-up)" if warm > 0 else ""
    lines = [f"Duration {fmt_s(s['duration_s'])}. Leak check on {metric}: **{leak['verdict']}** "
             f"(slope {_slope(leak.get('slope_bytes_per_s'), metric)}). "
             f"p95 change {fmt_change(deg.get('p95_change'))}, "
             f"throughput change {fmt_change(deg.get('throughput_change'))}{after}."]
    lines += [str(t) for t in (s.get("partial_reason"), leak.get("message")) if t]
    windows = s.get("windows") or []
    if windows:
        # a window inside the warm-up is shown, marked: the changes above leave it out
        lines.append(table(["t", "p95", "Rate", "RSS"],
                           [[f"{w['t_s']:g} s" + (" (warm-up)" if w["t_s"] < warm else ""),
                             fmt_s(w["p95"]), fmt_rate(w["rate"]),
                             fmt_bytes(w.get("rss_bytes"))] for w in windows]))
    return "\n\n".join(lines)


def _slope(per_s: Any, metric: str) -> str:
    if per_s is None:
        return DASH
    if metric.endswith("bytes"):
        return f"{fmt_bytes(float(per_s) * 3600)}/h"
    return f"{float(per_s) * 3600:+.3g} {metric}/h"


def recovery_text(s: Doc) -> str:
    """Recovery in words; a partial run's recovery was not judged (never 'did NOT recover')."""
    if s.get("partial_reason"):
        return "recovery not judged"
    if s.get("recovered"):
        when = s.get("recovery_time_s")
        return "recovered" if when is None else f"recovered in {fmt_s(when)}"
    return "did NOT recover"


def _spike(s: Doc) -> str:
    recovery = recovery_text(s)
    return (f"Spike: {spike_shape(s)}. Error rate during the spike "
            f"{fmt_pct(s['error_rate_during'], 3)}, p95 during {fmt_s(s.get('p95_during'))} "
            f"against {fmt_s(s.get('p95_before'))} before (p99 during "
            f"{fmt_s(s.get('p99_during'))}); {recovery}."
            + (f" INCONCLUSIVE: {s['partial_reason']}." if s.get("partial_reason") else ""))


def _capacity(c: Doc) -> str:
    head, key, note = _cpu_column(c["points"])
    rows = [[f"{p['multiplier']:g}x", fmt_rate(p["rate"]), fmt_rate(p["achieved_rate"]),
             fmt_s(p.get("p95")), fmt_pct(p["error_rate"], 3), "PASS" if p["slo_pass"] else "FAIL",
             _cpu(p.get(key)), _cost_cell(p)] for p in c["points"]]
    cost = f"Cost per hour: {_money(c.get('cost_per_hour'))}.\n\n" if c.get("cost_per_hour") else ""
    msg = f"\n\n{c['message']}." if c.get("message") else ""
    return cost + table(["Load", "Rate", "Achieved", "p95", "Errors", "SLOs", head,
                         "Cost / 1M requests"], rows) + msg + f"\n\n{ACHIEVED_NOTE}; {note}" \
        + (f"; {COST_NOTE}." if c.get("cost_per_hour") else ".")


COST_NOTE = ("cost: the instances the point's load needs, each under the flow's CPU target "
             "and with a saturated thread under it too (docs/STATISTICS.md, Money)")


def _cost_cell(p: Doc) -> str:
    """'$0.47 (2 instances)', or the dash without a cost; an older document without the
    instance count shows the cost alone."""
    cost = _money(p.get("cost_per_million"))
    n = p.get("instances")
    if p.get("cost_per_million") is None or not isinstance(n, int):
        return cost
    return f"{cost} ({n} instance{'s' if n != 1 else ''})"


ACHIEVED_NOTE = ("Achieved: responses per second (any status; a backlog answered after the "
                 "load is left out)")


def _money(v: Any) -> str:
    return DASH if v is None else f"${float(v):,.2f}"


_ANALYSIS = {"stress": _stress, "soak": _soak, "spike": _spike, "capacity": _capacity}


def kind_section(spec: Doc, kind: str) -> str:
    """One load test type's subsection (analysis record, runs table, invalid-run lines)."""
    runs = [r for r in spec.get("runs") or [] if r.get("kind") == kind]
    record = spec.get(kind) if kind != "baseline" else None
    if not runs and not record:
        return f"### {kind.capitalize()}\n\n" + no_data(f"No {kind} test in this apply.")
    parts = [f"### {kind.capitalize()}"]
    if record:
        parts.append(_ANALYSIS[kind](record))
    if runs:
        offered = spike_levels(record) if kind == "spike" and record else ""
        parts.append(_run_table(runs, offered))
        parts += [validity_line(r) for r in runs
                  if not r["validity"]["valid"] or r.get("aborted") or r["validity"].get("notes")]
        parts += [hosts_table(r) for r in runs if r.get("hosts")]  # scale-out runs (#18)
        parts += [t for t in [resources_table(runs)] if t]  # disk and network I/O (#21)
    return "\n\n".join(parts)


def hosts_table(run: Doc) -> str:
    """A scale-out run's generator hosts (engine.scale): each one's share and validity."""
    rows = [[h["name"], str(h["workers"]), f"{h['requests']:,}", f"{h['errors']:,}",
             f"{h['dropped']:,}", fmt_rate(h["target_rate"]), fmt_rate(h["achieved_rate"]),
             f"{h['generator_cpu_pct']:.0f}%",
             f"{h['clock_offset_ms']:+.1f} ± {h['clock_uncertainty_ms']:.1f} ms",
             "yes" if h["valid"] else "NO: " + "; ".join(h["reasons"])]
            for h in run["hosts"]]
    return (f"Run `{run['id']}` generator hosts:\n\n"
            + table(["Host", "Workers", "Requests", "Errors", "Dropped", "Offered", "Achieved",
                     "CPU", "Clock offset", "Valid"], rows))


def load_tests(doc: Doc, spec: Doc) -> str:
    """Results per load test type: baseline, stress, soak, spike, capacity."""
    return "\n\n".join(kind_section(spec, k) for k in KINDS)


def _label(record: Doc) -> str:
    """'lookup p95' for a journey's metric, 'throughput' for a run-wide one."""
    return f"{record['journey']} {record['metric']}" if record.get("journey") else str(record["metric"])


def improvements(doc: Doc, spec: Doc) -> str:
    """Before/after measurements: hypotheses (A/B) and the regression check vs history."""
    rows = []
    for h in spec.get("hypotheses") or []:
        if h.get("before") is not None and h.get("after") is not None:
            change = (h["after"] - h["before"]) / h["before"] if h["before"] else None
            rows.append([f"{h['id']}: {_label(h)}", fmt_value(h["metric"], h["before"]),
                         fmt_value(h["metric"], h["after"]), fmt_change(change), h["verdict"]])
    for r in (spec.get("regression") or {}).get("checks") or []:
        rows.append([f"vs history: {_label(r)}", fmt_value(r["metric"], r.get("baseline")),
                     fmt_value(r["metric"], r.get("current")), fmt_change(r.get("change")),
                     shown_status(r["status"], r.get("judged", True))])
    if not rows:
        return no_data("No before/after measurement in this apply.")
    return table(["Metric", "Before", "After", "Change", "Verdict"], rows)


def roi(doc: Doc, spec: Doc) -> str:
    """Prioritised optimizations with ROI = impact / effort, and quick wins."""
    items = sorted(spec.get("priorities") or [], key=lambda p: p["rank"])
    if not items:
        return no_data("No optimization was prioritized in this apply.")
    rows = [[p["rank"], f"{p['id']}: {p['title']}",
             f"{fmt_pct(p['impact'], 0)} ({p['impact_source']})",
             f"{p['effort_hours']:g} h", p.get("risk", DASH), fmt_num(p["roi"]), p["tier"]]
            for p in items]
    parts = [table(["Rank", "Optimization", "Impact", "Effort", "Risk", "ROI", "Tier"], rows)]
    wins = [f"{p['id']}: {p['title']}" for p in items if p.get("quick_win")]
    parts.append("Quick wins: " + (", ".join(wins) if wins else "none."))
    return "\n\n".join(parts)


def regression_notes(reg: Doc | None) -> list[str]:
    """The notes the regression result says beside its verdict, in its order (its JSON
    ``notes``: engine.analysis computed the list), for every renderer; [] without any."""
    return [str(n) for n in (reg or {}).get("notes") or []]


def monitoring(doc: Doc, spec: Doc) -> str:
    """Regression vs the recorded history and error-budget burn."""
    reg = spec.get("regression")
    parts = []
    if reg:
        b = reg["baseline"]
        window = f" over {b['days']:g} days" if b.get("days") is not None else ""
        parts.append(f"Regression check vs history: **{reg['status']}** (baseline: {b['mode']}, "
                     f"{b['runs']} run(s){window})."
                     + "".join(f" Note: {n}." for n in regression_notes(reg)))
        checks = reg.get("checks") or []
        if checks:
            parts.append(table(
                ["Metric", "Baseline", "Current", "Change", ci_label(checks), "Tolerance",
                 "Significant",
                 "Status"],
                [[_label(c),
                  fmt_value(c["metric"], c.get("baseline")),
                  fmt_value(c["metric"], c.get("current")),
                  fmt_change(c.get("change")), f"{fmt_change(c.get('ci_low'))} .. "
                  f"{fmt_change(c.get('ci_high'))}{ci_level_note(c, checks)}",
                  fmt_change(c.get("tolerance")),
                  "yes" if c["significant"] else "no",
                  shown_status(c["status"], c.get("judged", True))] for c in checks]))
        cps = reg.get("changepoints") or []
        if cps:
            parts.append("Change points:\n\n" + bullets(
                f"{c['metric']} at {c.get('run_id') or c.get('at')}: "
                f"{fmt_value(c['metric'], c['before'])} → {fmt_value(c['metric'], c['after'])} "
                f"({fmt_change(c['change'])})" for c in cps))
    else:
        parts.append(no_data("No history baseline yet: regression tracking starts with the "
                             "next recorded run."))
    burning = [b for b in spec.get("error_budgets") or [] if (b.get("burn_rate") or 0) > 1]
    if burning:
        parts.append("Error budget burning faster than allowed: " + ", ".join(
            f"{b['slo']} (burn rate {float(b['burn_rate']):.2f})" for b in burning) + ".")
    parts.append(production_markdown(spec))  # engine/report/md_production.py
    return "\n\n".join(parts)
