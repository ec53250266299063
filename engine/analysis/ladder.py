"""The breaking point over every run at a known rate: stress steps and capacity scenarios.

A capacity scenario is a run at a known rate too. Judged on the stress profile's stop
conditions (``engine.analysis.stress.evaluate_step``), it is evidence about the same limit:
the quick start's stress said "breaking point 350/s" (steps of 250/s: 350 held, 600 broke)
beside "capacity: 4x ok" at 400/s. One figure, over all of them (docs/STATISTICS.md,
"Breaking point"): the lowest rate that failed a stop condition, and the highest rate below
it that held. Partial evidence is left as it is: it claims no breaking point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from engine.analysis.stress import StressAnalysis, failure_mode
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
    if stress.partial or not stress.steps or not others:
        return stress
    judged = tuple(replace(evaluate_step(o.run, o.rate, o.slo_ok, stop), source=o.label)
                   for o in others)
    s = replace(stress, others=judged)
    tested = max(step.rate for step in s.ladder)
    failed = next((step for step in s.ladder if not step.passed), None)
    if failed is None:
        return replace(s, max_rate_tested=tested)
    mode = failure_mode(failed, stop, s.knee_rate) if failed.source else stress.failure_mode
    return replace(s, breaking_point_rate=s.held_up_to_rate, failure_mode=mode,
                   max_rate_tested=tested)
