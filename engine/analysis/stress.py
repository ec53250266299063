"""Stress: step the arrival rate up until the service breaks, and say how and why.

``run_stress`` drives the steps (each a bounded run of ``step_duration_s``);
``analyse_stress`` is the pure part, so synthetic runs can test it.

- A step *fails a stop condition* when a ``stop_when`` limit (p95, p99, error
  rate) is exceeded, the caller's SLO check fails (unless ``slo_broken: false``),
  the run is invalid, the target did not keep up with the offered rate, or the
  step was aborted. Otherwise it *passes*; ``run_stress`` stops at the first failure.
- The stress test *broke* iff a step failed a stop condition (and it was not
  stopped early). The *breaking point* is then the rate of the last passing step
  before the first failing one (None when the first step already failed: "below
  the first step"). engine.analysis.ladder adds the capacity scenarios: then it is the
  highest rate that held below the lowest that failed, over steps and scenarios. When
  nothing failed there is no breaking point (``breaking_point_rate`` None,
  ``failure_mode`` ``none``) and ``held_up_to_rate`` is the highest rate tested.
- The *failure mode* of the first failing step: a generator that could not
  reach the rate while its own CPU was saturated (invalid) first, since then
  nothing else measured can be trusted; else errors above the limit, named by
  their dominant kind (refused connections, timeouts, dropped, 5xx); else
  latency (``latency knee``); else the target answering slower than offered
  (``throughput ceiling``); else invalid; else SLO broken.
- The *knee* is the rate of the last step before p95 rises above twice the
  lowest p95 of the steps before it (and by at least 1 ms) and stays there.
- The *limiting resource* at that point comes from ``limiting_resource``.
- A step that was aborted (Ctrl-C, the maximum run duration), or a run
  interrupted between steps, is partial evidence: the completed steps are kept,
  the analysis is ``partial`` ("interrupted after 2 of 5 steps") and claims no
  breaking point or failure mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.analysis.bottlenecks import limiting_resource
from engine.analysis.evidence import partial_reason
from engine.analysis.stress_step import StressStep, evaluate_step, stop_conditions
from engine.plan import MAX_STEPS, stress_rates
from engine.result import TARGET_SHORT, RunResult, Status
from engine.spec.model import LoadProfile, StopWhen

__all__ = ["RunStep", "StressAnalysis", "StressStep", "analyse_stress", "run_stress",
           "stress_rates"]

RunStep = Callable[[float, float], RunResult]
"""(arrival rate in requests/s, duration in s) -> the run at that rate."""
KNEE_FACTOR = 2.0
KNEE_MIN_S = 0.001
DEFAULT_ERROR_LIMIT = 0.01
GENERATOR_SATURATED_PCT = 90.0
_ERROR_NAMES = {
    "connect": "refused connections", "timeout": "timeouts", "dropped": "dropped requests",
    "status_5xx": "server errors (5xx)", "status_4xx": "client errors (4xx)",
    "read": "read errors", "write": "write errors", "protocol": "protocol errors",
    "check": "failed checks",
}


@dataclass(frozen=True)
class StressAnalysis:
    """Breaking point, failure mode, limiting resource and the latency/throughput curve."""

    breaking_point_rate: float | None
    """The last passing rate before the first step that failed a stop condition; None when
    nothing failed, when the first step failed, or when the evidence is partial."""
    max_rate_tested: float
    failure_mode: str
    """none, latency knee, refused connections, timeouts, dropped requests, server errors
    (5xx), ..., invalid: generator could not reach the rate, SLO broken."""
    limiting_resource: str | None
    """cpu, memory, io, network, database, dependency, queueing; None when unknown."""
    knee_rate: float | None
    steps: tuple[StressStep, ...]
    evidence: tuple[str, ...]
    partial_reason: str = ""
    """Why the steps are partial evidence ("interrupted after 2 of 5 steps")."""
    conditions: str = ""
    """The stop conditions the steps were judged on, e.g. 'p95 <= 250ms, SLOs hold'."""
    others: tuple[StressStep, ...] = ()
    """Other runs at known rates judged on the same conditions (engine.analysis.ladder)."""

    @property
    def ladder(self) -> tuple[StressStep, ...]:
        """The steps and the other runs by rate (at one rate a failure first: that rate did
        not hold): what the breaking point is taken over."""
        return tuple(sorted((*self.steps, *self.others), key=lambda s: (s.rate, s.passed)))

    @property
    def partial(self) -> bool:
        return bool(self.partial_reason)

    @property
    def knee_text(self) -> str:
        """The knee in words ('' when none): ``climbing_text``."""
        return "" if self.knee_rate is None else climbing_text(self.knee_rate)

    @property
    def broke(self) -> bool:
        """A step failed a stop condition (and the evidence is whole)."""
        return self.failure_mode != "none" and not self.partial

    @property
    def held_up_to_rate(self) -> float | None:
        """Highest rate with every run up to it passing; None when the first one failed."""
        held = None
        for s in self.ladder:
            if not s.passed:
                break
            held = s.rate
        return held

    def against_peak(self, peak: float) -> tuple[bool | None, str]:
        """Did the target hold the expected peak rate? (True/False, or None: not known)
        with the sentence saying so."""
        held = self.held_up_to_rate
        if self.broke and (held is None or held < peak):
            where = "below the first step" if held is None else f"at {held:g}/s"
            return False, (f"breaking point {where} is below the expected peak {peak:g}/s")
        if held is not None and held >= peak:
            return True, f"held {held:g}/s, at or above the expected peak {peak:g}/s"
        why = self.partial_reason or (f"no {self._runs_word} reached it (tested up to "
                                      f"{self.max_rate_tested:g}/s)")
        return None, f"expected peak {peak:g}/s not shown: {why}"

    @property
    def message(self) -> str:
        if not self.steps:
            return "no stress step ran"
        held = self.held_up_to_rate
        upto = f"; steps up to {held:g}/s passed" if held is not None else ""
        if self.partial:
            return f"INCONCLUSIVE: {self.partial_reason}: no breaking point claimed{upto}"
        within = f" ({self.conditions})" if self.conditions else ""
        if not self.broke:
            return (f"no breaking point up to {self.max_rate_tested:g}/s: every "
                    f"{self._runs_word} stayed within the stop conditions{within}")
        where = ("broke below the first step" if self.breaking_point_rate is None
                 else f"breaking point {self._held_text}")
        failed = self._first_failure
        assert failed is not None  # broke
        limit = f"; limited by {self.limiting_resource}" if self.limiting_resource else ""
        if failed.thread_note:  # the Resources row says it of the same run
            limit += f" ({failed.thread_note})" if limit else f"; {failed.thread_note}"
        return (f"{where}: {self.failure_mode} at {failed.rate:g}/s{_in(failed)} "
                f"({'; '.join(failed.breaches)}){limit}")

    @property
    def _runs_word(self) -> str:
        """'step', or 'step and capacity scenario' when those count too (``others``)."""
        return "step and capacity scenario" if self.others else "step"

    @property
    def _held_text(self) -> str:
        """'350/s', or '400/s (capacity 4x)' when another run holds the breaking point."""
        bp = self.breaking_point_rate
        at = [s for s in self.ladder if s.rate == bp and s.passed]
        return f"{bp:g}/s" + (f" ({at[0].source})" if at and all(s.source for s in at) else "")

    @property
    def _first_failure(self) -> StressStep | None:
        """The lowest-rate run that failed a stop condition (a step or a scenario)."""
        return next((s for s in self.ladder if not s.passed), None)

    @property
    def first_failure_rate(self) -> float | None:
        failed = self._first_failure
        return None if failed is None else failed.rate

    def criterion(self) -> tuple[Status, str]:
        """The checklist's 'capacity limit found': PASS only for a whole run that broke
        above its first step."""
        if self.partial or not self.steps:
            return Status.INCONCLUSIVE, self.message
        if not self.broke:
            return Status.INCONCLUSIVE, f"not found: {self.message}"
        if self.breaking_point_rate is None:
            return Status.INCONCLUSIVE, self.message
        return Status.PASS, self.message

    def lesson(self) -> str:
        """The lessons-learned sentence ('' when there is nothing to say)."""
        if self.partial or not self.steps:
            return ""
        if not self.broke:
            return (f"Stress: no stop condition failed up to {self.max_rate_tested:g}/s, the "
                    "highest rate tested: the breaking point lies beyond it.")
        if self.breaking_point_rate is None:
            return f"Stress: the first step already failed ({self.failure_mode})."
        failed = self._first_failure
        assert failed is not None  # broke
        return (f"Stress: every rate tested up to {self._held_text} stayed within the stop "
                f"conditions; {self.failure_mode} at {failed.rate:g}/s{_in(failed)}.")

    def to_doc(self) -> dict[str, object]:
        """The report's ``Stress`` object (plus knee_rate, evidence, broke and the rates)."""
        return {"breaking_point_rate": self.breaking_point_rate,
                "max_rate_tested": self.max_rate_tested, "failure_mode": self.failure_mode,
                "limiting_resource": self.limiting_resource,
                "steps": [s.to_doc() for s in self.steps], "message": self.message,
                "knee_rate": self.knee_rate, "evidence": list(self.evidence),
                "partial": self.partial, "partial_reason": self.partial_reason,
                "broke": self.broke, "first_failure_rate": self.first_failure_rate,
                "held_up_to_rate": self.held_up_to_rate, "conditions": self.conditions,
                "others": [s.to_doc() for s in self.others]}


