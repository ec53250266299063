"""What a run produces (driver -> analysis) and the verdict vocabulary.

``RunResult`` carries live histograms (``engine.hotpath.native.Histogram``) so the
analysis stages can query any percentile; the report stage turns everything
into the JSON document described in docs/REPORT_FORMAT.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from engine.answered import ANSWERABLE, LoadCounts, in_load
from engine.sample_time import rate_bins, sample_seconds, time_mean

if TYPE_CHECKING:  # the selector imports numpy/native code; keep this module light
    from engine.hotpath.native import Histogram, Recorder

AbortCheck = Callable[["Recorder", float], str]
"""A live gate check: (recorder, seconds elapsed) -> why to abort the run now, or ""."""

__all__ = [
    "RATE_FIELDS",
    "SEVERITY",
    "TARGET_SHORT",
    "AbortCheck",
    "CheckResult",
    "ExitCode",
    "FoldedProfile",
    "InvalidCause",
    "JourneyResult",
    "ResourceSample",
    "RunInterval",
    "RunResult",
    "Status",
    "StepResult",
    "Validity",
    "rate_bins",
    "sample_seconds",
    "time_mean",
    "worst",
]


class Status(StrEnum):
    """Verdict of a check, a gate, a run or a whole apply."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    INVALID = "INVALID"
    MANUAL = "MANUAL"
    NOT_RUN = "NOT_RUN"
    ABORTED = "ABORTED"


class InvalidCause(StrEnum):
    """Why a regression gate is INVALID (the report's ``invalid_cause``), for a tool to branch
    on: nothing was judged, or the code and the machine could not be told apart."""

    RUN_INVALID = "run-invalid"
    """A current run is invalid (engine.analysis.regression.check_regressions)."""
    MACHINE_SLOWER = "machine-slower"
    """A second measurement would FAIL on latency on a machine still disturbed: its probe
    slower, or our generator late (engine.analysis.regression._slow_twice; the name is the
    first cause's). Re-run, do not roll back (JUnit MachineSlower)."""


SEVERITY: tuple[Status, ...] = (Status.ABORTED, Status.INVALID, Status.FAIL,
                                Status.INCONCLUSIVE, Status.PASS)
"""Verdicts worst first: the one place the order is written (gates, regression, overall)."""


def worst(statuses: Iterable[Status], empty: Status = Status.INCONCLUSIVE) -> Status:
    """The worst of ``statuses`` by SEVERITY; ``empty`` when there are none at all.
    Unranked statuses alone (MANUAL, NOT_RUN) are INCONCLUSIVE: no evidence never passes."""
    seen = set(statuses)
    if not seen:
        return empty
    return next((s for s in SEVERITY if s in seen), Status.INCONCLUSIVE)


class ExitCode(IntEnum):
    """0 all deciding gates pass; 1 a gate failed; 2 spec invalid or usage error; 3 run
    invalid or target unreachable; 130 interrupted (partial results still written)."""

    PASS = 0
    GATE_FAILED = 1
    SPEC_INVALID = 2
    RUN_INVALID = 3
    INTERRUPTED = 130


@dataclass(frozen=True)
class StepResult:
    """One step of a multi-step journey (single-step journeys have none: the journey is
    the step). Histogram values are nanoseconds; a followed redirect chain is one request."""

    index: int
    name: str
    """The step's ``name:`` from the spec, else "METHOD /path" as written (templates kept)."""
    response: Histogram
    outcomes: Mapping[str, int]
    """Counts by OUTCOME_NAMES, as JourneyResult.outcomes, for this step only."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The step's tags merged over its journey's (the step's value wins)."""

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def errors(self) -> int:
        return self.requests - self.outcomes.get("ok", 0)


@dataclass(frozen=True)
class CheckResult:
    """One declared check of one step (k6's checks): how often it held."""

    step: int
    """Index of the step in its journey."""
    name: str
    """What was checked, in words: 'status is 200', 'json $.name == "alice"', ..."""
    passed: int
    failed: int
    fail_request: bool = False
    """True when a failed check also fails the request (outcome ``check``)."""


@dataclass(frozen=True)
class JourneyResult:
    """Totals of one journey over a run. Histogram values are nanoseconds."""

    name: str
    response: Histogram
    """Response time measured from the intended send time (includes queueing: no CO)."""
    service: Histogram
    """Service time measured from the actual send."""
    outcomes: Mapping[str, int]
    """Counts by engine.hotpath.native.OUTCOME_NAMES (ok, status_4xx, connect, timeout, dropped, ...)."""
    server_timing: Mapping[str, Histogram] = field(default_factory=dict)
    """W3C Server-Timing component -> histogram of its reported durations (ns)."""
    statuses: Mapping[int, int] = field(default_factory=dict)
    """HTTP status code -> responses with it (every parsed response; redirect hops that
    were followed count under their own 3xx code)."""
    steps: tuple[StepResult, ...] = ()
    """Per-step results of a multi-step journey, in spec order (empty for one step)."""
    checks: tuple[CheckResult, ...] = ()
    ended: Mapping[str, int] = field(default_factory=dict)
    """Journey instances ended early, by reason ("extract order_id failed at step create")."""
    redirects: int = 0
    """Redirect hops followed (each hop is timed within its request, counted here)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The journey's tags from the spec (per-tag results are computed in analysis)."""

    @property
    def requests(self) -> int:
        """Requests attempted (every outcome, dropped included)."""
        return sum(self.outcomes.values())

    @property
    def ok(self) -> int:
        return self.outcomes.get("ok", 0)

    @property
    def errors(self) -> int:
        """Every outcome other than ok (dropped included: the user never got an answer)."""
        return self.requests - self.ok


