"""Everything apply learned about one spec: the hub the analysis, gate and report stages share."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.result import RunResult, Status

if TYPE_CHECKING:
    from engine.analysis.bottlenecks import Bottleneck
    from engine.analysis.capacity import CapacityAnalysis
    from engine.analysis.hypothesis import HypothesisVerdict
    from engine.analysis.prioritize import Priority
    from engine.analysis.regression import RegressionResult
    from engine.analysis.slo import Budget, SloCheck
    from engine.analysis.soak import SoakAnalysis
    from engine.analysis.spike import SpikeAnalysis
    from engine.analysis.stress import StressAnalysis
    from engine.history.baseline import BaselineSelection
    from engine.plan import SpecPlan
    from engine.spec.model import Spec


@dataclass(frozen=True)
class GateResult:
    """One gate's decision with the evidence behind it."""

    name: str
    kind: str
    status: Status
    message: str
    details: tuple[str, ...] = ()
    decides_exit: bool = True

    def to_doc(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "status": str(self.status),
                "message": self.message, "details": list(self.details),
                "decides_exit": self.decides_exit}


@dataclass(frozen=True)
class CheckItem:
    """One criterion of the flow's gate checklist (steps 1-6)."""

    step: int
    step_name: str
    criterion: str
    status: Status
    evidence: str

    def to_doc(self) -> dict[str, Any]:
        return {"step": self.step, "step_name": self.step_name, "criterion": self.criterion,
                "status": str(self.status), "evidence": self.evidence}


@dataclass
class SpecOutcome:
    """Mutable while apply works on the spec; read-only for gates and reports afterwards."""

    spec: Spec
    plan: SpecPlan
    started_at: float = field(default_factory=time.time)
    finished_at: float = 0.0
    runs: list[tuple[str, RunResult]] = field(default_factory=list)
    primary: RunResult | None = None
    """The run the SLOs are judged on: the baseline profile's, else the first profile run."""
    slo_checks: list[SloCheck] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    stress: StressAnalysis | None = None
    soak: SoakAnalysis | None = None
    spike: SpikeAnalysis | None = None
    capacity: CapacityAnalysis | None = None
    hypotheses: list[HypothesisVerdict] = field(default_factory=list)
    priorities: list[Priority] = field(default_factory=list)
    bottlenecks: list[Bottleneck] = field(default_factory=list)
    regression: RegressionResult | None = None
    baseline_selection: BaselineSelection | None = None
    changepoints: list[dict[str, Any]] = field(default_factory=list)
    target_error: str = ""
    output_tail: str = ""
    interrupted: bool = False
    messages: list[str] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    checklist: list[CheckItem] = field(default_factory=list)
    verdict: Status = Status.NOT_RUN
    history_ids: list[int] = field(default_factory=list)
    lessons: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)

    def add_run(self, run_id: str, run: RunResult) -> None:
        self.runs.append((run_id, run))

    def own_runs(self) -> list[RunResult]:
        """Runs against the spec's own target (stress/capacity steps included), not the
        hypotheses' variant runs."""
        own = ("", "stress", "capacity")
        return [r for _, r in self.runs if r.variant.split("@")[0] in own]

    def runs_of(self, kind: str) -> list[RunResult]:
        """The spec's own runs of a profile kind."""
        return [r for r in self.own_runs() if r.kind == kind]

    def message(self, text: str) -> None:
        if text not in self.messages:
            self.messages.append(text)
