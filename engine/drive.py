"""Drive stage: the plan's steps through engine/target + engine/driver -> ``Driven``.

Profiles run against the spec's own target (stress and capacity decide each next
step from the last one's SLOs), then the hypotheses' A/B rounds. A target that
cannot be reached or a Ctrl-C ends driving early; what was measured until then is
still handed on, so the report and the exit code can speak for it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

from engine.analysis.capacity import CapacityAnalysis, run_capacity
from engine.analysis.hypothesis import HypothesisVerdict, evaluate_hypothesis, run_experiment
from engine.analysis.ladder import RateRun, with_other_runs
from engine.analysis.machine_speed import MEASURED_AGAIN
from engine.analysis.slo import check_slo
from engine.analysis.soak import SoakAnalysis, analyse_soak
from engine.analysis.spike import SpikeAnalysis, analyse_spike
from engine.analysis.stress import StressAnalysis, run_stress
from engine.driver.shapes import shape_of
from engine.gates.abort import abort_check
from engine.gates.failures import load_failures, load_test_failed, run_failure
from engine.plan import PlannedStep, SpecPlan, capacity_base_rate, constant_profile
from engine.records import SET_ASIDE, Driven, Remeasure, RoleKind, RunEntry, RunRole, Side
from engine.result import RunResult, Status
from engine.scale.errors import ClusterUnavailable
from engine.spec.model import Hypothesis, LoadProfile, ProfileKind, StopWhen, Target, Variant
from engine.target.prom_resources import RESOURCE_NOTES
from engine.target.session import (
    ExecOptions,
    Executor,
    TargetSession,
    TargetUnavailable,
    restart,
    target_session,
)


@dataclass
class _Driving:
    """The drive stage's own accumulator; ``freeze`` hands on the frozen ``Driven``."""

    plan: SpecPlan
    started_at: float
    runs: list[RunEntry] = field(default_factory=list)
    primary: RunResult | None = None
    stress: StressAnalysis | None = None
    soak: SoakAnalysis | None = None
    spike: SpikeAnalysis | None = None
    capacity: CapacityAnalysis | None = None
    hypotheses: list[HypothesisVerdict] = field(default_factory=list)
    target_error: str = ""
    output_tail: str = ""
    interrupted: bool = False
    messages: list[str] = field(default_factory=list)
    remeasure: Remeasure | None = None
    """Asked once, about the primary run (``_judged_run``); None once asked or never."""

    def add_run(self, run_id: str, role: RunRole, run: RunResult) -> None:
        self.runs.append(RunEntry(run_id, role, run))
        for note in run.extra.get(RESOURCE_NOTES, ()):  # a remote target's Prometheus (#21)
            self.message(note)

    def message(self, text: str) -> None:
        if text not in self.messages:
            self.messages.append(text)

    def freeze(self) -> Driven:
        return Driven(
            self.plan.spec, self.plan, self.started_at, tuple(self.runs), self.primary,
            stress=_stress_over_all(self), soak=self.soak, spike=self.spike,
            capacity=self.capacity,
            hypotheses=tuple(self.hypotheses), target_error=self.target_error,
            output_tail=self.output_tail, interrupted=self.interrupted,
            messages=tuple(self.messages))


def drive_spec(plan: SpecPlan, options: ExecOptions, started_at: float,
               remeasure: Remeasure | None = None) -> Driven:
    """Every planned run of one spec; never raises for target or run problems.
    ``remeasure``: whether to measure the primary profile once more (``_judged_run``)."""
    d = _Driving(plan, started_at, remeasure=remeasure)
    executor = Executor(plan.spec, options)
    try:
        _drive_profiles(d, options, executor)
        _drive_hypotheses(d, options, executor)
    except TargetUnavailable as exc:
        d.target_error = str(exc)
        d.output_tail = exc.output_tail
        d.message(load_test_failed(str(exc)))
    except ClusterUnavailable as exc:  # engine.scale: the generator hosts cannot run it
        d.target_error = str(exc)
        d.message(load_test_failed(str(exc)))
    except KeyboardInterrupt:
        d.interrupted = True
    d.interrupted = d.interrupted or options.stop.is_set()
    return d.freeze()


