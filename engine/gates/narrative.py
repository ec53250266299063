"""Lessons learned and next steps, derived from what was measured (never invented).

Whether the SLOs held is the slo gate's to say: no lesson claims it (the stress lesson
speaks of its stop conditions, never of SLOs held), so a lesson cannot contradict a
FAIL or INCONCLUSIVE slo gate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.records import Analysed, Driven
from engine.result import InvalidCause, Status
from engine.units import format_improvement


def lessons(d: Driven, a: Analysed) -> tuple[str, ...]:
    """One line per measured fact worth remembering."""
    out: list[str] = []
    for v in d.hypotheses:
        h = v.to_doc()
        if h["verdict"] == "CONFIRMED" and h.get("improvement_pct") is not None:
            out.append(f"{h['id']} ({h['type']}) made {h['metric']} "
                       f"{format_improvement(h['improvement_pct'], 0)} for "
                       f"{h['effort_hours']:g}h of effort.")
        elif h["verdict"] == "REFUTED":
            out.append(f"{h['id']} ({h['type']}) fell short of its expectation "
                       f"{h['expectation']}: {h['message']}")
    if a.bottlenecks:
        out.append(_first_bottleneck(a))
    if d.stress is not None and d.stress.lesson():
        out.append(d.stress.lesson())
    return tuple(out)


def _first_bottleneck(a: Analysed) -> str:
    """The first-ranked bottleneck is the cause to change first, not always the largest share:
    the queueing behind it is its symptom and follows it (engine.analysis.bottlenecks)."""
    top = a.bottlenecks[0]
    text = (f"The first bottleneck to change was {top.name}, {top.share * 100:.0f}% of total "
            "latency")
    queue = next((b for b in a.bottlenecks[1:2] if b.behind == top.name), None)
    if queue is not None:
        text += f"; the queueing behind it was another {queue.share * 100:.0f}%"
    return text + "."


def next_steps(d: Driven, a: Analysed) -> tuple[str, ...]:
    """Actions the measurements call for, most urgent first."""
    out: list[str] = []
    if d.target_error:
        out.append(f"Make the target reachable: {d.target_error}.")
    out.extend(f"Fix: {c.message}" for c in a.slo_checks if c.status == Status.FAIL)
    if any(not e.run.validity.valid for e in d.runs):
        out.append("Re-run on a quieter generator or lower the rate: a run was INVALID.")
    if a.regression is not None and a.regression.cause is InvalidCause.MACHINE_SLOWER:
        out.append("Re-run when the machine is at its usual speed: the regression gate "
                   "could not tell the code from the machine (measured twice, both disturbed).")
    for p in a.priorities:
        row = p.to_doc()
        if row.get("impact_source") != "measured" and row.get("top"):
            out.append(f"Measure {row['id']} ({row['title']}): top-ranked by ROI, not yet measured.")
    inconclusive = [v.id for v in d.hypotheses if str(v.verdict) == "INCONCLUSIVE"]
    if inconclusive:
        out.append(f"Run {', '.join(inconclusive)} longer or with more rounds to decide.")
    if a.baseline_selection is not None and a.baseline_selection.days_spanned < 7:
        out.append("Keep recording runs until the baseline spans 7 days.")
    skipped = [name for name, _ in d.plan.skipped]
    if skipped:
        out.append(f"Profiles not run for this trigger: {', '.join(skipped)} "
                   f"(use --profile to run them).")
    return tuple(out)


REVIEW_DAYS, FOLLOW_UP_DAYS = 7, 1
"""Next review: a week after a run that passed; the next day after one that did not."""


def next_target(d: Driven, a: Analysed) -> str:
    """The next optimization to work on: the best-ranked hypothesis not yet decided, else
    the top bottleneck with its suggested kind of change, else '' (nothing to point at)."""
    decided = {v.id for v in d.hypotheses if str(v.verdict) in ("CONFIRMED", "REFUTED")}
    open_items = [p for p in a.priorities if p.id not in decided]
    if open_items:
        p = open_items[0]
        return f"{p.id} {p.title} (rank {p.rank}, ROI {p.roi:.2g}/h, {p.tier})"
    if a.bottlenecks:
        b = a.bottlenecks[0]
        kind = f": suggested optimization type {b.suggestion}" if b.suggestion else ""
        return f"{b.name} ({b.share_text}){kind}"
    return ""


def next_review(started_at: float, verdict: Status) -> str:
    """The date (UTC, ISO) to look at this spec again."""
    days = REVIEW_DAYS if verdict is Status.PASS else FOLLOW_UP_DAYS
    when = datetime.fromtimestamp(started_at, UTC) + timedelta(days=days)
    return when.date().isoformat()
