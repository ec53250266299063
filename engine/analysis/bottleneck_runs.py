"""Which runs the bottleneck shares are over: the spec's own runs within their limits.

A stress step or capacity point that failed its stop conditions is left out: its overload is
the stress and capacity analyses' to state (breaking point, limiting resource). Summed in,
one overloaded step's queueing outweighs every run that held (docs/STATISTICS.md,
"Bottleneck share").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.records import RunEntry
from engine.result import RunResult

if TYPE_CHECKING:
    from engine.analysis.capacity import CapacityAnalysis
    from engine.analysis.stress import StressAnalysis

__all__ = ["Basis", "bottleneck_basis"]


@dataclass(frozen=True)
class Basis:
    """The runs the bottleneck shares (and the traces and CPU profiles beside them) are over:
    the spec's own runs within their limits."""

    entries: tuple[RunEntry, ...]
    left_out: tuple[tuple[str, str], ...] = ()
    """(run id, why) of own runs past a limit: a stress step or capacity point that failed its
    stop conditions. Their time is the overload the stress and capacity analyses speak for
    (breaking point, limiting resource); summed in, one overloaded step's queueing outweighs
    every run that held and reads as the service's top bottleneck."""

    @property
    def runs(self) -> list[RunResult]:
        return [e.run for e in self.entries]

    def to_doc(self) -> dict[str, object]:
        """The report's ``bottleneck_runs``: the ids the shares are over, and those left out."""
        return {"runs": [e.id for e in self.entries],
                "left_out": [{"id": i, "why": why} for i, why in self.left_out]}


def bottleneck_basis(entries: Sequence[RunEntry], stress: StressAnalysis | None = None,
                     capacity: CapacityAnalysis | None = None) -> Basis:
    """The spec's own runs (none set aside) without the stress steps and capacity points that
    failed their stop conditions; all of them when none held (the overload is then the only
    evidence); else the 'before' side of the spec's experiments."""
    past = _past_limits(stress, capacity)
    own = [e for e in entries if e.role.own and not e.role.set_aside]
    why = [past.get((e.role.kind, e.role.step_rate), "") for e in own]
    kept = tuple(e for e, w in zip(own, why, strict=True) if not w)
    if kept:
        return Basis(kept, tuple((e.id, w) for e, w in zip(own, why, strict=True) if w))
    if own:
        return Basis(tuple(own))
    return Basis(tuple(e for e in entries
                       if e.role.kind == "hypothesis" and e.role.side == "baseline"))


def _past_limits(stress: StressAnalysis | None,
                 capacity: CapacityAnalysis | None) -> dict[tuple[str, float | None], str]:
    """(role kind, step rate) -> why, for each step and point that failed."""
    out: dict[tuple[str, float | None], str] = {}
    for step in stress.steps if stress else ():
        if not step.passed:
            out[("stress", step.rate)] = (f"stress step at {step.rate:g}/s failed its stop "
                                          f"conditions: {'; '.join(step.breaches)}")
    for point in capacity.points if capacity else ():
        if not point.slo_pass:
            broke = "did not meet the SLOs" if point.valid else "was invalid"
            out[("capacity", point.rate)] = (f"capacity point {point.multiplier:g}x "
                                             f"({point.rate:g}/s) {broke}")
    return out
