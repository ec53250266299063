"""Lessons learned and next steps, derived from what was measured (never invented)."""

from __future__ import annotations

from engine.records import SpecOutcome
from engine.result import Status


def lessons(o: SpecOutcome) -> list[str]:
    """One line per measured fact worth remembering."""
    out: list[str] = []
    for v in o.hypotheses:
        d = v.to_doc()
        if d["verdict"] == "CONFIRMED" and d.get("improvement_pct") is not None:
            out.append(f"{d['id']} ({d['type']}) delivered {d['metric']} "
                       f"{d['improvement_pct']:+.0f}% for {d['effort_hours']:g}h of effort.")
        elif d["verdict"] == "REFUTED":
            out.append(f"{d['id']} ({d['type']}) fell short of its expectation "
                       f"{d['expectation']}: {d['message']}")
    if o.bottlenecks:
        top = o.bottlenecks[0]
        out.append(f"The largest bottleneck was {top.name}, {top.share * 100:.0f}% of total latency.")
    if o.stress is not None and o.stress.lesson():
        out.append(o.stress.lesson())
    return out


def next_steps(o: SpecOutcome) -> list[str]:
    """Actions the measurements call for, most urgent first."""
    out: list[str] = []
    if o.target_error:
        out.append(f"Make the target reachable: {o.target_error}.")
    out.extend(f"Fix: {c.message}" for c in o.slo_checks if c.status == Status.FAIL)
    if any(not r.validity.valid for _, r in o.runs):
        out.append("Re-run on a quieter generator or lower the rate: a run was INVALID.")
    for p in o.priorities:
        d = p.to_doc()
        if d.get("impact_source") != "measured" and d.get("top"):
            out.append(f"Measure {d['id']} ({d['title']}): top-ranked by ROI, not yet measured.")
    inconclusive = [v.id for v in o.hypotheses if str(v.verdict) == "INCONCLUSIVE"]
    if inconclusive:
        out.append(f"Run {', '.join(inconclusive)} longer or with more rounds to decide.")
    if o.baseline_selection is not None and o.baseline_selection.days_spanned < 7:
        out.append("Keep recording runs until the baseline spans 7 days.")
    skipped = [name for name, _ in o.plan.skipped]
    if skipped:
        out.append(f"Profiles not run for this trigger: {', '.join(skipped)} "
                   f"(use --profile to run them).")
    return out