def _in(step: StressStep) -> str:
    """' in capacity 4x' for another profile's run, '' for a stress step."""
    return f" in {step.source}" if step.source else ""


def climbing_text(knee_rate: float) -> str:
    """The knee in words. Not 'latency knee after': the failure mode 'latency knee at R/s'
    names the step that broke a limit, and the report read both beside each other
    ('latency knee at 600/s ... (latency knee after 100/s)')."""
    return (f"latency climbing after {knee_rate:g}/s (p95 over {KNEE_FACTOR:g}x its lowest "
            "at every step above)")


def knee(steps: Sequence[StressStep]) -> float | None:
    """Rate of the last step before p95 rises above KNEE_FACTOR x the lowest p95 of the steps
    before it and stays there to the last step (one noisy step is not a knee)."""
    for k in range(1, len(steps)):
        before = [s.p95_s for s in steps[:k] if s.p95_s is not None]
        if not before:
            continue
        best = min(before)
        if all(s.p95_s is not None and s.p95_s > KNEE_FACTOR * best
               and s.p95_s - best >= KNEE_MIN_S for s in steps[k:]):
            return steps[k - 1].rate
    return None


def failure_mode(step: StressStep, stop: StopWhen, knee_rate: float | None) -> str:
    """Name how ``step`` failed (see the module doc for the order)."""
    invalid = "invalid: generator could not reach the rate"
    if not step.valid and step.generator_cpu_pct >= GENERATOR_SATURATED_PCT:
        return invalid
    limit = stop.error_rate if stop.error_rate is not None else DEFAULT_ERROR_LIMIT
    if step.error_rate > limit and step.errors:
        return _ERROR_NAMES.get(step.errors[0][0], "errors")
    if any(b.startswith(("p95", "p99")) for b in step.breaches):
        return "latency knee"
    if any(b.startswith(TARGET_SHORT) for b in step.breaches):
        return "throughput ceiling"
    if not step.valid:
        return invalid
    if "SLO broken" in step.breaches:
        return "latency knee" if knee_rate is not None and step.rate > knee_rate else "SLO broken"
    return "aborted"


