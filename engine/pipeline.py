"""One spec through drive -> analyse -> gate, as ``apply`` runs it.

Each stage hands plain values to the next; this module only sequences them and
makes sure a failure in one (target down, Ctrl-C) still leaves an outcome the
report and the exit code can speak for.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

from engine.analysis.capacity import run_capacity
from engine.analysis.evidence import short_evidence
from engine.analysis.hypothesis import evaluate_hypothesis, run_experiment
from engine.analysis.slo import check_slo
from engine.analysis.soak import analyse_soak
from engine.analysis.spike import analyse_spike
from engine.analysis.stress import run_stress
from engine.driver.shapes import shape_of
from engine.gates.abort import abort_check
from engine.gates.judge import finish_outcome
from engine.plan import PlannedStep, SpecPlan, capacity_base_rate, constant_profile
from engine.records import SpecOutcome
from engine.result import RunResult, Status
from engine.spec.model import Hypothesis, LoadProfile, ProfileKind, Target, Variant
from engine.target.session import ExecOptions, Executor, TargetSession, TargetUnavailable, target_session


@dataclass
class ApplyContext:
    """What every spec's run shares: driving options, gate selection, history switch."""

    options: ExecOptions = field(default_factory=ExecOptions)
    gates: tuple[str, ...] = ()
    history: bool = True
    now: Callable[[], float] = time.time

    def stopped(self) -> bool:
        return self.options.stop.is_set()


def run_spec(plan: SpecPlan, ctx: ApplyContext) -> SpecOutcome:
    """Drive, analyse and gate one spec; never raises for target or run problems."""
    outcome = SpecOutcome(plan.spec, plan, started_at=ctx.now())
    executor = Executor(plan.spec, ctx.options)
    try:
        _drive_profiles(outcome, ctx, executor)
        _drive_hypotheses(outcome, ctx, executor)
    except TargetUnavailable as exc:
        outcome.target_error = str(exc)
        outcome.output_tail = exc.output_tail
        outcome.message(f"Load test failed: {exc}")
    except KeyboardInterrupt:
        outcome.interrupted = True
    outcome.interrupted = outcome.interrupted or ctx.stopped()
    finish_outcome(outcome, ctx.gates, ctx.history)
    outcome.finished_at = ctx.now()
    return outcome


def _drive_profiles(outcome: SpecOutcome, ctx: ApplyContext, ex: Executor) -> None:
    steps = [s for s in outcome.plan.steps if s.kind != "hypothesis"]
    if not steps:
        return
    with target_session(outcome.spec.target, ctx.options.stop) as session:
        for step in steps:
            if ctx.stopped():
                return
            _STEP_DRIVERS[step.kind](outcome, ex, session, step)
            _note_run_failures(outcome, step.profile.kind, ctx.stopped())


def _single(outcome: SpecOutcome, ex: Executor, session: TargetSession, step: PlannedStep) -> None:
    profile = step.profile
    run = ex.run(session, profile, abort=abort_check(outcome.spec))
    outcome.add_run(profile.name, run)
    if outcome.primary is None or profile.kind == "baseline":
        outcome.primary = run
    if profile.kind == "soak":
        outcome.soak = analyse_soak(run, profile.window_s, horizon_s=profile.leak_horizon_s,
                                    planned_s=_planned_s(profile))
    elif profile.kind == "spike":
        outcome.spike = analyse_spike(run, profile)


def _planned_s(profile: LoadProfile) -> float | None:
    """How long the profile's run was meant to last (None: not known)."""
    try:
        return shape_of(profile).duration_s
    except (ValueError, OSError):
        return None


def _slo_ok(outcome: SpecOutcome) -> Callable[[RunResult], bool]:
    def ok(run: RunResult) -> bool:
        bad = (Status.FAIL, Status.INVALID)
        return all(check_slo(slo, run).status not in bad for slo in outcome.spec.slos)
    return ok


def _step_runner(outcome: SpecOutcome, ex: Executor, session: TargetSession,
                 profile: LoadProfile, kind: ProfileKind) -> Callable[[float, float], RunResult]:
    def run_step(rate: float, duration_s: float) -> RunResult:
        if ex.options.stop.is_set():
            raise KeyboardInterrupt
        derived = constant_profile(profile, rate, duration_s, kind)
        run = ex.run(session, derived, variant=f"{kind}@{rate:g}/s")
        outcome.add_run(f"{kind}-{len(outcome.runs_of(kind)) + 1}", run)
        return run
    return run_step


