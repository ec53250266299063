"""The frozen records the pipeline's stages hand on, each built by one function.

``Driven`` (engine/drive.py ``drive_spec``): what was run and measured while driving.
``Analysed`` (engine/pipeline.py ``analyse``): what the analyses and history found.
``Judgement`` (engine/pipeline.py ``judge``): gates, checklist, verdict, narrative.
``Recorded`` (engine/pipeline.py ``record``): what the history kept.
``SpecResult`` bundles them for the render stage (engine/report/assemble.py).

A run's role (profile kind, hypothesis side and round, stress step rate) is the typed
``RunRole``; ``RunResult.variant`` is only a display label, never parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from engine.result import RunResult, Status

if TYPE_CHECKING:
    from engine.advisor.model import Advice
    from engine.analysis.bottleneck_runs import Basis
    from engine.analysis.bottlenecks import Bottleneck
    from engine.analysis.capacity import CapacityAnalysis
    from engine.analysis.hypothesis import HypothesisVerdict
    from engine.analysis.money import Fleet, Saving
    from engine.analysis.prioritize import Priority
    from engine.analysis.profile import ProfileAnalysis
    from engine.analysis.regression import RegressionResult
    from engine.analysis.resource_figures import ResourceFigures
    from engine.analysis.slo import Budget, SloCheck
    from engine.analysis.soak import SoakAnalysis
    from engine.analysis.spike import SpikeAnalysis
    from engine.analysis.steps import RunDetails
    from engine.analysis.stress import StressAnalysis
    from engine.analysis.traces import TraceAnalysis
    from engine.gates.actions import FlowAction
    from engine.history.baseline import BaselineSelection
    from engine.plan import SpecPlan
    from engine.production.findings import ProductionFindings
    from engine.spec.model import Spec
    from engine.traces.session import TraceCapture

RoleKind = Literal["baseline", "stress", "soak", "spike", "capacity", "hypothesis"]
Side = Literal["baseline", "candidate"]
SET_ASIDE = "set-aside"
"""The variant of a baseline run measured again (engine.drive._judged_run): the reports'
headline runs, the history's baselines and its series are variant '' only."""
Remeasure = Callable[[RunResult], str]
"""The drive stage's question about the primary run: '' to judge it, else why it is set
aside and its profile measured once more (engine.history.record.remeasure)."""


@dataclass(frozen=True)
class RunRole:
    """Why a run happened: a profile of the spec's own target, a stress or capacity step,
    or one side of one round of a hypothesis experiment."""

    kind: RoleKind
    profile: str
    """The spec profile the run was derived from."""
    side: Side | None = None
    """'baseline' or 'candidate' for a hypothesis run, else None."""
    round_index: int | None = None
    """0-based round of a hypothesis experiment."""
    step_rate: float | None = None
    """Requests/s of a stress step or capacity point."""
    hypothesis: str | None = None
    """The hypothesis id of a hypothesis run."""
    set_aside: str = ""
    """Why this baseline run was measured again and is not judged ('' for every other run):
    kept in the report and the history as variant ``SET_ASIDE`` (verdict INCONCLUSIVE)."""

    @property
    def own(self) -> bool:
        """Against the spec's own target (stress and capacity steps included)."""
        return self.kind != "hypothesis"


@dataclass(frozen=True)
class RunEntry:
    """One run with its report id ('baseline', 'stress-2', 'H1-candidate-1') and role."""

    id: str
    role: RunRole
    run: RunResult


@dataclass(frozen=True)
class Driven:
    """What the drive stage did for one spec: its runs, the load-test analyses made while
    driving (stress and capacity decide their next step from the last), hypotheses."""

    spec: Spec
    plan: SpecPlan
    started_at: float
    runs: tuple[RunEntry, ...] = ()
    primary: RunResult | None = None
    """The run the SLOs are judged on: the baseline profile's, else the first profile run."""
    stress: StressAnalysis | None = None
    soak: SoakAnalysis | None = None
    spike: SpikeAnalysis | None = None
    capacity: CapacityAnalysis | None = None
    hypotheses: tuple[HypothesisVerdict, ...] = ()
    target_error: str = ""
    output_tail: str = ""
    interrupted: bool = False
    messages: tuple[str, ...] = ()
    traces: TraceCapture | None = None
    """The target's spans when the spec's tracing is on (engine.traces.session)."""

    def own_runs(self) -> list[RunResult]:
        """Runs against the spec's own target, not the hypotheses' variant runs, nor a run
        set aside (measured again on a slower machine: its figures are not the analysis')."""
        return [e.run for e in self.runs if e.role.own and not e.role.set_aside]

    def runs_of(self, kind: RoleKind) -> list[RunResult]:
        """The runs of one role kind ('stress': every step), without a run set aside."""
        return [e.run for e in self.runs if e.role.kind == kind and not e.role.set_aside]

    def side_runs(self, side: Side, hypothesis: str | None = None) -> list[RunResult]:
        """One side of every hypothesis experiment, or of ``hypothesis``'s only."""
        return [e.run for e in self.runs if e.role.kind == "hypothesis" and e.role.side == side
                and hypothesis in (None, e.role.hypothesis)]


