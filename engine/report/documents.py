"""Documents written beside the reports (#19): an ADR (MADR format) per significant
confirmed optimization and a rejected one per refuted optimization, an alert/runbook card
per SLO, and the lessons learned that accumulate across runs.

Rendered from the redacted report document (engine/report/assemble.py), like every
other report: the documents cannot say anything the report does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from engine.report.fmt import fmt_value
from engine.units import format_improvement, format_level

__all__ = ["ADR_MIN_IMPROVEMENT_PCT", "adr", "documents", "lessons_file", "runbook"]

Doc = Mapping[str, Any]
ADR_MIN_IMPROVEMENT_PCT = 20.0
"""A confirmed optimization gets an ADR when it improved its metric by at least this much."""
BURN_ALERTS = (
    ("page", "14.4x the budget rate over 1 h and over 5 min"),
    ("page", "6x the budget rate over 6 h and over 30 min"),
    ("ticket", "1x the budget rate over 3 d and over 6 h"),
)
"""The SRE workbook's multi-window burn-rate alerts (as `perfopt-engine rules` writes them)."""


def documents(doc: Doc) -> dict[str, str]:
    """Relative path -> Markdown text for every spec of the report document."""
    day = str(doc.get("generated_at", ""))[:10]
    out: dict[str, str] = {}
    for spec in doc.get("specs") or []:
        name = _slug(str(spec.get("name", "spec")))
        for h in spec.get("hypotheses") or []:
            text = adr(spec, h, day)
            if text:
                out[f"adr/{name}-{_slug(str(h['id']))}.md"] = text
        for check in spec.get("slo_checks") or []:
            out[f"runbooks/{name}-{_slug(str(check['slo']))}.md"] = runbook(spec, check)
        ledger = spec.get("lessons_ledger") or []
        if ledger or spec.get("lessons"):
            out[f"lessons/{name}.md"] = lessons_file(spec, ledger)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"


# -- ADRs ------------------------------------------------------------------------------
def adr(spec: Doc, h: Doc, day: str) -> str:
    """The MADR record of a hypothesis' decision: accepted when it was confirmed with an
    improvement of at least ADR_MIN_IMPROVEMENT_PCT, rejected when refuted, else ''."""
    verdict, gain = h.get("verdict"), h.get("improvement_pct")
    if verdict == "CONFIRMED" and gain is not None and abs(gain) >= ADR_MIN_IMPROVEMENT_PCT:
        status, chosen = "accepted", str(h["title"])
    elif verdict == "REFUTED":
        status, chosen = "rejected", "Leave as is"
    else:
        return ""
    lines = [f"# {h['id']}: {h['title']}", "",
             f"* Status: {status}", f"* Date: {day}",
             f"* Spec: {spec.get('name')} ({spec.get('component')}), trigger "
             f"{spec.get('trigger')}", "",
             "## Context and Problem Statement", "", *_context(spec, h), "",
             "## Considered Options", "",
             f"* {h['title']} ({h['type']}; effort {h['effort_hours']:g} h; risk {h['risk']})",
             "* Leave as is", "",
             "## Decision Outcome", "",
             f'Chosen option: "{chosen}", because the interleaved A/B measurement '
             f"{'confirmed' if status == 'accepted' else 'refuted'} the expectation "
             f"({h['expectation']}).", "",
             "### Consequences", "", *_consequences(spec, h), "",
             "## Links", "", *_links(spec)]
    return "\n".join(lines) + "\n"


def of_journey(ranked: Sequence[Doc], journey: str | None, limit: int = 3) -> list[Doc]:
    """The bottlenecks of one journey (all when none), with the queueing behind any of them
    and the cause any queueing among them is behind: a cause and its symptom are read
    together (the journey filter put the 73% queueing in one runbook and its cause, db time in
    stats, in another, and left it out of the cache's ADR)."""
    if not journey:
        return list(ranked[:limit])
    picked = {b["name"] for b in ranked if journey in (b.get("journeys") or [])}
    picked |= {b["name"] for b in ranked if b.get("behind") in picked}
    picked |= {b["behind"] for b in ranked if b["name"] in picked and b.get("behind")}
    return [b for b in ranked if b["name"] in picked][:limit]


def _context(spec: Doc, h: Doc) -> list[str]:
    """The bottlenecks the change answers: those of the hypothesis' own before runs (the
    spec's own runs are measured with every change in: an ADR cited 'db time in stats' of a
    service whose stats cache was already on); older documents fall back to the spec's."""
    own = "before_bottlenecks" in h
    pool = h.get("before_bottlenecks") or [] if own else spec.get("bottlenecks") or []
    ranked = of_journey(pool, h.get("journey"))
    if not ranked:
        return [f"{h.get('change_text') or h['title']}. No bottleneck was ranked with evidence "
                "for it in this run."]
    whose = ("The bottleneck analysis of its before runs (without the change) ranked:" if own
             else "The bottleneck analysis ranked:")
    lines = [f"{h.get('change_text') or h['title']}. {whose}", ""]
    for b in ranked:
        evidence = "; ".join(str(e) for e in (b.get("evidence") or [])[:2])
        lines.append(f"* #{b['rank']} {b['name']}: {b.get('share_text', '')}"
                     + (f" ({evidence})" if evidence else ""))
    return lines


