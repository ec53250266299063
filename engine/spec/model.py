"""The spec as frozen typed records: after the loader, no code touches raw dicts.

Units: durations in seconds, rates per second, percentages and ratios as fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from engine.spec.cost import CostSettings
from engine.spec.model_steps import DEFAULT_REDIRECTS as DEFAULT_REDIRECTS
from engine.spec.model_steps import Check as Check
from engine.spec.model_steps import Extract as Extract
from engine.spec.model_steps import ThinkTime as ThinkTime
from engine.spec.model_steps import TlsSettings as TlsSettings
from engine.spec.production_model import Production, ProductionShape, ProductionSli
from engine.units import Change, Comparison

Trigger = Literal["slo-breach", "capacity-planning", "cost-reduction", "user-complaint",
                  "proactive", "new-feature"]
ProfileKind = Literal["baseline", "stress", "soak", "spike", "capacity"]
PROFILE_KINDS: tuple[str, ...] = ("baseline", "stress", "soak", "spike", "capacity")
SliKind = Literal["latency", "throughput", "error_rate", "availability"]
HypothesisType = Literal["database", "caching", "algorithm", "async", "api", "pooling", "other"]
GateKind = Literal["slo", "validity", "regression", "hypothesis", "error_budget", "checklist",
                   "load", "advice"]

DEFAULT_MIN_EFFECT_S = 0.001
"""Regression gate: latency shifts under 1 ms never fail it (loopback jitter is that big)."""
EMPTY: Mapping[str, str] = MappingProxyType({})
EMPTY_F: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True)
class Location:
    """Where a record came from, for messages: ``file:line``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Readiness:
    """How to tell a started target is ready: an HTTP path (2xx/3xx) or a TCP port."""

    path: str | None = None
    tcp_port: int | None = None
    timeout_s: float = 30.0


@dataclass(frozen=True)
class StartCommand:
    """A managed target: apply starts ``command``, waits for ``ready``, always stops it."""

    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    cwd: str | None = None
    ready: Readiness = Readiness(path="/")


@dataclass(frozen=True)
class ProcessRef:
    """A process to profile that apply does not start: by pid or by name."""

    pid: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Target:
    """Where load goes. ``url`` is scheme://host:port with no path."""

    url: str
    start: StartCommand | None = None
    process: ProcessRef | None = None
    demo_fix: tuple[str, ...] | None = None
    """Set when the target is the embedded demo service (``target.demo``); the fixes applied."""
    tls: TlsSettings | None = None
    """``tls:`` of an https target (None: verify against the system CAs)."""


@dataclass(frozen=True)
class Request:
    """One HTTP request template. Templates: {seq}, {rand:A-B}, {uuid}, {csv:NAME.COLUMN}."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    body: str | None = None
    json: str | None = None
    """JSON body as canonical JSON text (templated after serialisation)."""
    expect_status: tuple[int, ...] = (200, 201, 202, 204)
    think_time_s: float = 0.0
    """Pause after this step, s (the mean of ``think`` when that is a distribution)."""
    follow_redirects: bool = False
    name: str = ""
    """The step's ``name:``; empty: "METHOD /path" names it in per-step results."""
    think: ThinkTime | None = None
    """``think_time`` as a distribution (think_time_s is its mean); None: fixed."""
    extract: tuple[Extract, ...] = ()
    checks: tuple[Check, ...] = ()
    redirects: int | None = None  # hops to follow (0: none); None: the journey's
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Journey:
    """A weighted user journey: one request, or several steps (closed-model virtual users)."""

    name: str
    weight: float
    steps: tuple[Request, ...]
    location: Location | None = None
    cookies: bool = True  # a jar per journey instance (open) or virtual user (closed)
    redirects: int = DEFAULT_REDIRECTS
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class DataFile:
    """A CSV data file referenced from templates as {csv:NAME.COLUMN}."""

    name: str
    path: str
    mode: Literal["round-robin", "random"] = "round-robin"


@dataclass(frozen=True)
class Sli:
    """What is measured: kind, and for latency the journey (None = all) and percentile."""

    name: str
    kind: SliKind
    journey: str | None = None
    percentile: float | None = None