def _partial_why(runs: Sequence[RunResult], evaluated: Sequence[StressStep],
                 first_bad: int | None, planned: int | None, interrupted: bool) -> str:
    """Why the steps are partial evidence; '' when they are whole."""
    if first_bad is not None and runs[first_bad].aborted:
        of = f" (step {first_bad + 1} of {planned})" if planned else ""
        return f"{partial_reason(runs[first_bad])} at the {evaluated[first_bad].rate:g}/s step{of}"
    if interrupted and first_bad is None and (planned is None or len(runs) < planned):
        of = f" of {planned}" if planned else ""
        return f"interrupted after {len(runs)}{of} steps"
    return ""


def analyse_stress(steps: Sequence[RunResult], *, rates: Sequence[float] | None = None,
                   step_ok: Callable[[RunResult], bool] | None = None,
                   stop_when: StopWhen | None = None, planned_steps: int | None = None,
                   interrupted: bool = False) -> StressAnalysis:
    """Analyse stress steps in rate order. ``rates`` default to each run's target rate;
    ``interrupted``: the run was stopped before its remaining ``planned_steps`` ran."""
    stop = stop_when or StopWhen()
    conds = stop_conditions(stop)
    rs = list(rates) if rates is not None else [r.validity.target_rate or 0.0 for r in steps]
    evaluated = tuple(evaluate_step(run, rate, step_ok(run) if step_ok else True, stop)
                      for run, rate in zip(steps, rs, strict=True))
    if not evaluated:
        why = "interrupted before the first step" if interrupted else ""
        return StressAnalysis(None, 0.0, "none", None, None, (), (), why, conds)
    knee_rate = knee(evaluated)
    first_bad = next((i for i, s in enumerate(evaluated) if not s.passed), None)
    why = _partial_why(steps, evaluated, first_bad, planned_steps, interrupted)
    if why:  # stopped early: a failure is the stop's, not the target's
        return StressAnalysis(None, max(rs), "none", None, knee_rate, evaluated, (), why, conds)
    resource, evidence = limiting_resource(steps[first_bad if first_bad is not None else -1])
    if first_bad is None:
        return StressAnalysis(None, max(rs), "none", resource, knee_rate, evaluated,
                              tuple(evidence), "", conds)
    bp = evaluated[first_bad - 1].rate if first_bad > 0 else None
    mode = failure_mode(evaluated[first_bad], stop, knee_rate)
    if knee_rate is not None:
        evidence = [climbing_text(knee_rate), *evidence]
    return StressAnalysis(bp, max(rs), mode, resource, knee_rate, evaluated, tuple(evidence),
                          "", conds)