def _consequences(spec: Doc, h: Doc) -> list[str]:
    measured = (f"{h['metric']} {fmt_value(h['metric'], h.get('before'))} -> "
                f"{fmt_value(h['metric'], h.get('after'))}"
                + (f" ({format_improvement(float(h['improvement_pct']))}" if h.get("improvement_pct")
                   is not None else " (")
                + (f", {_level(h.get('confidence'))} interval of the change "
                   f"[{_signed(h.get('ci_low'))}, {_signed(h.get('ci_high'))}]"
                   if h.get("ci_low") is not None else "")
                + f"; {h.get('rounds')} A/B rounds)")
    lines = [f"* Measured: {measured}.", f"* Verdict: {h['verdict']}: {h.get('message', '')}"]
    savings = (spec.get("money") or {}).get("savings") or []  # the document's money block
    saving = next((s for s in savings if s.get("id") == h["id"]), None)
    if saving and saving.get("monthly") is not None:
        lines.append(f"* Money: {saving['monthly']:,.2f} {saving.get('currency', '')} per month"
                     f" ({saving.get('inputs', '')})")
    lines.append(f"* Cost: {h['effort_hours']:g} h of effort, {h['risk']} risk.")
    return lines


def _links(spec: Doc) -> list[str]:
    ids = spec.get("history_ids") or []
    runs = ", ".join(str(i) for i in ids) or "none recorded (history disabled or failed)"
    return [f"* History run ids: {runs} (`perfopt-engine history show ID`)",
            f"* Spec: {spec.get('source') or spec.get('name')}"]


def _signed(v: Any) -> str:
    return "n/a" if v is None else f"{v * 100:+.1f}%"


def _level(v: Any) -> str:
    return "" if v is None else format_level(float(v))


# -- runbooks --------------------------------------------------------------------------
def runbook(spec: Doc, check: Doc) -> str:
    """The alert/runbook card of one SLO: severity, trigger, triage, remediation,
    escalation, verification."""
    budget = next((b for b in spec.get("error_budgets") or [] if b.get("slo") == check["slo"]),
                  None)
    ranked = spec.get("bottlenecks") or []
    top = of_journey(ranked, check.get("journey")) or ranked[:3]
    lines = [f"# Runbook: {check['slo']} ({check['metric']} {check['target']})", "",
             f"Spec {spec.get('name')}; last measured {check.get('value_text')} "
             f"({check.get('status')}).", "", "## Severity and trigger", ""]
    lines += _trigger(check, budget)
    lines += ["", "## Triage", ""]
    lines += [f"{i}. {b['name']} ({b.get('share_text', '')})"
              for i, b in enumerate(top, 1)] or ["1. No bottleneck ranked yet: profile the "
                                                 "service under load (perfopt-engine apply)."]
    exhausted = ["* Budget exhausted (1x burn over the window): STOP feature work and "
                 "prioritise reliability."] if budget is not None else []
    lines += ["", "## Remediation", "", *_remedies(top), "", "## Escalation", "", *exhausted,
              "* A page that does not clear within an hour: the service owner.",
              "", "## Verification", "",
              f"* `perfopt-engine apply {spec.get('source') or 'SPEC'}` passes the slo gate"
              + (", and the burn rate falls under 1x." if budget is not None else ".")]
    return "\n".join(lines) + "\n"


def _trigger(check: Doc, budget: Doc | None) -> list[str]:
    """Burn-rate alerts for an SLO with an error budget; else the objective itself (a
    throughput objective has no budget, and its card paged on burn rates it never had)."""
    if budget is None:
        return [f"* **page** when {check['metric']} breaks {check['target']} (this SLO has no "
                "error budget: no burn-rate alert)"]
    lines = [f"* **{sev}** when the error budget burns at {when}" for sev, when in BURN_ALERTS]
    lines.append(f"* Budget: {budget.get('budget', 0) * 100:.3g}% of events"
                 + (f"; {budget['window_requests']:,.0f} requests per window at the "
                    f"measured rate -> {budget['allowed_failures']:,.0f} failures allowed"
                    if budget.get("allowed_failures") is not None else ""))
    return lines


def _remedies(top: Sequence[Doc]) -> list[str]:
    hints = [b for b in top if b.get("suggestion")]
    if not hints:
        return ["* Roll back the latest change if the breach followed a deploy."]
    return [f"* {b['name']}: suggested optimization type {b['suggestion']}" for b in hints] + [
        "* Roll back the latest change if the breach followed a deploy."]


# -- lessons learned -------------------------------------------------------------------
def lessons_file(spec: Doc, ledger: Sequence[Doc]) -> str:
    """Every apply's lessons for this spec, newest first (what worked, what did not)."""
    lines = [f"# Lessons learned: {spec.get('name')}", ""]
    worked, failed = list(_outcomes(ledger, "CONFIRMED")), list(_outcomes(ledger, "REFUTED"))
    lines += ["## What worked", "", *(worked or ["* Nothing confirmed yet."]), "",
              "## What did not, and why", "", *(failed or ["* Nothing refuted yet."]), "",
              "## Recommendations", "", *_recommendations(spec), "", "## Runs", ""]
    for entry in sorted(ledger, key=lambda e: str(e.get("at", "")), reverse=True):
        lines.append(f"### {entry.get('at', '')} - verdict {entry.get('verdict', '')}")
        lines += [f"* {x}" for x in entry.get("lessons") or []] or ["* (no lesson recorded)"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _outcomes(ledger: Sequence[Doc], verdict: str) -> Iterator[str]:
    seen: set[str] = set()
    for entry in sorted(ledger, key=lambda e: str(e.get("at", "")), reverse=True):
        for h in entry.get("hypotheses") or []:
            if h.get("verdict") == verdict and h.get("id") not in seen:
                seen.add(str(h.get("id")))
                yield f"* {h.get('id')} {h.get('title')}: {h.get('message', '')}"


def _recommendations(spec: Doc) -> list[str]:
    steps = [f"* {s}" for s in spec.get("next_steps") or []]
    return steps or ["* Keep recording runs: the baseline grows with each one."]