@dataclass(frozen=True)
class Slo:
    """A promise on an SLI. ``objective`` is in the SLI's unit (s, req/s, fraction).

    ``target`` is the good-events ratio the error budget derives from
    (budget = 1 - target): for latency it is percentile/100, for availability
    the objective, for error rate 1 - objective.
    """

    name: str
    sli: Sli
    objective: Comparison
    window_s: float = 28 * 86400.0
    target: float | None = None
    location: Location | None = None
    production: ProductionSli | None = None
    """How the SLO is measured in production (``slos[].production``), if it is."""

    @property
    def error_budget(self) -> float | None:
        """Allowed bad-event fraction, or None for SLIs without one (throughput)."""
        return None if self.target is None else 1.0 - self.target


@dataclass(frozen=True)
class Execution:
    """Where the load generators run (``execution:``): ``local`` worker processes on this
    machine, or ``dask``: every generator host of a Dask cluster (engine.scale)."""

    engine: Literal["local", "dask"] = "local"
    scheduler: str | None = None
    """tcp://HOST:PORT of the Dask scheduler; None: $DASK_SCHEDULER_ADDRESS."""
    nodes: int = 0
    """Generator hosts to use; 0 means every one the cluster has (``nodes: all``)."""
    workers_per_node: int | None = None
    """Worker processes per host; 0 one per core (``auto``); None the profile's ``workers``."""


@dataclass(frozen=True)
class RunSettings:
    """Driver settings shared by every profile (overridable per profile)."""

    workers: int = 1
    """Worker processes; 0 means one per core (``workers: auto``)."""
    connections: int = 50
    timeout_s: float = 5.0
    connect_timeout_s: float = 2.0
    max_queue: int = 10000
    rate_tolerance: float = 0.02
    """Achieved rate may fall at most this fraction under target before the run is INVALID."""
    interval_s: float = 1.0
    model: Literal["open", "closed"] = "open"
    execution: Execution = Execution()
    """Where the generators run (the spec's ``execution:``, or ``apply --scheduler``)."""


@dataclass(frozen=True)
class Stage:
    """Ramp linearly to ``rate`` (open) or ``vus`` (closed) over ``duration_s``."""

    duration_s: float
    rate: float | None = None
    vus: int | None = None


@dataclass(frozen=True)
class StopWhen:
    """Stress stop conditions: any one that holds ends the step sequence."""

    p95_s: float | None = None
    p99_s: float | None = None
    error_rate: float | None = None
    slo_broken: bool = True


@dataclass(frozen=True)
class LoadProfile:
    """One load profile. ``kind`` says how the analysis reads it.

    Shapes: constant ``rate`` (open) or ``vus`` (closed) for ``duration_s``
    after ``ramp_up_s``; ``stages`` (piecewise linear); ``rate_csv`` (replay);
    stress steps (start/step/step_duration/max_rate); spike (base/peak and
    before/spike/after); capacity (multipliers of the baseline rate).
    """

    name: str
    kind: ProfileKind
    settings: RunSettings
    duration_s: float = 0.0
    rate: float | None = None
    vus: int | None = None
    think_time_s: float = 0.0
    think: ThinkTime | None = None  # think_time as a distribution (think_time_s: its mean)
    ramp_up_s: float = 0.0
    stages: tuple[Stage, ...] = ()
    rate_csv: str | None = None
    # stress
    start_rate: float | None = None
    step_rate: float | None = None
    step_duration_s: float | None = None
    max_rate: float | None = None
    stop_when: StopWhen | None = None
    expected_peak: float | None = None
    """The peak arrival rate production expects; the load gate FAILs a breaking point below it."""
    # soak
    window_s: float | None = None
    leak_horizon_s: float | None = None
    # spike
    base_rate: float | None = None
    peak_rate: float | None = None
    before_s: float | None = None
    spike_s: float | None = None
    after_s: float | None = None
    recovery_tolerance: float = 0.2
    # capacity
    multipliers: tuple[float, ...] = ()
    location: Location | None = None
    from_production: ProductionShape | None = None  # baseline/soak: resolved into stages


@dataclass(frozen=True)
class Expectation:
    """What a hypothesis expects: a relative ``change`` or an absolute ``value`` of a metric.

    ``metric`` is p50/p90/p95/p99/max/mean, throughput or error_rate; ``journey``
    None means all journeys. When written against an SLO, both come from the SLO.
    """

    metric: str
    journey: str | None
    change: Change | None = None
    value: Comparison | None = None
    slo: str | None = None


@dataclass(frozen=True)
class Variant:
    """One side of a before/after experiment: a target (URL, or a started command)."""

    target: Target


