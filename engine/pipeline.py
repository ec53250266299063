"""One spec through the stages, as ``apply`` runs it: drive -> analyse -> judge -> record,
then render for all specs.

Each stage takes the frozen records of the ones before it and returns its own
(engine/records.py). The regression check reads the history before the gates judge;
the runs are recorded after, with the gates' verdict. A failure in one stage
(target down, Ctrl-C, a locked history) still leaves records the report and the
exit code can speak for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from engine.advisor.rules import advise
from engine.analysis.bottleneck_runs import Basis, bottleneck_basis
from engine.analysis.bottlenecks import find_bottlenecks
from engine.analysis.hypothesis import guards_from_verdicts
from engine.analysis.money import money
from engine.analysis.prioritize import prioritize
from engine.analysis.profile import ProfileAnalysis, analyse_profile
from engine.analysis.resource_figures import resource_figures
from engine.analysis.servertiming import run_timing_rows
from engine.analysis.slo import Budget, SloCheck, check_slo, error_budget
from engine.analysis.steps import run_details
from engine.analysis.traces import TraceAnalysis, analyse_traces, runs_traces, window_ns
from engine.drive import drive_spec
from engine.gates.actions import flow_actions
from engine.gates.checklist import evaluate_checklist
from engine.gates.evaluate import Evidence, evaluate_gates, spec_verdict
from engine.gates.narrative import lessons, next_review, next_steps, next_target
from engine.history.lessons import keep_lessons
from engine.history.record import (
    HistoryFindings,
    open_store,
    read_history,
    record_runs,
    remeasure,
)
from engine.history.store import HistoryStore
from engine.plan import SpecPlan
from engine.production.findings import observe, production_first, production_messages
from engine.production.shape import shape_messages
from engine.records import Analysed, Driven, Judgement, Recorded, SpecResult, unique
from engine.result import RunResult
from engine.spec.model_tracing import tracing_of
from engine.target.session import ExecOptions


@dataclass
class ApplyContext:
    """What every spec's run shares: driving options, gate selection, history switch."""

    options: ExecOptions = field(default_factory=ExecOptions)
    gates: tuple[str, ...] = ()
    history: bool = True
    now: Callable[[], float] = time.time


def run_spec(plan: SpecPlan, ctx: ApplyContext) -> SpecResult:
    """Drive, analyse, judge and record one spec; never raises for target, run or history
    problems."""
    driven = drive(plan, ctx)
    try:
        with _history(driven, ctx.history) as history:
            analysed = advised(driven, analyse(driven, history))
            judgement = judge(driven, analysed, ctx.gates)
            store = history if isinstance(history, HistoryStore) and \
                not analysed.history_failed else None
            recorded = record(driven, judgement, store, analysed)
    except KeyboardInterrupt:  # a second Ctrl-C after the drive: keep what was measured
        return _interrupted_after_drive(driven, ctx)
    return SpecResult(driven, analysed, judgement, recorded, finished_at=ctx.now())


def _interrupted_after_drive(driven: Driven, ctx: ApplyContext) -> SpecResult:
    """The spec's runs judged as interrupted, without the history: a run whose write was
    cut short was rolled back (one transaction per run), so nothing half-written stays."""
    driven = replace(driven, interrupted=True)
    analysed = advised(driven, analyse(driven, None))
    judgement = judge(driven, analysed, ctx.gates)
    note = "history not updated: interrupted while analysing or recording"
    return SpecResult(driven, analysed, judgement, Recorded(messages=(note,)),
                      finished_at=ctx.now())


def drive(plan: SpecPlan, ctx: ApplyContext) -> Driven:
    """Every planned run (engine/drive.py); with the spec's tracing on, with the target's
    spans (engine/traces/session.py); with the history on, the baseline profile once more
    when its run met a slower machine and the regression gate would FAIL it
    (engine.history.record.remeasure)."""
    tracing = tracing_of(plan.spec)
    history = ctx.history and plan.spec.history.enabled
    again = remeasure(plan.spec, ctx.gates) if history else None
    if tracing is None:
        return drive_spec(plan, ctx.options, ctx.now(), again)
    from engine.traces.session import traced_drive

    return traced_drive(plan, tracing, lambda p: drive_spec(p, ctx.options, ctx.now(), again))


