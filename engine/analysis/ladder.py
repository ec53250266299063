"""The breaking point over every run at a known rate: stress steps and capacity scenarios.

A capacity scenario is a run at a known rate too. Judged on the stress profile's stop
conditions (``engine.analysis.stress_step.evaluate_step``), it is evidence about the same limit:
the quick start's stress said "breaking point 350/s" (steps of 250/s: 350 held, 600 broke)
beside "capacity: 4x ok" at 400/s. One figure, over all of them (docs/STATISTICS.md,
"Breaking point"): the lowest rate that failed a stop condition, and the highest rate below
it that held. Partial evidence is left as it is: it claims no breaking point; an aborted
scenario (Ctrl-C) is left out, as an aborted step makes stress partial. Where a scenario
supplies the first failure, the limiting resource is read from its run. The profiles may
differ in connections, timeouts or duration: a scenario held is evidence at its own
settings (docs/STATISTICS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.analysis.bottlenecks import limiting_resource
from engine.analysis.stress import StressAnalysis, climbing_text, failure_mode
from engine.analysis.stress_step import evaluate_step
from engine.result import RunResult
from engine.spec.model import StopWhen

__all__ = ["RateRun", "with_other_runs"]


@dataclass(frozen=True)
class RateRun:
    """A run at a known offered rate from another profile, e.g. a capacity scenario."""

    label: str
    """How the report names it, e.g. 'capacity 4x'."""
    rate: float
    run: RunResult
    slo_ok: bool


def with_other_runs(stress: StressAnalysis, others: Sequence[RateRun],
                    stop: StopWhen) -> StressAnalysis:
    """``stress`` with ``others`` judged on its stop conditions, and its breaking point,
    failure mode and highest rate tested taken over all of its runs and theirs."""
    whole = [o for o in others if not o.run.aborted]
    if stress.partial or not stress.steps or not whole:
        return stress
    judged = tuple(replace(evaluate_step(o.run, o.rate, o.slo_ok, stop), source=o.label)
                   for o in whole)
    s = replace(stress, others=judged)
    tested = max(step.rate for step in s.ladder)
    failed = next((step for step in s.ladder if not step.passed), None)
    if failed is None:
        return replace(s, max_rate_tested=tested)
    s = replace(s, breaking_point_rate=s.held_up_to_rate, max_rate_tested=tested)
    if not failed.source:
        return s
    resource, evidence = limiting_resource(next(o.run for o in whole if o.label == failed.source))
    knee = [climbing_text(s.knee_rate)] if s.knee_rate is not None else []
    return replace(s, failure_mode=failure_mode(failed, stop, s.knee_rate),
                   limiting_resource=resource, evidence=(*knee, *evidence))