@dataclass(frozen=True)
class Analysed:
    """What the analysis stage found: SLOs, budgets, bottlenecks, priorities, and what the
    history says (baseline, regression, change points)."""

    slo_checks: tuple[SloCheck, ...] = ()
    budgets: tuple[Budget, ...] = ()
    bottlenecks: tuple[Bottleneck, ...] = ()
    bottleneck_basis: Basis | None = None
    """The runs the bottleneck shares are over, and the own runs left out (past a limit)."""
    before_bottlenecks: Mapping[str, tuple[Bottleneck, ...]] = field(default_factory=dict)
    """Hypothesis id -> the top bottlenecks of its baseline (before) runs: its ADR's context."""
    priorities: tuple[Priority, ...] = ()
    regression: RegressionResult | None = None
    baseline_selection: BaselineSelection | None = None
    changepoints: tuple[dict[str, Any], ...] = ()
    messages: tuple[str, ...] = ()
    history_failed: bool = False
    """Reading the history failed (said in ``messages``): nothing is recorded either."""
    server_timing: Mapping[str, Mapping[str, tuple[dict[str, object], ...]]] = field(
        default_factory=dict)
    """Run id -> journey -> Server-Timing rows (engine.analysis.servertiming)."""
    fleet: Fleet | None = None
    """Instances the production peak needs at the primary run's CPU per request (cost:)."""
    savings: tuple[Saving, ...] = ()
    """Each measured hypothesis' monthly saving and payback (engine.analysis.money)."""
    advice: tuple[Advice, ...] = ()
    """The failure modes the advisor stage found (engine.advisor.rules), after analysis."""
    details: Mapping[str, RunDetails] = field(default_factory=dict)
    """Run id -> per-step figures, error causes and per-tag results (engine.analysis.steps)."""
    production: ProductionFindings | None = None
    """The spec's production SLOs judged from Prometheus at apply time (engine.production)."""
    traces: Mapping[str, TraceAnalysis] = field(default_factory=dict)
    """Run id -> where its journeys' time went by span (engine.analysis.traces)."""
    profiles: Mapping[str, ProfileAnalysis] = field(default_factory=dict)
    """Run id -> the target's top functions on the CPU (engine.analysis.profile, #21)."""
    resources: Mapping[str, ResourceFigures] = field(default_factory=dict)
    """Run id -> CPU/memory against the flow's targets, disk and network I/O (#21)."""


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


@dataclass(frozen=True)
class Judgement:
    """The judge stage's decision: gates, checklist, the spec's verdict, lessons, next
    steps, and the flow messages of the stages before it."""

    gates: tuple[GateResult, ...]
    checklist: tuple[CheckItem, ...]
    verdict: Status
    lessons: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    actions: tuple[FlowAction, ...] = ()
    """Each failure with the flow's action and escalation (engine.gates.actions)."""
    next_target: str = ""
    """The next optimization to work on (engine.gates.narrative.next_target)."""
    next_review: str = ""
    """The date (ISO) to review this spec again."""


@dataclass(frozen=True)
class Recorded:
    """What the record stage kept: the history ids of the spec's runs, or why not."""

    history_ids: tuple[int, ...] = ()
    messages: tuple[str, ...] = ()
    ledger: tuple[dict[str, Any], ...] = ()
    """This spec's lessons-learned entries, oldest first, this apply's included
    (engine.history.lessons)."""


@dataclass(frozen=True)
class SpecResult:
    """Everything apply learned about one spec, as the render stage reads it."""

    driven: Driven
    analysed: Analysed
    judgement: Judgement
    recorded: Recorded
    finished_at: float

    @property
    def spec(self) -> Spec:
        return self.driven.spec

    @property
    def verdict(self) -> Status:
        return self.judgement.verdict

    @property
    def messages(self) -> tuple[str, ...]:
        return unique(self.judgement.messages, self.recorded.messages)


def unique(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """The messages of ``groups`` in order, each once."""
    return tuple(dict.fromkeys(m for group in groups for m in group))