def run_stress(profile: LoadProfile, run_step: RunStep,
               step_ok: Callable[[RunResult], bool], *, max_steps: int = MAX_STEPS,
               deadline_s: float | None = None,
               on_step: Callable[[StressStep], None] | None = None) -> StressAnalysis:
    """Run the steps of ``profile`` in order until a step fails a stop condition, the rates
    run out, ``max_steps`` ran or ``deadline_s`` (wall seconds from now) passed. A Ctrl-C
    (KeyboardInterrupt from ``run_step``) keeps the completed steps as partial evidence."""
    stop = profile.stop_when or StopWhen()
    duration = float(profile.step_duration_s or 0.0)
    end = None if deadline_s is None else time.monotonic() + deadline_s
    planned = stress_rates(profile, max_steps)
    runs: list[RunResult] = []
    interrupted = False
    for rate in planned:
        if end is not None and time.monotonic() + duration > end:
            break
        try:
            run = run_step(rate, duration)
        except KeyboardInterrupt:
            interrupted = True
            break
        runs.append(run)
        step = evaluate_step(run, rate, step_ok(run), stop)
        if on_step is not None:
            on_step(step)
        if not step.passed:
            break
    return analyse_stress(runs, rates=planned[:len(runs)], step_ok=step_ok, stop_when=stop,
                          planned_steps=len(planned), interrupted=interrupted)