def _drive_profiles(d: _Driving, options: ExecOptions, ex: Executor) -> None:
    steps = [s for s in d.plan.steps if s.kind != "hypothesis"]
    if not steps:
        return
    with target_session(d.plan.spec.target, options.stop) as session:
        for step in steps:
            if options.stop.is_set():
                return
            _STEP_DRIVERS[step.kind](d, ex, session, step)
            _note_run_failures(d, step.profile.kind)


def _single(d: _Driving, ex: Executor, session: TargetSession, step: PlannedStep) -> None:
    profile = step.profile
    run = ex.run(session, profile, abort=abort_check(d.plan.spec))
    if d.primary is None or profile.kind == "baseline":
        run = _judged_run(d, ex, session, profile, run)  # sets d.primary
    else:
        d.add_run(profile.name, RunRole(profile.kind, profile.name), run)
    if profile.kind == "soak":
        d.soak = analyse_soak(run, profile.window_s, horizon_s=profile.leak_horizon_s,
                              planned_s=_planned_s(profile))
    elif profile.kind == "spike":
        d.spike = analyse_spike(run, profile)


def _judged_run(d: _Driving, ex: Executor, session: TargetSession, profile: LoadProfile,
                run: RunResult) -> RunResult:
    """The primary run, or once per spec its re-measurement: when the regression gate would
    not PASS the baseline run while the machine was disturbed (its probe slower, our
    generator late: ``d.remeasure``, engine.history.record.remeasure), the run is kept as
    set aside (variant ``SET_ASIDE``: never judged nor a baseline) and the profile runs
    again against a freshly started target, as each baseline run was; that run is judged,
    whatever it shows, so a real regression still fails (or is INVALID when the machine was
    disturbed again, engine.analysis.regression._slow_twice). Until the second run is in,
    the first is the judged one: a Ctrl-C or a target that does not restart leaves it
    judged, never nothing."""
    role = RunRole(profile.kind, profile.name)
    d.add_run(profile.name, role, run)
    d.primary = run
    ask, d.remeasure = d.remeasure, None
    stop = ex.options.stop
    usable = profile.kind == "baseline" and run.validity.valid and not run.aborted
    why = ask(run) if ask is not None and usable and not stop.is_set() else ""
    if not why or stop.is_set():
        return run
    aside = f"{profile.name}-{SET_ASIDE}"
    d.runs[-1] = RunEntry(aside, replace(role, set_aside=why), replace(run, variant=SET_ASIDE))
    try:
        restart(session, stop)
        again = ex.run(session, profile, abort=abort_check(d.plan.spec))
    except BaseException:  # TargetUnavailable, KeyboardInterrupt: the first run is judged
        d.runs[-1] = RunEntry(profile.name, role, run)
        d.message(f"{profile.name} not measured again ({why}): the first run is judged")
        raise
    d.message(f"{profile.name} measured again: {why}; the first run ({aside}) is kept, "
              "not judged")
    again = replace(again, extra={**again.extra, MEASURED_AGAIN: why})
    d.add_run(profile.name, role, again)
    d.primary = again
    return again


def _planned_s(profile: LoadProfile) -> float | None:
    """How long the profile's run was meant to last (None: not known)."""
    try:
        return shape_of(profile).duration_s
    except (ValueError, OSError):
        return None


def _stress_over_all(d: _Driving) -> StressAnalysis | None:
    """The stress analysis with the capacity scenarios judged on its stop conditions: one
    breaking point over every run at a known rate (engine.analysis.ladder)."""
    profile = next((s.profile for s in d.plan.steps if s.kind == "stress"), None)
    if d.stress is None or d.capacity is None or profile is None:
        return d.stress
    ok, base = _slo_ok(d), d.capacity.base_rate
    others = [RateRun(f"capacity {e.role.step_rate / base:g}x", e.role.step_rate, e.run, ok(e.run))
              for e in d.runs if e.role.kind == "capacity" and not e.role.set_aside
              and e.role.step_rate]
    return with_other_runs(d.stress, others, profile.stop_when or StopWhen())


