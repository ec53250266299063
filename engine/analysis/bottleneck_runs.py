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
    """(run id, why) of own runs past a limit: a stress step that did not hold (a stop
    condition failed, the run was invalid or aborted) or a capacity point above 1x that missed
    the SLOs. Their time is the overload the stress and capacity analyses speak for (breaking
    point, limiting resource); summed in, one overloaded step's queueing outweighs every run
    that held and reads as the service's top bottleneck."""
    none_held: bool = False
    """Every own run was past a limit: all count, as the overload is the only evidence."""

    @property
    def runs(self) -> list[RunResult]:
        return [e.run for e in self.entries]

    def to_doc(self) -> dict[str, object]:
        """The report's ``bottleneck_runs``: the ids the shares are over, and those left out."""
        return {"runs": [e.id for e in self.entries],
                "left_out": [{"id": i, "why": why} for i, why in self.left_out],
                "none_held": self.none_held}


def bottleneck_basis(entries: Sequence[RunEntry], stress: StressAnalysis | None = None,
                     capacity: CapacityAnalysis | None = None) -> Basis:
    """The spec's own runs (none set aside) without the stress steps and capacity points past
    a limit; all of them when none held; else the 'before' side of the spec's experiments."""
    own = [e for e in entries if e.role.own and not e.role.set_aside]
    why = _past_limits(own, stress, capacity)
    kept = tuple(e for e in own if e.id not in why)
    if kept:
        return Basis(kept, tuple((e.id, why[e.id]) for e in own if e.id in why))
    if own:
        return Basis(tuple(own), none_held=True)
    return Basis(tuple(e for e in entries
                       if e.role.kind == "hypothesis" and e.role.side == "baseline"))


def _past_limits(own: Sequence[RunEntry], stress: StressAnalysis | None,
                 capacity: CapacityAnalysis | None) -> dict[str, str]:
    """Run id -> why, for each stress step and capacity point past a limit. Each kind's runs
    pair with its analysis' steps or points in order: the drive appends a run as its step
    runs, and the analysis judges them in that order (an interrupted step has neither)."""
    out: dict[str, str] = {}
    steps = [e for e in own if e.role.kind == "stress"]
    for entry, step in zip(steps, stress.steps if stress else (), strict=False):
        if not step.passed:
            out[entry.id] = (f"stress step at {step.rate:g}/s did not hold: "
                             f"{'; '.join(step.breaches)}")
    points = [e for e in own if e.role.kind == "capacity"]
    limits = {o.rate: o for o in (stress.others if stress else ()) if not o.passed}
    for entry, point in zip(points, capacity.points if capacity else (), strict=False):
        if point.multiplier <= 1:  # 1x is the baseline's own load
            continue
        name = f"capacity point {point.multiplier:g}x ({point.rate:g}/s)"
        if not point.slo_pass:
            out[entry.id] = f"{name} {'missed the SLOs' if point.valid else 'was invalid'}"
        elif point.rate in limits:  # held its SLOs, broke the stress limits (analysis.ladder)
            out[entry.id] = (f"{name} did not hold the stress limits: "
                             f"{'; '.join(limits[point.rate].breaches)}")
    return out
