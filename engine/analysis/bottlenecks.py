"""Bottlenecks: the top 3-5 causes of latency, ranked, with evidence and a fix type.

Time is accounted per journey: a journey's *total time* is its responses times
its mean response time, and the *share* of a bottleneck is the time it
explains over the total time of every journey. Each journey's time is split by
its Server-Timing components (see :mod:`engine.analysis.servertiming`):

- a database component (db, sql, query, ...) -> ``database``, fix ``database``;
- a cache component -> ``dependency``, fix ``caching``;
- the handler's own time (app, total, ...) -> ``cpu``, fix ``algorithm`` when the
  target's CPU accounts for it (busy CPU seconds >= 15% of the on-CPU candidate
  time, or the target near a full core), else ``dependency`` / ``async``
  (the handler waits on something it does not report);
- any other component (ext, api, auth, ...) -> ``dependency``, fix ``async``.

Time the server did not report (queueing, network) is a ``queueing`` candidate
with its own share (a component's share is only its reported time, so one
journey's shares sum to at most 100%). When an on-CPU candidate (cpu, database)
exists, the requests likely queue behind it: the queueing candidate is listed
right after that cause, whatever its share, and carries the cause's fix, so the
first bottleneck is the thing to change. Journeys without Server-Timing are one candidate each.
Error-heavy journeys (>= 1% errors) rank by their share of requests. A target
whose RSS leaks (the soak verdict, over the longest sampled run) is a ``memory``
bottleneck with no latency share. A stress analysis adds its knee and breaking
point to the candidate of the same kind (or names its limiting resource).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from engine.analysis.bottleneck_model import Bottleneck, Candidate
from engine.analysis.profile import ProfileAnalysis, hot_evidence
from engine.analysis.resources import ResourceSummary, summarize_run
from engine.analysis.servertiming import (
    ENCLOSING_NAMES,
    JourneyBreakdown,
    breakdown,
    breakdown_run,
    merge_journeys,
)
from engine.analysis.soak import SoakAnalysis, analyse_soak
from engine.analysis.traces import TraceAnalysis, trace_findings
from engine.result import RunResult

if TYPE_CHECKING:
    from engine.analysis.stress import StressAnalysis

__all__ = ["Bottleneck", "component_kind", "find_bottlenecks", "limiting_resource"]

DB_NAMES = ("db", "sql", "database", "query", "queries", "postgres", "pg", "mysql", "sqlite",
            "mongo", "orm")
CACHE_NAMES = ("cache", "redis", "memcache", "memcached")
APP_NAMES = (*ENCLOSING_NAMES, "cpu", "compute", "render", "handler", "python", "view")
CPU_HOT_PCT = 85.0
MACHINE_HOT_PCT = 90.0
MEM_HOT_PCT = 90.0
IO_HOT_BPS = 50 * 2**20
ERROR_RATE_MIN = 0.01
MIN_SHARE = 0.02
MIN_COMPONENT_SHARE = 0.10
ON_CPU_AT_LEAST = 0.15
"""Handler time counts as CPU when the target's CPU seconds cover >= 15% of on-CPU candidate
time. A handler that really waits (sleeps, sockets) is near 0%; a CPU-bound one on a machine
whose cores are shared with the generator and others reads 30-60%, as it waits to run."""
POOLING_BELOW = 0.08
SUGGESTION = {"database": "database", "cpu": "algorithm", "dependency": "async",
              "queueing": "async"}


def component_kind(name: str) -> str:
    """database, cache, app or dependency for a Server-Timing component name."""
    low = name.lower()
    if low in DB_NAMES or low.startswith(("db", "sql")):
        return "database"
    if low in CACHE_NAMES:
        return "cache"
    return "app" if low in APP_NAMES else "dependency"


# --- limiting resource (a single run, e.g. a stress step at the limit) -------------

def _server_split(bds: Sequence[JourneyBreakdown]) -> dict[str, float]:
    """Component -> seconds of server time over all responses of all journeys."""
    out: dict[str, float] = {}
    for b in bds:
        for c in b.components:
            out[c.component] = out.get(c.component, 0.0) + c.contribution_s * b.responses
    return out


def _resource_evidence(res: ResourceSummary) -> list[str]:
    out = []
    if res.cpu_pct_mean is not None:
        out.append(f"target CPU {res.cpu_pct_mean:.0f}% of one core (p90 {res.cpu_pct_p90:.0f}%)")
    if res.sys_cpu_pct_mean is not None and res.sys_cpu_pct_mean >= MACHINE_HOT_PCT:
        out.append(f"machine CPU {res.sys_cpu_pct_mean:.0f}%: generator and target share cores")
    return out


def _by_resources(res: ResourceSummary) -> str | None:
    if res.cpu_pct_mean is not None and res.cpu_pct_mean >= CPU_HOT_PCT:
        return "cpu"
    if res.sys_mem_pct_max is not None and res.sys_mem_pct_max >= MEM_HOT_PCT:
        return "memory"
    if res.io_bytes_per_s is not None and res.io_bytes_per_s >= IO_HOT_BPS:
        return "io"
    if res.sys_cpu_pct_mean is not None and res.sys_cpu_pct_mean >= MACHINE_HOT_PCT:
        return "cpu"  # the last resort: the cores are full, whoever fills them
    return None


def limiting_resource(run: RunResult) -> tuple[str | None, list[str]]:
    """The resource at its limit in ``run`` and the evidence: a Server-Timing component
    holding >= 50% of server time names it (database, dependency, or for the handler's
    own time cpu when the target's CPU covers it, see ``_classify``); else target CPU >= 85% of a core or the
    machine's CPU >= 90% (cpu), memory >= 90% (memory), disk >= 50 MiB/s (io)."""
    res = summarize_run(run)
    evidence = _resource_evidence(res)
    split = _server_split(breakdown_run(run))
    total = sum(split.values())
    if total > 0:
        top = max(split, key=lambda k: split[k])
        share = split[top] / total
        evidence.append(f"{top} is {share:.0%} of server time")
        if share >= 0.5:
            kind = component_kind(top)
            if kind == "app":
                verdict, _, why = _classify(top, _ctx([run], breakdown_run(run)))
                return verdict, evidence + why
            return ("database" if kind == "database" else "dependency"), evidence
    return _by_resources(res), evidence


# --- bottlenecks over runs -------------------------------------------------------

@dataclass(frozen=True)
class _Ctx:
    """Run-wide facts the per-journey classification needs."""

    total_s: float
    busy_s: float | None
    """Target CPU seconds over the runs (None without samples, or when a run's CPU went
    unread: a remote target's scrape gap is no 0%)."""
    cpu_hot: bool
    on_cpu_s: float
    """Server time of components that may run on the CPU (app, db, cache)."""

    @property
    def on_cpu_fraction(self) -> float | None:
        if self.busy_s is None or self.on_cpu_s <= 0:
            return None
        return min(1.0, self.busy_s / self.on_cpu_s)


def _ctx(runs: Sequence[RunResult], bds: Sequence[JourneyBreakdown]) -> _Ctx:
    total = sum(b.total_s for b in bds)
    with_res = [r for r in runs if r.resources]
    sums = [summarize_run(r) for r in with_res]
    cpu_s = [s.cpu_pct_mean / 100 * r.duration_s for s, r in zip(sums, with_res, strict=True)
             if s.cpu_pct_mean is not None]  # a run with no CPU reading: unknown, not 0%
    busy = sum(cpu_s) if sums and len(cpu_s) == len(sums) else None
    # only the target's own CPU: a machine busy with other work says nothing about it
    hot = any(s.cpu_pct_mean is not None and s.cpu_pct_mean >= CPU_HOT_PCT for s in sums)
    on_cpu = sum(c.contribution_s * b.responses for b in bds for c in b.components
                 if component_kind(c.component) != "dependency")
    return _Ctx(total, busy, hot, on_cpu)


def _classify(component: str, ctx: _Ctx) -> tuple[str, str | None, list[str]]:
    """(kind, suggestion, evidence) for time spent in ``component``."""
    kind = component_kind(component)
    frac = ctx.on_cpu_fraction
    if kind == "database":
        if frac is not None and frac < POOLING_BELOW and not ctx.cpu_hot:
            return "database", "pooling", [f"the target's CPU covers only {frac:.0%} of "
                                           "server time: database time is mostly waiting"]
        return "database", "database", []
    if kind == "cache":
        return "dependency", "caching", []
    if kind == "app":
        if frac is None:
            return "cpu", "algorithm", ["no target CPU samples: handler time assumed on-CPU"]
        if ctx.cpu_hot or frac >= ON_CPU_AT_LEAST:
            return "cpu", "algorithm", [f"target CPU accounts for {frac:.0%} of on-CPU "
                                        "server time"]
        return "dependency", "async", [f"target CPU covers only {frac:.0%} of handler time: "
                                       "the handler waits on something it does not report"]
    return "dependency", "async", []


def _journey_cands(b: JourneyBreakdown, ctx: _Ctx) -> list[Candidate]:
    jt = b.total_s
    head = (f"{b.journey} is {jt / ctx.total_s:.0%} of total latency ({b.responses} responses "
            f"x {b.response_mean_s * 1000:.1f} ms mean)") if ctx.total_s > 0 else ""
    if not b.components:
        kind = "cpu" if ctx.cpu_hot else "dependency"
        return [Candidate(f"{b.journey} (no Server-Timing breakdown)", kind, jt, (b.journey,),
                          (head, "the server sends no Server-Timing: cause not broken down"),
                          None)]
    out = []
    for c in b.components:
        if c.share < MIN_COMPONENT_SHARE and c is not b.dominant:
            continue
        kind, suggestion, why = _classify(c.component, ctx)
        ev = (f"{c.describe()} (Server-Timing)", head, *why)
        out.append(Candidate(f"{c.component} time in {b.journey}", kind,
                             c.contribution_s * b.responses, (b.journey,), ev, suggestion,
                             c.component))
    return out


def _queueing(bds: Sequence[JourneyBreakdown], cands: list[Candidate], total: float) -> list[Candidate]:
    """Unreported time is its own candidate with its own share (a component's share stays its
    reported time, so one journey's shares sum to at most 100%); the on-CPU candidates it
    likely queued behind say so in their evidence."""
    waits = {b.journey: b.unaccounted_share * b.total_s
             for b in bds if b.components}
    wait = sum(waits.values())
    if wait <= 0 or total <= 0:
        return cands
    # the largest on-CPU candidate that is ranked at all (MIN_SHARE): a single-threaded server
    # queues behind all its work; the first in journey order named a 6% cause beside a 14%
    # one, and a cause under MIN_SHARE was named but never listed
    causes = sorted((c for c in cands if c.kind in ("cpu", "database")
                     and c.time_s >= MIN_SHARE * total), key=lambda c: -c.time_s)
    hit = tuple(j for j, w in waits.items() if w >= 0.2 * wait)
    behind = f"; likely queueing behind {causes[0].name}" if causes else ""
    cause = causes[0] if causes else None
    queue = Candidate("queueing outside the handlers", "queueing", wait, hit,
                      (f"{wait / total:.0%} of total latency is outside the server's handlers "
                       f"(queueing, network: time the server did not report){behind}",),
                      cause.suggestion if cause else "async", behind=cause.name if cause else "")
    if causes:
        note = "requests queue behind it: see 'queueing outside the handlers'"
        cands = [replace(c, evidence=(*c.evidence, note)) if c is causes[0] else c
                 for c in cands]
    return [*cands, queue]


def _error_cands(journeys: Sequence[tuple[str, int, int]], total_requests: int) -> list[Candidate]:
    out = []
    for name, requests, errors in journeys:
        if requests and errors / requests >= ERROR_RATE_MIN:
            out.append(Candidate(f"errors in {name}", "errors", 0.0, (name,),
                                 (f"{errors / requests:.1%} of {name}'s {requests} requests "
                                  "failed",), None, share=errors / max(total_requests, 1)))
    return out


def _stress_note(cands: list[Candidate], stress: StressAnalysis | None) -> list[Candidate]:
    if stress is None or not stress.broke or stress.limiting_resource is None:
        return cands
    note = f"stress: {stress.message}"
    if stress.knee_text:
        note += f"; {stress.knee_text}"
    matching = [c for c in cands if c.kind == stress.limiting_resource]
    if not matching:
        return [*cands, Candidate(f"{stress.limiting_resource} at the breaking point",
                                  stress.limiting_resource, 0.0, (), (note, *stress.evidence),
                                  SUGGESTION.get(stress.limiting_resource))]
    best = max(matching, key=lambda c: c.time_s)
    return [replace(c, evidence=(*c.evidence, note)) if c is best else c for c in cands]


def _memory_cands(runs: Sequence[RunResult], soak: SoakAnalysis | None) -> list[Candidate]:
    """A target whose RSS leaks, by the soak analysis' own verdict: the soak run's when one
    ran, else that of the longest sampled run (one leak rule, one warm-up rule)."""
    if soak is None:
        sampled = sorted((r for r in runs if r.resources), key=lambda r: -r.duration_s)
        if not sampled:
            return []
        soak = analyse_soak(sampled[0])
    fit = next((f for f in soak.fits if f.metric == "rss_bytes"), None)
    if fit is None or fit.verdict != "LEAK" or fit.slope_per_s is None:
        return []
    mb = 2**20
    return [Candidate("memory growth in the target", "memory", 0.0, (),
                      (f"RSS grows {fit.slope_per_s / mb:.2f} MiB/s (95% CI "
                       f"{(fit.ci_low or 0.0) / mb:.2f}-{(fit.ci_high or 0.0) / mb:.2f}) over "
                       f"{soak.duration_s:.0f} s of load",), None)]


def _traced(cands: list[Candidate], bds: Sequence[JourneyBreakdown],
            traces: TraceAnalysis | None) -> list[Candidate]:
    """A journey with spans (engine.analysis.traces) is split by them, not Server-Timing."""
    for b in bds:
        found = trace_findings(traces, b.journey)
        if found:
            cands = [c for c in cands if c.journeys != (b.journey,)] + [
                Candidate(name, kind, share * b.total_s, (b.journey,), ev, fix, name)
                for name, kind, share, ev, fix in found]
    return cands


def _profiled(cands: list[Candidate], profile: ProfileAnalysis | None) -> list[Candidate]:
    """The largest cpu candidate names the profile's hot function (engine.analysis.profile)."""
    line, cpu = hot_evidence(profile), [c for c in cands if c.kind == "cpu"]
    if not line or not cpu:
        return cands
    best = max(cpu, key=lambda c: c.time_s)
    return [replace(c, evidence=(*c.evidence, line)) if c is best else c for c in cands]


def find_bottlenecks(runs: Sequence[RunResult], stress: StressAnalysis | None = None, *,
                     soak: SoakAnalysis | None = None, top: int = 5,
                     traces: TraceAnalysis | None = None,
                     profile: ProfileAnalysis | None = None) -> list[Bottleneck]:
    """The ``top`` (3-5 by default at most 5) bottlenecks over ``runs``, largest share first
    (a queueing candidate right after the cause it queues behind).

    Candidates explaining under 2% of total latency are dropped, so fewer may return.
    """
    used = [r for r in runs if r.requests]
    journeys = merge_journeys(used)
    bds = [breakdown(j) for j in journeys if j.response.total_count]
    ctx = _ctx(used, bds)
    cands = _profiled(_traced([c for b in bds for c in _journey_cands(b, ctx)], bds, traces),
                      profile)
    cands = _queueing(bds, cands, ctx.total_s)
    total_requests = sum(j.requests for j in journeys)
    cands += _error_cands([(j.name, j.requests, j.errors) for j in journeys], total_requests)
    cands = _stress_note(cands + _memory_cands(used, soak), stress)
    ranked = _causes_first(sorted(cands, key=lambda c: -_share(c, ctx.total_s)))
    # a resource named only by the stress run has no latency share but still counts
    kept = [c for c in ranked if _share(c, ctx.total_s) >= MIN_SHARE
            or (c.time_s == 0.0 and c.share is None)]
    return [Bottleneck(i + 1, c.name, c.kind, _share(c, ctx.total_s), c.journeys,
                       tuple(e for e in c.evidence if e), c.suggestion, c.component, c.time_s,
                       c.behind) for i, c in enumerate(kept[:top])]


def _causes_first(ranked: list[Candidate]) -> list[Candidate]:
    """Queueing behind a named candidate is its symptom: it is listed right after its cause
    (with its own share), so the first bottleneck is the thing to fix."""
    out: list[Candidate] = []
    for c in ranked:
        if c.behind and c not in out:
            continue
        if c not in out:
            out.append(c)
        out += [q for q in ranked if q.behind == c.name and q not in out]
    return out + [c for c in ranked if c not in out]


def _share(c: Candidate, total: float) -> float:
    if c.share is not None:
        return c.share
    return c.time_s / total if total > 0 else 0.0
