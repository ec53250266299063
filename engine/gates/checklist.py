"""The flow's gate checklist: each criterion checked with its evidence.

Criteria the engine can measure are PASS/FAIL/INCONCLUSIVE; ones only people
can confirm are MANUAL; ones whose capability is not part of this run are
NOT_RUN. Nothing is PASS without evidence.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.analysis.evidence import partial_reason
from engine.gates.failures import load_failures
from engine.records import Analysed, CheckItem, Driven, RoleKind
from engine.result import Status

STEPS = {1: "Baseline", 2: "Bottlenecks", 3: "Prioritize", 4: "Implement", 5: "Validate",
         6: "Monitor"}
Check = Callable[[Driven, Analysed], tuple[Status, str]]


SLI_KINDS = ("latency", "throughput", "error_rate", "availability")
"""The SLIs the flow's step 1 asks for (latency p50/p95/p99, throughput, error rate,
availability): an SLI counts when the spec declares it in ``slis:`` or an SLO uses it."""
MIN_BOTTLENECKS = 3
"""The flow asks for the top 3-5 bottlenecks with evidence: fewer is not yet done."""


def _slis_defined(d: Driven, a: Analysed) -> tuple[Status, str]:
    kinds = {s.kind for s in d.spec.slis} | {s.sli.kind for s in d.spec.slos}
    missing = [k for k in SLI_KINDS if k not in kinds]
    if missing:
        return Status.FAIL, f"no SLI on {', '.join(missing)}"
    return Status.PASS, f"SLIs on {', '.join(k for k in SLI_KINDS if k in kinds)}"


def _percentile_targets(d: Driven, a: Analysed) -> tuple[Status, str]:
    pct = [s for s in d.spec.slos if s.sli.kind == "latency"]
    if not pct:
        return Status.FAIL, "no latency SLO with a percentile target"
    return Status.PASS, ", ".join(f"{s.name}: p{s.sli.percentile:g} {s.objective.text}" for s in pct)


def _budgets(d: Driven, a: Analysed) -> tuple[Status, str]:
    with_budget = [s for s in d.spec.slos if s.error_budget is not None]
    if not with_budget:
        return Status.FAIL, "no SLO defines an error budget"
    return Status.PASS, ", ".join(f"{s.name}: {s.error_budget * 100:.3g}%" for s in with_budget
                                  if s.error_budget is not None)


def _baseline_measured(d: Driven, a: Analysed) -> tuple[Status, str]:
    runs = d.runs_of("baseline")
    if not runs:
        return Status.NOT_RUN, "no baseline profile ran"
    run = runs[0]
    if not run.validity.valid:
        return Status.INVALID, "; ".join(run.validity.reasons)
    return Status.PASS, f"{run.requests} requests at {run.validity.achieved_rate:.1f}/s"


_NOT_PROFILED = "give target.start or target.process, or target.metrics for a remote target"


def _seven_days(d: Driven, a: Analysed) -> tuple[Status, str]:
    if a.baseline_selection is None:
        return Status.NOT_RUN, "history disabled or no baseline run"
    from engine.history.baseline import baseline_criterion

    status, evidence = baseline_criterion(a.baseline_selection)
    return Status(str(status)), evidence


def _profiled(d: Driven, a: Analysed) -> tuple[Status, str]:
    sampled = [e.run for e in d.runs if e.run.resources]
    if not sampled:
        return Status.NOT_RUN, f"target not profiled ({_NOT_PROFILED})"
    n = sum(len(r.resources) for r in sampled)
    return Status.PASS, f"{n} resource samples over {len(sampled)} run(s)"


def _traces(d: Driven, a: Analysed) -> tuple[Status, str]:
    comps = {c for e in d.runs for j in e.run.journeys for c in j.server_timing}
    if not comps:
        return Status.NOT_RUN, "no Server-Timing headers in responses"
    return Status.PASS, f"Server-Timing components: {', '.join(sorted(comps))}"


def _capacity_limit(d: Driven, a: Analysed) -> tuple[Status, str]:
    if d.stress is None:
        return Status.NOT_RUN, "no stress profile ran"
    return d.stress.criterion()


def _bottlenecks(d: Driven, a: Analysed) -> tuple[Status, str]:
    if not a.bottlenecks:
        return Status.NOT_RUN if not d.runs else Status.INCONCLUSIVE, "no bottleneck identified"
    found = "; ".join(f"{b.name} ({b.share_text})" for b in a.bottlenecks[:5])
    if len(a.bottlenecks) < MIN_BOTTLENECKS:
        return Status.INCONCLUSIVE, (f"{len(a.bottlenecks)} of the {MIN_BOTTLENECKS}-5 the flow "
                                     f"asks for: {found}")
    return Status.PASS, found


def _resource_targets(d: Driven, a: Analysed) -> tuple[Status, str]:
    from engine.analysis.resources import (
        CPU_TARGET_PCT,
        MEMORY_TARGET_PCT,
        run_headroom,
        summarize_run,
    )

    # the primary run's samples: stress and capacity steps push the target to its limit on
    # purpose, and the report's resource table judges each run on its own samples too
    if d.primary is None or not d.primary.resources:
        return Status.NOT_RUN, f"target not profiled ({_NOT_PROFILED})"
    h = run_headroom(d.primary)  # over its load, the figures the report's resource table shows
    samples = summarize_run(d.primary).samples  # taken during the load the p95s cover
    cpu, memory = h.cpu_pct, h.memory_pct
    # a bound (one core's share) that is under the target proves the machine's is too
    cpu_known = cpu is not None and (not h.bound or cpu < CPU_TARGET_PCT)
    evidence = (("target CPU not measured" if cpu is None else
                 f"target CPU p95 {cpu:.0f}% of {h.cpu_scope}") + f" (under {CPU_TARGET_PCT:.0f}%), "
                + (f"memory p95 {memory:.0f}%" if memory is not None else "memory not measured")
                + f" (under {MEMORY_TARGET_PCT:.0f}%), {samples} samples over the load"
                + (f"; {h.thread_note}" if h.thread_note else ""))
    over = (cpu_known and cpu is not None and cpu >= CPU_TARGET_PCT) or (
        memory is not None and memory >= MEMORY_TARGET_PCT) or h.thread_saturated
    if over or (cpu_known and memory is not None):
        return (Status.FAIL if over else Status.PASS), evidence
    return Status.INCONCLUSIVE, evidence


def _impact_effort(d: Driven, a: Analysed) -> tuple[Status, str]:
    if not d.spec.hypotheses:
        return Status.NOT_RUN, "no hypotheses in the spec"
    return Status.PASS, f"{len(d.spec.hypotheses)} optimizations with effort and impact"


def _ranked(d: Driven, a: Analysed) -> tuple[Status, str]:
    if not a.priorities:
        return Status.NOT_RUN, "nothing to rank"
    quick = [p.id for p in a.priorities if p.quick_win]
    return Status.PASS, f"ranked by ROI; quick wins: {', '.join(quick) or 'none'}"


def _hypotheses(d: Driven, a: Analysed) -> tuple[Status, str]:
    if not d.spec.hypotheses:
        return Status.NOT_RUN, "no hypotheses in the spec"
    return Status.PASS, ", ".join(f"{h.id}: {h.expect.metric}" for h in d.spec.hypotheses)


def _measured(d: Driven, a: Analysed) -> tuple[Status, str]:
    if not d.hypotheses:
        return Status.NOT_RUN, "no hypothesis measured before/after"
    verdicts = [str(v.verdict) for v in d.hypotheses]
    if "INVALID" in verdicts:
        return Status.INVALID, "a before/after run was invalid"
    return Status.PASS, ", ".join(f"{v.id}: {v.verdict}" for v in d.hypotheses)


def _regression_checks(d: Driven, a: Analysed) -> tuple[Status, str]:
    confirmed = [v.id for v in d.hypotheses if str(v.verdict) == "CONFIRMED"]
    if not confirmed:
        return Status.NOT_RUN, "no confirmed optimization yet"
    return Status.PASS, f"kept as regression checks: {', '.join(confirmed)}"


def _profile_passed(kind: RoleKind) -> Check:
    def check(d: Driven, a: Analysed) -> tuple[Status, str]:
        runs = d.runs_of(kind)
        if not runs:
            return Status.NOT_RUN, f"no {kind} run"
        failed = load_failures(kind, runs, d.soak, d.spike)
        if failed:  # the sentences the flow messages and actions carry
            invalid = any(not r.validity.valid for r in runs)
            return Status.INVALID if invalid else Status.FAIL, "; ".join(failed)
        unsure = _undecided(d, kind)
        if unsure:
            return Status.INCONCLUSIVE, unsure
        return Status.PASS, f"{len(runs)} {kind} run(s), {sum(r.requests for r in runs)} requests"
    return check


def _undecided(d: Driven, kind: RoleKind) -> str:
    """Why the runs of ``kind`` cannot pass: partial evidence or an undecided analysis."""
    stopped = next((r for r in d.runs_of(kind) if r.aborted), None)
    if stopped is not None:
        return f"partial evidence: {kind} {partial_reason(stopped)}"
    if kind == "soak" and d.soak is not None and d.soak.leak.verdict != "NO_LEAK":
        return d.soak.leak.message
    analysis = {"stress": d.stress, "spike": d.spike}.get(kind)
    if analysis is not None and analysis.partial:
        return f"partial evidence: {kind} {analysis.partial_reason}"
    return ""


def _budget_tracked(d: Driven, a: Analysed) -> tuple[Status, str]:
    if not a.budgets:
        return Status.NOT_RUN, "no error budget measured"
    return Status.PASS, "; ".join(f"{b.slo}: {b.burn_rate:.2f}x ({b.count_text})"
                                  for b in a.budgets)


def _production_compliance(d: Driven, a: Analysed) -> tuple[Status, str]:
    """From Prometheus when the spec has a production: block (engine.production), else MANUAL."""
    from engine.production.findings import compliance_criterion

    status, evidence = compliance_criterion(a.production)
    return Status(status), evidence


def _alerts_configured(d: Driven, a: Analysed) -> tuple[Status, str]:
    """The burn-rate page alerts Prometheus has loaded for the production SLOs, else MANUAL."""
    from engine.production.findings import alerts_criterion

    status, evidence = alerts_criterion(a.production)
    return Status(status), evidence


CRITERIA: tuple[tuple[int, str, Check | None], ...] = (
    (1, "SLIs defined (latency, throughput, error rate, availability)", _slis_defined),
    (1, "SLO targets set with percentiles", _percentile_targets),
    (1, "Error budgets defined (1 - SLO target)", _budgets),
    (1, "Baseline metrics measured", _baseline_measured),
    (1, "Baseline metrics collected for at least 7 days", _seven_days),
    (2, "Target profiled under load (CPU, memory, I/O)", _profiled),
    (2, "Traces analysed (Server-Timing breakdown)", _traces),
    (2, "Capacity limit found (stress test)", _capacity_limit),
    (2, "Top 3-5 bottlenecks identified with evidence", _bottlenecks),
    (2, "Resource targets met (CPU < 70%, memory < 80%)", _resource_targets),
    (3, "Impact and effort estimated per optimization", _impact_effort),
    (3, "Ranked by ROI, quick wins identified", _ranked),
    (3, "Priorities agreed with stakeholders", None),
    (4, "Each optimization has a measurable hypothesis", _hypotheses),
    (4, "Before/after measured", _measured),
    (4, "Code reviewed and tested", None),
    (4, "Confirmed optimizations kept as regression checks", _regression_checks),
    (5, "Baseline load test passed", _profile_passed("baseline")),
    (5, "Stress test run", _profile_passed("stress")),
    (5, "Soak test passed (no leak, no degradation)", _profile_passed("soak")),
    (5, "Spike test passed (recovered)", _profile_passed("spike")),
    (5, "Capacity test run", _profile_passed("capacity")),
    (6, "Error budget and burn rate tracked", _budget_tracked),
    (6, "SLO compliance over 7-14 days of production metrics", _production_compliance),
    (6, "Alerts on regression configured", _alerts_configured),
)


def evaluate_checklist(driven: Driven, analysed: Analysed) -> tuple[CheckItem, ...]:
    """Every criterion with its status and evidence."""
    items = []
    for step, criterion, check in CRITERIA:
        if check is None:
            status, evidence = Status.MANUAL, "needs a person to confirm"
        else:
            status, evidence = check(driven, analysed)
        items.append(CheckItem(step, STEPS[step], criterion, status, evidence))
    return tuple(items)
