"""Markdown report following the flow's report template.

``render(doc)`` gives one report per spec (title ``Performance Optimization Report -
{Component}``); ``sections(doc, spec)`` gives the same content as (title, body) pairs
so the HTML renderer can place charts beside the section they illustrate. A section
whose data does not exist says so in one line; flow messages appear verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.report import md_loadtests as lt
from engine.report.advice_text import first_screen
from engine.report.fmt import (
    ci_label,
    fmt_change,
    fmt_pct,
    fmt_rate,
    fmt_s,
    fmt_value,
    primary_runs,
    target_output_tail,
)
from engine.report.md_details import request_details
from engine.report.md_parts import bullets, no_data, table
from engine.report.md_profile import profile_section
from engine.report.md_traces import traces_section
from engine.report.slo_table import slo_compliance
from engine.units import format_improvement

__all__ = ["SECTION_TITLES", "header", "header_fields", "render", "render_spec", "sections", "title"]

Doc = Mapping[str, Any]
Section = tuple[str, str]


def title(spec: Doc) -> str:
    """``Performance Optimization Report - {Component}``."""
    return f"Performance Optimization Report - {spec.get('component') or spec.get('name')}"


def header_fields(doc: Doc, spec: Doc) -> list[tuple[str, str]]:
    """Project, component, date, trigger, status, verdict (with the exit code), spec and
    target: the report's first lines, in Markdown and HTML alike."""
    date = str(spec.get("finished_at") or doc.get("generated_at", ""))[:10] or "—"
    source = f" ({spec['source']})" if spec.get("source") else ""
    return [
        ("Project", spec.get("project") or "—"),
        ("Component", spec.get("component") or "—"),
        ("Date", date),
        ("Trigger", spec.get("trigger") or "—"),
        ("Status", str(spec.get("status"))),
        ("Verdict", f"{spec.get('verdict')} (exit code {doc.get('exit_code')})"),
        ("Spec", f"{spec.get('name')}{source}"),
        ("Target", (spec.get("target") or {}).get("url") or "—"),
    ]


def header(doc: Doc, spec: Doc) -> str:
    """The header fields, one bold-keyed line each (the spec's name as code)."""
    name = str(spec.get("name"))
    return "  \n".join(f"**{k}**: " + (v.replace(name, f"`{name}`", 1) if k == "Spec" else v)
                       for k, v in header_fields(doc, spec))


def _overview(doc: Doc, spec: Doc) -> str:
    parts = [spec["description"]] if spec.get("description") else []
    msgs = spec.get("messages") or []
    parts.append(bullets(msgs) if msgs else "No flow message was raised (no SLO breach, failed "
                 "load test, regression, or optimization that did not improve).")
    parts += [f"**{head}**\n\n{bullets(lines)}" for head, lines in first_screen(spec)]
    parts += _target_output(spec)
    gates = spec.get("gates") or []
    if gates:
        parts.append(table(["Gate", "Kind", "Status", "Message"],
                           [[g["name"], g["kind"], g["status"], g["message"]] for g in gates]))
    else:
        parts.append(no_data("No gates were evaluated."))
    checklist = spec.get("checklist") or []
    if checklist:
        parts.append("**Flow checklist**\n\n" + table(
            ["Step", "Criterion", "Status", "Evidence"],
            [[f"{c['step']}. {c['step_name']}", c["criterion"], c["status"], c["evidence"]]
             for c in checklist]))
    return "\n\n".join(parts)


def _target_output(spec: Doc) -> list[str]:
    """The failed target's last output lines, fenced."""
    last = target_output_tail(spec)
    if not last:
        return []
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", "\n".join(last))),
                                 default=0))
    return [f"**Target output** (last {len(last)} lines)\n\n{fence}text\n"
            + "\n".join(last) + f"\n{fence}"]


def _baseline(doc: Doc, spec: Doc) -> str:
    """The baseline run's SLIs, then the request details of the spec's primary run."""
    details = request_details(spec)
    return _baseline_run(spec) + (f"\n\n{details}" if details else "")


