"""Analyse and gate a driven spec: SLOs, budgets, bottlenecks, priorities, regression, verdict."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.analysis.bottlenecks import find_bottlenecks
from engine.analysis.hypothesis import guards_from_verdicts
from engine.analysis.prioritize import prioritize
from engine.analysis.slo import check_slo, error_budget
from engine.gates.checklist import evaluate_checklist
from engine.gates.evaluate import evaluate_gates, spec_verdict
from engine.gates.narrative import lessons, next_steps
from engine.history.record import open_store, record, regression
from engine.history.store import HistoryError
from engine.records import SpecOutcome
from engine.result import RunResult


def finish_outcome(outcome: SpecOutcome, gates: Sequence[str], history: bool) -> None:
    """Everything after driving; safe on partial outcomes (interrupted, target down)."""
    _slos(outcome)
    outcome.bottlenecks = find_bottlenecks(_profiled_runs(outcome), outcome.stress,
                                           soak=outcome.soak)
    hints = [b.suggestion for b in outcome.bottlenecks if b.suggestion]
    outcome.priorities = list(prioritize(outcome.spec, outcome.hypotheses, hints))
    store = open_store(outcome.spec) if history and outcome.spec.history.enabled else None
    if isinstance(store, str):
        outcome.message(store)
        store = None
    try:
        if store is not None and not outcome.interrupted:
            regression(outcome, store)
        _gate(outcome, gates)
        if store is not None and outcome.runs:
            record(outcome, store, guards_from_verdicts(outcome.spec, outcome.hypotheses))
    except (sqlite3.Error, HistoryError, OSError) as exc:
        outcome.message(f"history not updated: {exc}")
        _gate(outcome, gates)
    finally:
        if store is not None:
            store.close()


def _gate(outcome: SpecOutcome, gates: Sequence[str]) -> None:
    outcome.checklist = evaluate_checklist(outcome)
    outcome.gates = evaluate_gates(outcome, gates)
    outcome.verdict = spec_verdict(outcome)
    outcome.lessons = lessons(outcome)
    outcome.next_steps = next_steps(outcome)


def _slos(outcome: SpecOutcome) -> None:
    run = outcome.primary
    if run is None:
        return
    outcome.slo_checks = [check_slo(slo, run) for slo in outcome.spec.slos]
    outcome.budgets = [b for slo in outcome.spec.slos if (b := error_budget(slo, run))]
    for check in outcome.slo_checks:
        if check.message.startswith("SLO breached"):
            outcome.message(check.message)


def _profiled_runs(outcome: SpecOutcome) -> list[RunResult]:
    """The spec's own target runs; else the 'before' side of its experiments."""
    own = outcome.own_runs()
    if own:
        return own
    return [r for _, r in outcome.runs if "-baseline-" in r.variant]
