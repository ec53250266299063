"""Render stage, part one: SpecOutcome -> the report document (docs/REPORT_FORMAT.md).

Everything the renderers show comes from here; secrets are redacted before the
document leaves this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.gates.evaluate import exit_code, overall
from engine.records import SpecOutcome
from engine.redact import ALWAYS_SECRET, redact
from engine.report.document import empty_spec_report, new_document, run_to_doc
from engine.result import Status


def _iso(ts: float) -> str:
    when = datetime.fromtimestamp(ts, UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def _status(o: SpecOutcome) -> str:
    """The flow template's status: COMPLETE, IN_PROGRESS or BLOCKED."""
    if o.target_error or o.verdict == Status.INVALID:
        return "BLOCKED"
    if o.interrupted or o.verdict in (Status.INCONCLUSIVE, Status.NOT_RUN):
        return "IN_PROGRESS"
    return "COMPLETE"


def _doc(value: Any) -> Any:
    return None if value is None else value.to_doc()


def _regression(o: SpecOutcome) -> dict[str, Any] | None:
    if o.regression is None:
        return None
    baseline = o.baseline_selection.to_doc() if o.baseline_selection else {
        "mode": o.spec.history.baseline.mode, "runs": 0, "days": 0.0, "pinned": None,
        "hosts_excluded": 0}
    return o.regression.to_doc(baseline, o.changepoints)


def spec_report(o: SpecOutcome) -> dict[str, Any]:
    """One SpecReport."""
    spec = o.spec
    secrets = list(spec.secrets)
    target = {"url": spec.target.url, "managed": spec.target.start is not None,
              "demo_fix": list(spec.target.demo_fix) if spec.target.demo_fix is not None else None,
              "output_tail": o.output_tail or None}
    report = empty_spec_report(
        spec.name, spec.component, project=spec.project, trigger=spec.trigger,
        description=spec.description, source=spec.source.file if spec.source else "",
        status=_status(o), verdict=str(o.verdict), started_at=_iso(o.started_at),
        finished_at=_iso(o.finished_at or o.started_at),
        duration_s=max(0.0, (o.finished_at or o.started_at) - o.started_at), target=target,
        messages=list(o.messages), runs=[run_to_doc(r, rid, secrets) for rid, r in o.runs],
        slo_checks=[c.to_doc() for c in o.slo_checks], error_budgets=[b.to_doc() for b in o.budgets],
        gates=[g.to_doc() for g in o.gates], checklist=[c.to_doc() for c in o.checklist],
        regression=_regression(o), hypotheses=[h.to_doc() for h in o.hypotheses],
        priorities=[p.to_doc() for p in o.priorities],
        bottlenecks=[b.to_doc() for b in o.bottlenecks], stress=_doc(o.stress),
        soak=_doc(o.soak), spike=_doc(o.spike), capacity=_doc(o.capacity),
        lessons=list(o.lessons), next_steps=list(o.next_steps))
    redacted: dict[str, Any] = redact(report, secrets, values=secret_values(o))
    return redacted


def secret_values(o: SpecOutcome) -> list[str]:
    """Literal values removed wherever they appear: secret headers of the spec's requests,
    and ``start.env`` variables named in ``secrets:`` (the started target may print them)."""
    names = {n.lower() for n in (*ALWAYS_SECRET, *o.spec.secrets)}
    values = []
    for journey in o.spec.journeys:
        for step in journey.steps:
            values += [v for k, v in step.headers.items() if k.lower() in names and len(v) >= 4]
    targets = [o.spec.target, *(v.target for h in o.spec.hypotheses
                                for v in (h.baseline, h.candidate))]
    for target in targets:
        env = target.start.env if target.start else {}
        values += [v for k, v in env.items() if k.lower() in names and len(v) >= 4]
    return values


def build_document(outcomes: Sequence[SpecOutcome]) -> dict[str, Any]:
    """The whole document; its exit code is the one apply returns."""
    verdicts = [o.verdict for o in outcomes]
    return new_document([spec_report(o) for o in outcomes], verdict=str(overall(verdicts)),
                        exit_code=exit_code(verdicts))