def _baseline_run(spec: Doc) -> str:
    base = next((r for r in primary_runs(spec) if r.get("kind") == "baseline"), None)
    if base is None:
        return no_data("No baseline run in this apply: SLIs before optimization were not measured.")
    lat = base["latency"]
    rows = [[k, fmt_s(lat[key])] for k, key in (("p50", "p50"), ("p90", "p90"), ("p95", "p95"),
                                                 ("p99", "p99"), ("p99.9", "p999"), ("max", "max"),
                                                 ("mean", "mean"))]
    if "throughput" in base:  # older documents have the achieved rate only
        rows.append(["throughput (OK answers)", fmt_rate(base["throughput"])])
    rows += [["achieved (answers, any status)", fmt_rate(base["achieved_rate"])],
             ["target rate", fmt_rate(base["target_rate"])],
             ["error rate", fmt_pct(base["error_rate"], 3)],
             ["availability", fmt_pct(1.0 - base["error_rate"], 3)],
             ["requests", f"{base['requests']:,}"], ["duration", fmt_s(base["duration_s"])]]
    parts = [f"Run `{base['id']}` ({base['model']} model, {base['workers']} worker(s)); "
             "latency is measured from the intended send time.",
             table(["SLI", "Value"], rows), lt.validity_line(base)]
    journeys = base.get("journeys") or []
    if len(journeys) > 1:
        parts.append(lt.journey_table(journeys))
    return "\n\n".join(parts)


def _slo(doc: Doc, spec: Doc) -> str:
    parts = [slo_compliance(spec)]
    budgets = spec.get("error_budgets") or []
    if budgets:
        parts.append("**Error budget**\n\n" + table(
            ["SLO", "Target", "Budget", "Bad ratio", "Burn rate", "Consumed", "Tier", "Policy"],
            [[b["slo"], b["target"], fmt_pct(b.get("budget"), 3), fmt_pct(b.get("bad_ratio"), 3),
              _num(b.get("burn_rate")), fmt_pct(b.get("consumed")), b.get("tier", "—"),
              b.get("policy", "—")] for b in budgets]))
    return "\n\n".join(parts)


def _num(v: Any) -> str:
    return "—" if v is None else f"{float(v):.2f}"


def _share_text(b: Doc) -> str:
    """The bottleneck's share on its stated base (older documents: latency, or requests for
    errors), never 'errors: 20% of latency'."""
    if b.get("share_text"):
        return str(b["share_text"])
    if b.get("kind") == "errors":
        return f"{fmt_pct(b['share'], 1)} of requests failed"
    return f"{fmt_pct(b['share'], 1)} of total latency"


def _bottlenecks(doc: Doc, spec: Doc) -> str:
    items = spec.get("bottlenecks") or []
    parts = []
    for b in sorted(items, key=lambda b: b["rank"]):
        head = (f"{b['rank']}. **{b['name']}** ({b['kind']}): {_share_text(b)}"
                + (f" ({', '.join(b['journeys'])})" if b.get("journeys") else ""))
        evidence = "".join(f"\n   - {e}" for e in b.get("evidence", []))
        hint = (f"\n   - suggested optimization type: {b['suggestion']}"
                if b.get("suggestion") else "")
        parts.append(head + evidence + hint)
    text = ("\n".join(parts) + _basis(spec.get("bottleneck_runs")) if parts
            else no_data("No bottleneck analysis in this apply."))
    timing = lt.server_timing_table(spec)
    traced = traces_section(spec)  # issue #21: the OpenTelemetry span breakdown
    profiled = profile_section(spec)  # issue #21: the target's CPU profile
    return text + "".join("\n\n" + part for part in (timing, traced, profiled) if part)


def _basis(basis: Doc | None) -> str:
    """Which runs the shares are of, and which own runs were left out and why."""
    if not basis or not basis.get("runs"):
        return ""
    runs = ", ".join(f"`{r}`" for r in basis["runs"])
    left = "; ".join(f"`{x['id']}` ({x['why']})" for x in basis.get("left_out") or [])
    out = f"\n\nShares are of the summed response time of every journey over runs {runs}."
    if basis.get("none_held"):
        out += " None of them held its limits: the overload is the only evidence."
    if left:
        out += (f" Left out, past a limit: {left}; the load test results speak for the "
                "overload.")
    return out