@dataclass(frozen=True)
class Hypothesis:
    """"If we <change>, <metric> changes by <expectation>"; measured A/B interleaved."""

    id: str
    title: str
    type: HypothesisType
    expect: Expectation
    effort_hours: float
    baseline: Variant
    candidate: Variant
    change: str = ""
    risk: Literal["low", "medium", "high"] = "medium"
    estimated_impact: float | None = None
    """Expected fractional improvement (0.6 = 60%), for prioritising before measurement."""
    profile: str = "baseline"
    rounds: int | Literal["auto"] = "auto"
    """A/B pairs run interleaved (A B A B ...); "auto" adds pairs until the interval decides
    or ``max_rounds`` is reached (engine.analysis.hypothesis.run_experiment)."""
    max_rounds: int = 6
    """The limit of ``rounds: auto`` (its looks share one boundary: engine.analysis.sequential)."""
    duration_s: float | None = None
    """Each A/B run's length (None: the profile's); engine.spec.build_flow says when allowed."""
    scores: Mapping[str, float] = field(default_factory=lambda: EMPTY_F)
    """Option-matrix scores 0-5 per criterion (see Spec.criteria)."""
    location: Location | None = None


@dataclass(frozen=True)
class Gate:
    """A gate that decides the exit code. Kinds are looked up in a registry."""

    name: str
    kind: GateKind
    abort_on_fail: bool = False
    abort_delay_s: float = 0.0
    strict: bool | None = None
    """INCONCLUSIVE counts as a failure when set; None (unset) means the kind's default
    (engine.gates.evaluate.is_strict: the slo gate is strict once an SLO was checked)."""
    tolerances: Mapping[str, float] = field(default_factory=lambda: EMPTY_F)
    """Regression tolerances by metric (p50, p95, p99, max: +fraction; throughput: -fraction;
    error_rate: absolute points as a fraction)."""
    min_effect_s: float = DEFAULT_MIN_EFFECT_S
    """Regression gate: a latency shift smaller than this (seconds) never fails it."""
    fail_on: tuple[str, ...] = ()
    """Advice gate: the failure-mode codes (engine.advisor.model.CODES) that FAIL it."""


@dataclass(frozen=True)
class ReportSettings:
    formats: tuple[str, ...] = ("markdown", "json", "html", "junit")
    dir: str = "reports"


@dataclass(frozen=True)
class BaselinePolicy:
    mode: Literal["window", "last", "pinned"] = "window"
    window_s: float = 7 * 86400.0
    last: int = 5
    pinned: str | None = None
    other_hosts: bool = False
    """Whether runs from another host fingerprint count."""


@dataclass(frozen=True)
class HistorySettings:
    path: str = ".perfopt/history.db"
    baseline: BaselinePolicy = BaselinePolicy()
    enabled: bool = True


@dataclass(frozen=True)
class Spec:
    """One PerformanceFlow document."""

    name: str
    component: str
    trigger: Trigger
    target: Target
    journeys: tuple[Journey, ...]
    slos: tuple[Slo, ...]
    profiles: tuple[LoadProfile, ...]
    hypotheses: tuple[Hypothesis, ...] = ()
    gates: tuple[Gate, ...] = ()
    slis: tuple[Sli, ...] = ()
    data: tuple[DataFile, ...] = ()
    report: ReportSettings = ReportSettings()
    history: HistorySettings = HistorySettings()
    project: str = ""
    description: str = ""
    secrets: tuple[str, ...] = ()
    """Header and JSON field names whose values never reach a report, log or history."""
    cost_per_hour: float | None = None
    cost: CostSettings | None = None
    """The whole ``cost:`` block (None when the spec has none)."""
    criteria: Mapping[str, float] = field(default_factory=lambda: EMPTY_F)
    """Option-matrix criteria and weights (sum to 1)."""
    source: Location | None = None
    execution: Execution = Execution()
    """``execution:``: local worker processes (default) or a Dask cluster of generators."""
    source_text_hash: str = ""
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    secret_values: tuple[str, ...] = ()
    """Values the spec took from the environment (``${VAR}``, engine.spec.envsubst), each
    with its escaped spellings: every writer removes them wherever they appear."""
    production: Production | None = None
    """The ``production:`` block: the Prometheus source monitor reads SLO compliance from."""

    def profile(self, name: str) -> LoadProfile | None:
        """The profile called ``name``, or None."""
        return next((p for p in self.profiles if p.name == name), None)

    def slo(self, name: str) -> Slo | None:
        """The SLO called ``name``, or None."""
        return next((s for s in self.slos if s.name == name), None)