def _slo_ok(d: _Driving) -> Callable[[RunResult], bool]:
    def ok(run: RunResult) -> bool:
        bad = (Status.FAIL, Status.INVALID)
        return all(check_slo(slo, run).status not in bad for slo in d.plan.spec.slos)
    return ok


def _step_runner(d: _Driving, ex: Executor, session: TargetSession,
                 profile: LoadProfile, kind: ProfileKind) -> Callable[[float, float], RunResult]:
    def run_step(rate: float, duration_s: float) -> RunResult:
        if ex.options.stop.is_set():
            raise KeyboardInterrupt
        derived = constant_profile(profile, rate, duration_s, kind)
        run = ex.run(session, derived, variant=f"{kind}@{rate:g}/s")
        role = RunRole(kind, profile.name, step_rate=rate)
        d.add_run(f"{kind}-{len(_runs_of(d, kind)) + 1}", role, run)
        return run
    return run_step


def _runs_of(d: _Driving, kind: str) -> list[RunResult]:
    return [e.run for e in d.runs if e.role.kind == kind and not e.role.set_aside]


def _stress(d: _Driving, ex: Executor, session: TargetSession, step: PlannedStep) -> None:
    runner = _step_runner(d, ex, session, step.profile, "stress")
    d.stress = run_stress(step.profile, runner, _slo_ok(d))


def _capacity(d: _Driving, ex: Executor, session: TargetSession, step: PlannedStep) -> None:
    spec = d.plan.spec
    base = capacity_base_rate(spec, step.profile)
    if base is None:
        return
    runner = _step_runner(d, ex, session, step.profile, "capacity")
    d.capacity = run_capacity(base, step.profile.multipliers, runner, _slo_ok(d),
                              spec.cost_per_hour, duration_s=step.profile.duration_s)


_STEP_DRIVERS: dict[str, Callable[[_Driving, Executor, TargetSession, PlannedStep], None]] = {
    "profile": _single, "stress": _stress, "capacity": _capacity,
}


def _note_run_failures(d: _Driving, kind: RoleKind) -> None:
    """The flow's 'Load test failed: {failure-mode}' (engine.gates.failures, as the actions
    and the checklist say it) and 'Target overloaded' for runs that did not do their job."""
    runs = _runs_of(d, kind)
    for text in load_failures(kind, runs, d.soak, d.spike):
        d.message(text)
    if kind not in ("stress", "capacity"):
        for run in runs:
            if run.validity.notes and not run_failure(kind, run):
                d.message(f"Target overloaded: {kind} run: {'; '.join(run.validity.notes)}")
    # a run shorter than the flow's guidance is the advisor's load-unlike-production warning


def _drive_hypotheses(d: _Driving, options: ExecOptions, ex: Executor) -> None:
    for step in d.plan.steps:
        if step.kind != "hypothesis" or step.hypothesis is None:
            continue
        if options.stop.is_set():
            return
        _one_hypothesis(d, ex, step.hypothesis, step.profile)


def _one_hypothesis(d: _Driving, ex: Executor, h: Hypothesis, profile: LoadProfile) -> None:
    with _variant_sessions(h, ex.options.stop) as sessions:
        def run_variant(variant: Variant, side: str, round_index: int) -> RunResult:
            if ex.options.stop.is_set():
                raise KeyboardInterrupt
            label = f"{h.id}-{side}-{round_index + 1}"
            with sessions(side, variant.target) as session:
                run = ex.run(session, profile, variant=label)
            role = RunRole("hypothesis", profile.name, side=_side(side),
                           round_index=round_index, hypothesis=h.id)
            d.add_run(label, role, run)
            return run
        slo = d.plan.spec.slo(h.expect.slo) if h.expect.slo else None
        base_runs, cand_runs = run_experiment(h, run_variant, h.rounds, slo)
    verdict = evaluate_hypothesis(h, base_runs, cand_runs, slo)
    d.hypotheses.append(verdict)
    if str(verdict.verdict) == "REFUTED":
        d.message(verdict.message)


def _side(side: str) -> Side:
    if side not in ("baseline", "candidate"):
        raise ValueError(f"unknown experiment side {side!r}")
    return "baseline" if side == "baseline" else "candidate"


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