@dataclass(frozen=True)
class RunInterval:
    """One closed interval of a run (default 1 s), all journeys."""

    index: int
    start_s: float
    """Offset from the run start, seconds."""
    duration_s: float
    target_rate: float | None
    """Scheduled arrival rate in this interval (open model), requests/s."""
    response: tuple[str, ...]
    """Encoded (HdrHistogram V2) response-time histogram per journey, spec journey order."""
    outcomes: tuple[tuple[int, ...], ...]
    """Outcome counters per journey, in OUTCOME_NAMES order."""


@dataclass(frozen=True)
class ResourceSample:
    """A target/machine resource sample (psutil), ``t_s`` from run start."""

    t_s: float
    cpu_pct: float
    """Target process tree CPU, percent of one core (200 = two cores busy)."""
    rss_bytes: int
    threads: int
    fds: int
    connections: int
    read_bytes: int
    write_bytes: int
    ctx_switches: int
    sys_cpu_pct: float
    sys_mem_pct: float
    net_sent_bytes: int
    net_recv_bytes: int
    cores: int = 0
    """CPU cores of the machine sampled; 0: the machine apply runs on (the psutil sampler)."""
    unknown: tuple[str, ...] = ()
    """Fields with no reading, held at 0 (a remote target's Prometheus lacked the metric)."""
    hot_thread_pct: float = 0.0
    """The target's busiest thread, percent of one core, over the latest window of at least
    1 s before ``t_s`` (engine.target.hot_thread); 0 and in ``unknown`` when not read."""


RATE_FIELDS = frozenset({"cpu_pct", "sys_cpu_pct"})
"""ResourceSample fields read as a rate over the time since the previous sample (CPU time
used over the wall time between); the others are readings at ``t_s`` or counters."""


@dataclass(frozen=True)
class FoldedProfile:
    """The target's on-CPU stacks sampled during one run (engine.target.profiler, #21)."""

    tool: str
    """The sampler: 'py-spy' (a Python target) or 'perf' (a native one)."""
    rate: int
    """Samples per second asked of the sampler."""
    duration_s: float
    """How long the sampler ran."""
    stacks: Mapping[str, int] = field(default_factory=dict)
    """Folded stack ('root;...;leaf') -> samples; py-spy's frames read 'function (file:line)',
    perf's 'function (library)'."""
    pids: tuple[int, ...] = ()
    note: str = ""
    """Why stacks are missing or partial (sampler not installed, not a Python process)."""


TARGET_SHORT = "target did not keep up"
"""How a Validity note on a target-side shortfall begins (the stress analysis reads it)."""


@dataclass(frozen=True)
class Validity:
    """Did the run do what it was asked? An invalid run never passes a gate."""

    valid: bool
    reasons: tuple[str, ...]
    target_rate: float | None
    """Mean scheduled rate, requests/s (None in the closed model)."""
    achieved_rate: float
    """Requests the target answered (any HTTP status) per second of load time."""
    schedule_lag_p99_s: float
    schedule_lag_max_s: float
    dropped: int
    generator_cpu_pct: float
    """Generator process CPU over the run, percent of one core per worker."""
    generator_rss_growth_bytes: int = 0
    sent_rate: float = 0.0
    """Requests the generator sent (every outcome but DROPPED) per second of load time."""
    notes: tuple[str, ...] = ()
    """Target-side shortfalls (the run is valid; the SLOs judge the target on them)."""


@dataclass(frozen=True)
class RunResult:
    """Everything one load run measured."""

    profile: str
    kind: str
    variant: str
    """'' for the spec's own target; 'baseline'/'candidate' (+ round) in hypotheses."""
    target_url: str
    model: str
    """'open' or 'closed'."""
    workers: int
    started_at: float
    """Unix time, seconds."""
    duration_s: float
    journeys: tuple[JourneyResult, ...]
    intervals: tuple[RunInterval, ...]
    validity: Validity
    aborted: bool = False
    abort_reason: str = ""
    resources: tuple[ResourceSample, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    cpu_profile: FoldedProfile | None = None
    """The target's sampled stacks when the spec's profiling is on (#21)."""

    @property
    def requests(self) -> int:
        return sum(j.requests for j in self.journeys)

    @property
    def errors(self) -> int:
        return sum(j.errors for j in self.journeys)

    @property
    def error_rate(self) -> float:
        """Errors / requests; 0.0 for an empty run (an empty run is invalid anyway)."""
        return self.errors / self.requests if self.requests else 0.0

    def journey(self, name: str) -> JourneyResult | None:
        return next((j for j in self.journeys if j.name == name), None)

    def throughput(self, journey: str | None = None) -> float | None:
        """OK answers to the load per second of it (``in_load``); None without requests."""
        if self.duration_s <= 0 or not any(journey in (None, j.name) and j.requests for j in self.journeys):
            return None
        return self.in_load(journey).ok / self.duration_s

    def in_load(self, journey: str | None = None) -> LoadCounts:
        """Answers of ``journey`` (None: all) to the load (engine.answered.in_load)."""
        columns = [i for i, j in enumerate(self.journeys) if journey is None or j.name == journey]
        return in_load([j.outcomes for j in self.journeys], columns, self.extra.get(ANSWERABLE),
                       self.intervals, self.duration_s)