def _stress(outcome: SpecOutcome, ex: Executor, session: TargetSession, step: PlannedStep) -> None:
    runner = _step_runner(outcome, ex, session, step.profile, "stress")
    outcome.stress = run_stress(step.profile, runner, _slo_ok(outcome))


def _capacity(outcome: SpecOutcome, ex: Executor, session: TargetSession,
              step: PlannedStep) -> None:
    base = capacity_base_rate(outcome.spec, step.profile)
    if base is None:
        return
    runner = _step_runner(outcome, ex, session, step.profile, "capacity")
    outcome.capacity = run_capacity(base, step.profile.multipliers, runner, _slo_ok(outcome),
                                    outcome.spec.cost_per_hour, duration_s=step.profile.duration_s)


_STEP_DRIVERS: dict[str, Callable[[SpecOutcome, Executor, TargetSession, PlannedStep], None]] = {
    "profile": _single, "stress": _stress, "capacity": _capacity,
}


def _note_run_failures(outcome: SpecOutcome, kind: str, interrupted: bool) -> None:
    """The flow's 'Load test failed: {failure-mode}' for runs that did not do their job."""
    for _, run in outcome.runs:
        if run.kind != kind:
            continue
        if not run.validity.valid:
            outcome.message(f"Load test failed: {kind} run invalid: {'; '.join(run.validity.reasons)}")
        elif run.aborted and run.abort_reason and not interrupted:
            outcome.message(f"Load test failed: {kind} aborted: {run.abort_reason}")
        elif run.validity.notes and kind not in ("stress", "capacity"):
            outcome.message(f"Target overloaded: {kind} run: {'; '.join(run.validity.notes)}")
    mode = _analysis_failure(outcome, kind)
    if mode:
        outcome.message(f"Load test failed: {mode}")
    durations = [r.duration_s for r in outcome.runs_of(kind)]
    short = short_evidence(kind, min(durations)) if durations else ""
    if short:
        outcome.message(short)


def _analysis_failure(outcome: SpecOutcome, kind: str) -> str:
    soak = outcome.soak
    if kind == "soak" and soak is not None and soak.leak.verdict == "LEAK":
        return f"soak: {soak.leak.message}"
    if kind == "soak" and soak is not None and soak.degradation:
        return f"soak: {'; '.join(soak.degradation)}"
    if kind == "spike" and outcome.spike is not None and outcome.spike.verdict == "NOT_RECOVERED":
        return "spike: latency did not recover after the spike"
    return ""


def _drive_hypotheses(outcome: SpecOutcome, ctx: ApplyContext, ex: Executor) -> None:
    for step in outcome.plan.steps:
        if step.kind != "hypothesis" or step.hypothesis is None:
            continue
        if ctx.stopped():
            return
        _one_hypothesis(outcome, ex, step.hypothesis, step.profile)


def _one_hypothesis(outcome: SpecOutcome, ex: Executor, h: Hypothesis,
                    profile: LoadProfile) -> None:
    with _variant_sessions(h, ex.options.stop) as sessions:
        def run_variant(variant: Variant, side: str, round_index: int) -> RunResult:
            if ex.options.stop.is_set():
                raise KeyboardInterrupt
            with sessions(side, variant.target) as session:
                run = ex.run(session, profile, variant=f"{h.id}-{side}-{round_index + 1}")
            outcome.add_run(f"{h.id}-{side}-{round_index + 1}", run)
            return run
        base_runs, cand_runs = run_experiment(h, run_variant, h.rounds)
    slo = outcome.spec.slo(h.expect.slo) if h.expect.slo else None
    verdict = evaluate_hypothesis(h, base_runs, cand_runs, slo)
    outcome.hypotheses.append(verdict)
    if str(verdict.verdict) == "REFUTED":
        outcome.message(verdict.message)


SessionFor = Callable[[str, Target], contextlib.AbstractContextManager[TargetSession]]


@contextlib.contextmanager
def _variant_sessions(h: Hypothesis, stop: threading.Event) -> Iterator[SessionFor]:
    """Variants on different URLs are started once and kept up (A B A B without restarts);
    variants sharing a URL are started and stopped around each run."""
    shared = h.baseline.target.url == h.candidate.target.url
    with ExitStack() as stack:
        live: dict[str, TargetSession] = {}
        if not shared:
            for side, variant in (("baseline", h.baseline), ("candidate", h.candidate)):
                live[side] = stack.enter_context(target_session(variant.target, stop))

        @contextlib.contextmanager
        def session_for(side: str, target: Target) -> Iterator[TargetSession]:
            if side in live:
                yield live[side]
                return
            with target_session(target, stop) as session:
                yield session
        yield session_for
