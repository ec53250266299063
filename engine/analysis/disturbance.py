"""Whether the machine, not the code, may be behind a regression result (issue #14): its
fixed CPU probe ran slower than during the baseline runs (engine.analysis.machine_speed)
or our own load generator ran late (engine.analysis.generator_lag). Asked by the gate
(engine.analysis.regression: the notes, and INVALID for a second latency FAIL on a machine
disturbed again) and, before any judgement, by apply's question whether to measure a run
once more (engine.history.record.remeasure), so both read the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.analysis.generator_lag import GeneratorLag, generator_lag
from engine.analysis.machine_speed import MachineSpeed, machine_speed
from engine.result import RunResult

__all__ = ["Disturbance", "disturbance"]


@dataclass(frozen=True)
class Disturbance:
    """The probe's and the generator's figures (None where there is none)."""

    speed: MachineSpeed | None
    lag: GeneratorLag | None

    @property
    def why(self) -> str:
        """'the machine ran a fixed CPU probe 60% slower ... and our load generator ran late
        (...)': the clauses that hold, '' when the machine was not disturbed."""
        clauses = (self.speed.why if self.speed else "", self.lag.why if self.lag else "")
        return " and ".join(c for c in clauses if c)


def disturbance(current: Sequence[RunResult], baseline: Sequence[RunResult]) -> Disturbance:
    """The current runs against the valid ``baseline`` runs, the runs the checks compare with."""
    valid = [r for r in baseline if r.validity.valid]
    return Disturbance(machine_speed(current, valid), generator_lag(current, valid))
