"""The failure-mode rules: each reads the stage records and returns the advice it finds.

Rules only compute; the report renders ``Advice`` (engine/advisor/model.py). Thresholds
are named here and documented in docs/ADVISOR.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from engine.advisor.model import Advice
from engine.analysis.bottlenecks import Bottleneck
from engine.analysis.evidence import short_evidence
from engine.records import Analysed, Driven
from engine.spec.model import Hypothesis, Journey, Spec

__all__ = ["RULES", "TOP_BOTTLENECKS", "advise"]

TOP_BOTTLENECKS = 5
"""A hypothesis should target one of this many top-ranked bottlenecks (the flow's 3-5)."""
REUSE_LIMIT = 10
"""A key drawn more often than this per distinct value (on average) warms caches unlike
production: the data set is too small for the load."""
MINOR_TRAFFIC = 0.05
"""A journey with less than this share of the mix is too little traffic to carry an SLO."""

KINDS_FOR_TYPE: dict[str, tuple[str, ...]] = {
    "database": ("database",),
    "caching": ("database", "dependency", "io", "cpu"),
    "algorithm": ("cpu",),
    "async": ("dependency", "queueing", "io", "network"),
    "api": ("network", "dependency", "errors"),
    "pooling": ("queueing", "database", "dependency"),
}
"""Bottleneck kinds each hypothesis type can relieve ('other' matches any)."""

_RAND = re.compile(r"\{rand:(-?\d+)-(-?\d+)\}")
_CSV = re.compile(r"\{csv:([A-Za-z0-9_\-]+)\.")


def advise(driven: Driven, analysed: Analysed) -> tuple[Advice, ...]:
    """Every rule's advice, in rule order."""
    return tuple(a for rule in RULES for a in rule(driven, analysed))


# -- premature optimization ------------------------------------------------------------
def premature(driven: Driven, analysed: Analysed) -> Iterator[Advice]:
    """A hypothesis with nothing ranked before it, or aimed away from the top bottlenecks."""
    top = analysed.bottlenecks[:TOP_BOTTLENECKS]
    for h in driven.spec.hypotheses:
        if not top:
            yield Advice("premature-optimization", h.id,
                         "no bottleneck was ranked with evidence in this run, so nothing "
                         f"shows that {h.type} work on {h.expect.journey or 'the service'} "
                         "is where the time goes")
            continue
        why = _off_target(h, top)
        if why:
            yield Advice("premature-optimization", h.id, why)


def _off_target(h: Hypothesis, ranked: tuple[Bottleneck, ...]) -> str:
    names = ", ".join(f"{b.name} ({b.share_text})" for b in ranked)
    journey = h.expect.journey
    if journey and not any(journey in b.journeys for b in ranked):
        return (f"it targets journey {journey!r}, which none of the top {len(ranked)} "
                f"bottlenecks involves ({names})")
    kinds = KINDS_FOR_TYPE.get(h.type)
    if kinds and not any(b.kind in kinds or b.suggestion == h.type for b in ranked):
        return (f"a {h.type} change relieves {'/'.join(kinds)} time, and none of the top "
                f"{len(ranked)} bottlenecks is of that kind ({names})")
    return ""


# -- optimization without measurement --------------------------------------------------
def unmeasured(driven: Driven, analysed: Analysed) -> Iterator[Advice]:
    """Hypotheses without a baseline in history, without an A/B result, or not kept."""
    spec = driven.spec
    if not spec.hypotheses:
        return
    selection = analysed.baseline_selection
    if not spec.history.enabled:
        yield Advice("unmeasured-optimization", spec.name,
                     "history is disabled: no baseline is kept and no confirmed change "
                     "stays guarded against regressions")
    elif selection is None or not selection.runs:
        yield Advice("unmeasured-optimization", spec.name,
                     "no earlier run of this spec is in the history: this run is the first "
                     "baseline, so nothing shows where the service started")
    measured = {v.id: v for v in driven.hypotheses}
    for h in spec.hypotheses:
        v = measured.get(h.id)
        if v is None or str(v.verdict) == "INVALID":
            why = "it was not measured" if v is None else f"its A/B runs were invalid: {v.message}"
            yield Advice("unmeasured-optimization", h.id, f"no A/B measurement: {why}")


# -- load test unlike production -------------------------------------------------------
def unlike_production(driven: Driven, analysed: Analysed) -> Iterator[Advice]:
    """Runs shorter than the flow's guidance; keys reused so often that caches stay warm."""
    durations: dict[str, float] = {}
    for e in driven.runs:
        if e.role.own:
            durations[e.run.kind] = min(e.run.duration_s, durations.get(e.run.kind, 1e18))
    for kind, seconds in durations.items():
        short = short_evidence(kind, seconds)
        if short:
            yield Advice("load-unlike-production", kind, short)
    yield from _small_data(driven)


def _small_data(driven: Driven) -> Iterator[Advice]:
    run = driven.primary
    if run is None:
        return
    for journey in driven.spec.journeys:
        result = run.journey(journey.name)
        space = key_space(journey, driven.spec)
        if result is None or space is None or result.requests <= REUSE_LIMIT * space:
            continue
        yield Advice("load-unlike-production", journey.name,
                     f"its templates draw from {space:,} distinct values and it sent "
                     f"{result.requests:,} requests ({result.requests / space:.0f} per value): "
                     "caches stay warm in a way production data would not allow")


def key_space(journey: Journey, spec: Spec) -> int | None:
    """The fewest distinct values any {rand:A-B} or {csv:NAME.COL} of the journey draws
    from (None when it has neither)."""
    sizes: list[int] = []
    rows = {d.name: d.path for d in spec.data}
    for step in journey.steps:
        text = " ".join([step.path, step.body or "", step.json or "", *step.headers.values()])
        sizes += [int(b) - int(a) + 1 for a, b in _RAND.findall(text) if int(b) >= int(a)]
        sizes += [n for name in _CSV.findall(text) if (n := _data_rows(rows.get(name)))]
    return min(sizes) if sizes else None


def _data_rows(path: str | None) -> int:
    """Data rows of a CSV file (lines after the header), 0 when unreadable."""
    if path is None:
        return 0
    try:
        with Path(path).open("rb") as fh:
            return max(0, sum(1 for line in fh if line.strip()) - 1)
    except OSError:
        return 0


# -- optimizing the wrong metric -------------------------------------------------------
def wrong_metric(driven: Driven, analysed: Analysed) -> Iterator[Advice]:
    """Throughput SLOs at a fixed arrival rate, mean-latency goals, SLOs on rare journeys."""
    spec, run = driven.spec, driven.primary
    for slo in spec.slos:
        if slo.sli.kind == "throughput" and run is not None and run.model == "open":
            yield Advice("wrong-metric", slo.name,
                         "a throughput objective measured at a fixed arrival rate passes "
                         "whenever the service keeps up with the schedule; measure capacity "
                         "with a stress or capacity profile instead")
        share = _mix_share(spec, slo.sli.journey)
        if slo.sli.kind == "latency" and share is not None and share < MINOR_TRAFFIC:
            yield Advice("wrong-metric", slo.name,
                         f"journey {slo.sli.journey!r} is {share:.1%} of the traffic mix: "
                         "its percentiles rest on few requests and move little for users")
    for h in spec.hypotheses:
        if h.expect.metric == "mean":
            yield Advice("wrong-metric", h.id,
                         "it judges mean latency, which hides the tail users feel; use "
                         "p95 or p99")


def _mix_share(spec: Spec, journey: str | None) -> float | None:
    total = sum(j.weight for j in spec.journeys if j.weight > 0)
    match = next((j for j in spec.journeys if j.name == journey), None)
    return None if journey is None or match is None or total <= 0 else match.weight / total


RULES: tuple[Callable[[Driven, Analysed], Iterable[Advice]], ...] = (
    premature, unmeasured, unlike_production, wrong_metric)
"""The rules in the order their advice is listed."""