def _optimizations(doc: Doc, spec: Doc) -> str:
    hyps = spec.get("hypotheses") or []
    if not hyps:
        return no_data("No optimization hypotheses were declared or measured.")
    return "\n\n".join(_hypothesis(h) for h in hyps)


def _hypothesis(h: Doc) -> str:
    metric = f"{h['journey']} {h['metric']}" if h.get("journey") else h["metric"]
    ci = (f" ({ci_label([h])} {fmt_change(h.get('ci_low'))} .. {fmt_change(h.get('ci_high'))})"
          if h.get("ci_low") is not None else "")
    lines = [
        f"### {h['id']}: {h['title']}",
        "",
        f"- **Type**: {h['type']}; **effort**: {h['effort_hours']:g} h; "
        f"**risk**: {h.get('risk', '—')}" + (f" ({h['budget_risk']})" if h.get("budget_risk")
                                             else ""),
        f"- **Change**: {h.get('change_text') or '—'}",
        f"- **Hypothesis**: {h['expectation']}",
        f"- **Status**: {h['status']}; **verdict**: {h['verdict']}",
        f"- **{metric}**: {fmt_value(h['metric'], h['before'])} → "
        f"{fmt_value(h['metric'], h['after'])}"
        f" ({_improvement(h)}){ci}; {h.get('rounds', 0)} A/B round(s)",
    ]
    if h.get("requests_needed"):
        lines.append(f"- About {h['requests_needed']:,} requests per side would be needed "
                     "to decide.")
    if h.get("message"):
        lines.append(f"- {h['message']}")
    if h.get("detail"):  # runs, requests, looks and the smallest change this noise detects
        lines.append(f"- **Measurement**: {h['detail']}")
    return "\n".join(lines)


def _improvement(h: Doc) -> str:
    pct = h.get("improvement_pct")
    if pct is None:
        return "no measured change"
    x = h.get("improvement_x")
    return format_improvement(float(pct)) + (f", {x:.2f}x" if x else "")


def _list_or(items: Sequence[Any], empty: str) -> str:
    return bullets(items) if items else no_data(empty)


SECTION_TITLES: tuple[str, ...] = (
    "Optimization Overview", "Performance Baseline", "SLO Targets and Compliance",
    "Bottleneck Analysis", "Optimizations Implemented", "Load Test Results",
    "Performance Improvements", "ROI Analysis", "Production Monitoring", "Lessons Learned",
    "Next Steps",
)
_BUILDERS: tuple[Callable[[Doc, Doc], str], ...] = (
    _overview, _baseline, _slo, _bottlenecks, _optimizations, lt.load_tests,
    lt.improvements, lt.roi, lt.monitoring,
    lambda d, s: _list_or(s.get("lessons") or [], "No lessons recorded yet."),
    lambda d, s: _list_or(s.get("next_steps") or [], "No next steps recorded."),
)


def sections(doc: Doc, spec: Doc) -> list[Section]:
    """The template's sections for one spec, in order, as (title, Markdown body)."""
    return [(t, build(doc, spec)) for t, build in zip(SECTION_TITLES, _BUILDERS, strict=True)]


def render_spec(doc: Doc, spec: Doc) -> str:
    """One spec's report as Markdown."""
    body = "\n\n".join(f"## {t}\n\n{b}" for t, b in sections(doc, spec))
    return f"# {title(spec)}\n\n{header(doc, spec)}\n\n{body}\n"


def render(doc: Doc) -> str:
    """The whole document as Markdown: one report per spec, separated by rules."""
    specs = doc.get("specs") or []
    if not specs:
        return "# Performance Optimization Report\n\n_No spec was applied._\n"
    return "\n---\n\n".join(render_spec(doc, s) for s in specs)