def analyse(driven: Driven, history: HistoryStore | str | None) -> Analysed:
    """SLOs and budgets on the primary run, bottlenecks, priorities, and what the history
    says about the primary run. ``history``: the open store, why it could not be opened,
    or None (disabled)."""
    slo_checks, budgets = _slos(driven.primary, driven)
    basis = bottleneck_basis(driven.runs, driven.stress, driven.capacity)
    traces, traced = _traces(driven, basis)
    profiles, profiled = _profiles(driven, basis)
    bottlenecks = tuple(find_bottlenecks(basis.runs, driven.stress, soak=driven.soak,
                                         traces=traced, profile=profiled))
    # each hypothesis' before runs: its ADR's context (the own runs have every change in)
    before = {v.id: tuple(ranked) for v in driven.hypotheses
              if (ranked := find_bottlenecks(driven.side_runs("baseline", v.id), top=3))}
    hints = [b.suggestion for b in bottlenecks if b.suggestion]
    found, problem = HistoryFindings(), ""
    if isinstance(history, HistoryStore) and not driven.interrupted and driven.primary:
        found, problem = read_history(driven.spec, driven.primary, history)
    messages = [c.message for c in slo_checks if c.message.startswith("SLO breached")]
    messages += [history] if isinstance(history, str) else []
    messages += found.regression.said if found.regression else ()
    messages += [problem] if problem else []
    production = None if driven.interrupted else observe(driven.spec)
    messages[:0] = production_messages(production)  # a production breach leads
    messages += shape_messages(driven.spec)  # which production window shaped the load
    messages += (traced.notes if traced else ()) + (profiled.notes if profiled else ())
    fleet, savings = money(driven.spec, driven.runs, driven.primary, driven.hypotheses)
    return Analysed(
        slo_checks, budgets, bottlenecks, bottleneck_basis=basis, before_bottlenecks=before,
        priorities=prioritize(driven.spec, driven.hypotheses, hints),
        regression=found.regression, baseline_selection=found.selection,
        changepoints=found.changepoints, messages=unique(tuple(messages)),
        history_failed=bool(problem), fleet=fleet, savings=savings,
        server_timing={e.id: run_timing_rows(e.run) for e in driven.runs},
        details={e.id: run_details(e.run) for e in driven.runs}, production=production,
        traces=traces, profiles=profiles,
        resources={e.id: f for e in driven.runs if (f := resource_figures(e.run))})


def advised(driven: Driven, analysed: Analysed) -> Analysed:
    """The advisor stage (engine/advisor): the flow's failure modes, before the gates."""
    return replace(analysed, advice=advise(driven, analysed))


def judge(driven: Driven, analysed: Analysed, selected: Sequence[str] = ()) -> Judgement:
    """The checklist, every gate (only ``selected`` ones decide the exit), the verdict, the
    narrative, and the flow messages of drive and analysis."""
    checklist = evaluate_checklist(driven, analysed)
    gates = evaluate_gates(Evidence(driven, analysed, checklist), selected)
    verdict = spec_verdict(driven.interrupted, gates)
    return Judgement(gates, checklist, verdict,
                     lessons(driven, analysed), next_steps(driven, analysed),
                     messages=unique(production_first(driven.messages, analysed.messages)),
                     actions=flow_actions(driven, analysed),
                     next_target=next_target(driven, analysed),
                     next_review=next_review(driven.started_at, verdict))


def record(driven: Driven, judgement: Judgement, store: HistoryStore | None,
           analysed: Analysed | None = None) -> Recorded:
    """Store the runs with the judged verdict (and what the regression gate judged the
    primary run with, from ``analysed``) and keep confirmed hypotheses as guards; nothing
    without a store or without runs."""
    if store is None or not driven.runs:
        return Recorded()
    guards = guards_from_verdicts(driven.spec, driven.hypotheses)
    recorded = record_runs(driven, judgement.gates, store, guards, analysed)
    at = datetime.fromtimestamp(driven.started_at, UTC).isoformat(timespec="seconds")
    ledger, problem = keep_lessons(driven, judgement, recorded.history_ids, at)
    return replace(recorded, ledger=ledger,
                   messages=recorded.messages + ((problem,) if problem else ()))


def render(results: Sequence[SpecResult]) -> dict[str, Any]:
    """The report document of every spec (engine/report/assemble.py); its exit code is the
    one apply returns."""
    from engine.report.assemble import build_document

    return build_document(results)


@contextmanager
def _history(driven: Driven, enabled: bool) -> Iterator[HistoryStore | str | None]:
    """The spec's history store, why it cannot be opened, or None when disabled."""
    spec = driven.spec
    opened = open_store(spec) if enabled and spec.history.enabled else None
    try:
        yield opened
    finally:
        if isinstance(opened, HistoryStore):
            opened.close()


def _slos(run: RunResult | None,
          driven: Driven) -> tuple[tuple[SloCheck, ...], tuple[Budget, ...]]:
    if run is None:
        return (), ()
    slos = driven.spec.slos
    return (tuple(check_slo(slo, run) for slo in slos),
            tuple(b for slo in slos if (b := error_budget(slo, run))))


def _traces(driven: Driven,
            basis: Basis) -> tuple[dict[str, TraceAnalysis], TraceAnalysis | None]:
    """Per run, and over the bottlenecks' runs (``basis``), what the spans say."""
    capture = driven.traces
    if capture is None:
        return {}, None
    if capture.note:
        return {}, TraceAnalysis(notes=(capture.note,))
    runs = {id(r) for r in basis.runs}
    windows = [window_ns(e.run.started_at, e.run.duration_s) for e in driven.runs
               if id(e.run) in runs]
    over = analyse_traces(capture.spans, capture.journeys, windows, capture.stats)
    return runs_traces(capture, [(e.id, e.run) for e in driven.runs]), over


def _profiles(driven: Driven,
              basis: Basis) -> tuple[dict[str, ProfileAnalysis], ProfileAnalysis | None]:
    """Per run, and merged over the bottlenecks' runs (``basis``), the target's sampled
    stacks (engine.analysis.profile); ({}, None) when profiling was off."""
    per = {e.id: a for e in driven.runs
           if e.run.cpu_profile and (a := analyse_profile([e.run.cpu_profile]))}
    over = analyse_profile([r.cpu_profile for r in basis.runs if r.cpu_profile])
    return per, over
