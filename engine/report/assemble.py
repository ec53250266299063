"""Render stage, part one: the stages' records (SpecResult) -> the report document (docs/REPORT_FORMAT.md).

Everything the renderers show comes from here; secrets are redacted before the
document leaves this module.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.gates.evaluate import exit_code, overall
from engine.production.findings import findings_doc, with_budget_risk
from engine.records import Analysed, RunEntry, SpecResult
from engine.redact import redact
from engine.report.document import empty_spec_report, new_document, run_to_doc
from engine.result import Status
from engine.spec.model import Spec
from engine.spec.secrets import literal_secrets


def _iso(ts: float) -> str:
    when = datetime.fromtimestamp(ts, UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def _status(o: SpecResult) -> str:
    """The flow template's status: BLOCKED (the target or the generator failed, or a deciding
    gate is INVALID: the measurement cannot be trusted), IN_PROGRESS
    (interrupted, or nothing has run yet), else COMPLETE. An INCONCLUSIVE verdict is a
    finished run whose evidence did not decide (a first run without a baseline): it read
    IN_PROGRESS (issue #14), which no finished run may."""
    if o.driven.target_error or o.verdict == Status.INVALID:
        return "BLOCKED"
    if o.driven.interrupted or not o.driven.runs:
        return "IN_PROGRESS"
    return "COMPLETE"


def _doc(value: Any) -> Any:
    return None if value is None else value.to_doc()


def _regression(o: SpecResult) -> dict[str, Any] | None:
    a = o.analysed
    if a.regression is None:
        return None
    baseline = a.baseline_selection.to_doc() if a.baseline_selection else {
        "mode": o.spec.history.baseline.mode, "runs": 0, "days": 0.0, "pinned": None,
        "hosts_excluded": 0, "noise_runs": 0}
    return a.regression.to_doc(baseline, a.changepoints)


def _target(o: SpecResult) -> dict[str, Any]:
    target = o.spec.target
    return {"url": target.url, "managed": target.start is not None,
            "demo_fix": list(target.demo_fix) if target.demo_fix is not None else None,
            "output_tail": o.driven.output_tail or None}


def _run_doc(e: RunEntry, a: Analysed, secrets: list[str]) -> dict[str, Any]:
    """One run's entry with what the analysis stage computed for it."""
    details = a.details.get(e.id)
    doc = run_to_doc(e.run, e.id, secrets, a.server_timing.get(e.id),
                     details.to_doc() if details is not None else None)
    traces = a.traces.get(e.id)
    if traces is not None:  # the spec's tracing was on (engine.analysis.traces)
        doc["traces"] = traces.to_doc()
    profile = a.profiles.get(e.id)
    if profile is not None:  # the spec's profiling was on (engine.analysis.profile)
        doc["cpu_profile"] = profile.to_doc()
    figures = a.resources.get(e.id)
    if figures is not None:  # the target was sampled (engine.analysis.resource_figures)
        doc["resource_summary"] = figures.to_doc()
    return doc


def _findings(o: SpecResult, secrets: list[str]) -> dict[str, Any]:
    """The report fields the drive, analysis and judge records fill."""
    d, a, j = o.driven, o.analysed, o.judgement
    return dict(
        messages=list(o.messages), runs=[_run_doc(e, a, secrets) for e in d.runs],
        slo_checks=[c.to_doc() for c in a.slo_checks], error_budgets=[b.to_doc() for b in a.budgets],
        gates=[g.to_doc() for g in j.gates], checklist=[c.to_doc() for c in j.checklist],
        regression=_regression(o), hypotheses=with_budget_risk(
            [{**h.to_doc(), "before_bottlenecks": [b.to_doc() for b in
                                                   a.before_bottlenecks.get(h.id, ())]}
             for h in d.hypotheses], a.production),
        priorities=[p.to_doc() for p in a.priorities],
        bottlenecks=[b.to_doc() for b in a.bottlenecks],
        bottleneck_runs=_doc(a.bottleneck_basis), stress=_doc(d.stress),
        soak=_doc(d.soak), spike=_doc(d.spike), capacity=_doc(d.capacity), **_judgement_docs(o),
        lessons=list(j.lessons), next_steps=list(j.next_steps),
        production=findings_doc(a.production))


def _judgement_docs(o: SpecResult) -> dict[str, Any]:
    """The advisor's warnings, the flow's actions, the money, what comes next (#19)."""
    a, j = o.analysed, o.judgement
    money = None if a.fleet is None and not a.savings else {
        "fleet": _doc(a.fleet), "savings": [s.to_doc() for s in a.savings]}
    return dict(warnings=[w.to_doc() for w in a.advice], actions=[x.to_doc() for x in j.actions],
                money=money, next_target=j.next_target, next_review=j.next_review,
                lessons_ledger=list(o.recorded.ledger))


def spec_report(o: SpecResult) -> dict[str, Any]:
    """One SpecReport."""
    spec, started = o.spec, o.driven.started_at
    secrets = list(spec.secrets)
    finished = o.finished_at or started
    report = empty_spec_report(
        spec.name, spec.component, project=spec.project, trigger=spec.trigger,
        description=spec.description, source=spec.source.file if spec.source else "",
        status=_status(o), verdict=str(o.verdict), history_ids=list(o.recorded.history_ids),
        started_at=_iso(started),
        finished_at=_iso(finished), duration_s=max(0.0, finished - started),
        target=_target(o), **_findings(o, secrets))
    redacted: dict[str, Any] = redact(report, secrets, values=secret_values(spec))
    return redacted


def secret_values(spec: Spec) -> list[str]:
    """Literal values removed wherever they appear (engine.spec.secrets.literal_secrets):
    secret headers, secret ``start.env`` variables, every value the spec took from the
    environment, and apply's own environment variables named in ``secrets:``."""
    return literal_secrets(spec, os.environ)


def build_document(results: Sequence[SpecResult]) -> dict[str, Any]:
    """The whole document; its exit code is the one apply returns."""
    verdicts = [o.verdict for o in results]
    return new_document([spec_report(o) for o in results], verdict=str(overall(verdicts)),
                        exit_code=exit_code(verdicts))
