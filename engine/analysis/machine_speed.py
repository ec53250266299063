"""Whether this machine itself ran slower during the current run than during the baseline
runs (issue #14).

On a shared VM the same code sometimes runs ~1.7x slower for seconds at a time, with no
busier neighbour process to show for it (engine.analysis.host_load sees none) and flat
steal time: an A-vs-A regression gate then FAILs and the reader blames the code. The
resource sampler's thread times a fixed piece of work in its own thread CPU time during
every run (engine.target.speed_probe, ``RunResult.extra['machine_speed']``); this module
compares the current run's median probe time with the baseline runs' and says so beside
the verdict when the machine was clearly slower, and, where the target reports
Server-Timing, whether its own work showed it (a probe that read slower while the target's
main component did not is not the target's machine: ``MachineSpeed.unfelt``). The figure
never changes a verdict by itself: apply measures a primary run once more when the gate
would not pass it on a slower machine (engine.history.record.remeasure) and judges the
second run, whatever it shows, so a real regression measured on a slow machine is still
not a pass.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.analysis.bottlenecks import component_kind
from engine.analysis.resources import measured_here
from engine.analysis.servertiming import enclosing_name
from engine.result import RunResult

__all__ = [
    "MACHINE_SPEED",
    "MAIN_SHARE",
    "MEASURED_AGAIN",
    "PROBE_ROWS",
    "PROBE_WORK",
    "REACHED",
    "SLOWER_BY",
    "MachineSpeed",
    "TargetWork",
    "component_p50_ns",
    "machine_speed",
    "main_component",
    "measured_again",
    "probe_ns",
    "probe_work",
    "same_host",
    "target_work",
]

MACHINE_SPEED = "machine_speed"
"""The ``RunResult.extra`` key of a run's probe summary, {median_ns, p90_ns, probes, work}
(engine.target.session stores it; the history keeps it)."""
MEASURED_AGAIN = "measured_again"
"""The ``RunResult.extra`` key of a run that measured its profile a second time because the
first met a disturbed machine (engine.drive._judged_run): why, in words. The history keeps
it, so ``compare`` judges the stored run as apply did (engine.analysis.regression.
judge_regression: a second FAIL on a machine still disturbed is INVALID)."""
MAIN_SHARE = 0.10
"""The share of the target's reported time its main component must hold to speak for the
target's work (``main_component``): a handler whose time is all downstream waits has none."""
REACHED = 0.10
"""The share of the probe's slowdown the target's own timed work must show for a slower
machine to count as the target's (``MachineSpeed.slower``). Measured: over 32 baseline
runs of six A-vs-A series of the demo, the log of its main component's median moved with
the log of the probe's at a slope of 0.18 (correlation 0.37), and the run's p50 with
that component at 1.01 (benchmarks/calibrate.py; a later, noisier history read 0.12). About
half the measured slope leaves room for the component's own
noise, as the first value (0.5, half of an assumed slope of 1) meant to; at 0.5 a probe
117% slower with the demo's db time +19% and p50 +41% on the same commit was said not to
reach the target."""
PROBE_ROWS = 20_000
"""Rows engine.target.speed_probe scans per probe by default: ~0.7 ms of one core on the dev VM."""


def probe_work(rows: int) -> str:
    """The name a probe of ``rows`` rows writes in its summary (``work``)."""
    return f"sqlite-scan-{rows}"


PROBE_WORK = probe_work(PROBE_ROWS)
"""The work whose times are compared; runs that timed other work (another row count, or the
numpy sort of the first version) give no figure."""
SLOWER_BY = 0.20
"""A current median probe time this much above the baseline runs' median is worth saying:
above the spread of whole-run medians on a quiet machine (docs/STATISTICS.md), well under
the ~1.7x episodes that made A-vs-A gates fail."""


def probe_ns(run: RunResult) -> float | None:
    """The median thread CPU time (ns) of the machine-speed probes during ``run``; None for
    a run without probes (recorded before the probe existed, or a target that is not a local
    process), for probes of other work than ``PROBE_WORK``, and, by host_load's rule
    (``measured_here``), for a scale-out run or a remote target's samples."""
    doc = run.extra.get(MACHINE_SPEED)
    if not isinstance(doc, Mapping) or doc.get("work") != PROBE_WORK or not measured_here(run):
        return None
    median, probes = doc.get("median_ns"), doc.get("probes")
    if not isinstance(median, int | float) or not isinstance(probes, int) or probes < 1:
        return None
    return float(median) if median > 0 else None


@dataclass(frozen=True)
class TargetWork:
    """The target's own timed work by its Server-Timing (``target_work``): the median of its
    main component, ns, in the current runs and in the baseline runs."""

    component: str
    current_ns: float
    baseline_ns: float

    @property
    def change(self) -> float:
        """How much longer the component took now, as a fraction."""
        return self.current_ns / self.baseline_ns - 1.0

    def to_doc(self) -> dict[str, Any]:
        return {"component": self.component, "current_ns": round(self.current_ns),
                "baseline_ns": round(self.baseline_ns), "change": round(self.change, 4)}


@dataclass(frozen=True)
class MachineSpeed:
    """Median probe times (ns): the current runs' and the baseline runs'; and the target's
    own timed work, when it reports Server-Timing on both sides."""

    current_ns: float
    baseline_ns: float
    target: TargetWork | None = None

    @property
    def slowdown(self) -> float:
        """How much longer the probe took now, as a fraction (+0.41 = 41% slower)."""
        return self.current_ns / self.baseline_ns - 1.0

    @property
    def probe_slower(self) -> bool:
        """The probe alone read the machine slower."""
        return self.current_ns >= self.baseline_ns * (1.0 + SLOWER_BY)  # no 0.19999 at 20%

    @property
    def unfelt(self) -> bool:
        """The probe read slower, but the target's own timed work did not: it changed by less
        than ``REACHED`` of the probe's slowdown, so the slower machine did not reach it."""
        return (self.probe_slower and self.target is not None
                and self.target.change < self.slowdown * REACHED)

    @property
    def slower(self) -> bool:
        """The machine was slower for the target: the probe read slower and the target's own
        work, where it reports any, showed it (not ``unfelt``)."""
        return self.probe_slower and not self.unfelt

    @property
    def why(self) -> str:
        """The clause for a message when ``slower`` ('' otherwise)."""
        if not self.slower:
            return ""
        return (f"the machine ran a fixed CPU probe {self.slowdown:.0%} slower than during the "
                "baseline runs")

    @property
    def note(self) -> str:
        """The sentence for the report when the probe read the machine slower, else ''."""
        if self.unfelt and self.target is not None:
            return (f"the machine's fixed CPU probe ran {self.slowdown:.0%} slower during this "
                    f"run than during the baseline runs, but the target's own "
                    f"{self.target.component} time (Server-Timing, median "
                    f"{_ms(self.target.current_ns)} vs {_ms(self.target.baseline_ns)}) changed "
                    f"{self.target.change:+.0%}: the slower machine did not reach the target's "
                    "work, so the machine does not explain this result")
        if not self.slower:
            return ""
        return (f"the machine was slower: it ran a fixed CPU probe {self.slowdown:.0%} slower "
                f"during this run than during the baseline runs ({_ms(self.current_ns)} vs "
                f"{_ms(self.baseline_ns)} median){self._felt()}; a slowdown here may be the "
                "machine's, not the code's (re-run to tell)")

    def _felt(self) -> str:
        if self.target is None:
            return ""
        return (f", and the target's own {self.target.component} time (Server-Timing) "
                f"{self.target.change:+.0%}")

    def to_doc(self) -> dict[str, Any]:
        return {"current_probe_ns": round(self.current_ns), "baseline_probe_ns":
                round(self.baseline_ns), "slowdown": round(self.slowdown, 4),
                "probe_slower": self.probe_slower, "slower": self.slower,
                "target": self.target.to_doc() if self.target is not None else None}


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.2f} ms"


def machine_speed(current: Sequence[RunResult],
                  baseline: Sequence[RunResult]) -> MachineSpeed | None:
    """The current runs' median probe time vs the baseline runs' (each side: the median of
    its runs' medians), with the target's own timed work (``target_work``); None when either
    side has no probes. A baseline run recorded on another host (``extra['host']``, when the
    current run's is known) is left out: another machine's speed says nothing about this
    one's."""
    here = same_host(current, baseline)
    now = [t for t in map(probe_ns, current) if t is not None]
    before = [t for t in map(probe_ns, here) if t is not None]
    if not now or not before:
        return None
    return MachineSpeed(statistics.median(now), statistics.median(before),
                        target_work(current, here))


def same_host(current: Sequence[RunResult],
              baseline: Sequence[RunResult]) -> list[RunResult]:
    """The ``baseline`` runs recorded on the current runs' host (``extra['host']``), or with
    no host recorded; all of them when the current host is not known."""
    host = next((r.extra["host"] for r in current if r.extra.get("host")), None)
    return [r for r in baseline if host is None or r.extra.get("host") in (None, host)]


def target_work(current: Sequence[RunResult],
                baseline: Sequence[RunResult]) -> TargetWork | None:
    """The target's main Server-Timing component (``main_component``) as the median over
    each side's runs of the run's median (journeys pooled); None when there is none, or a
    side reports none or a median of 0 (error responses' ``dur=0``)."""
    main = main_component(baseline)
    if main is None:
        return None
    now = [t for t in (component_p50_ns(r, main) for r in current) if t is not None]
    before = [t for t in (component_p50_ns(r, main) for r in baseline) if t is not None]
    if not now or not before or min(statistics.median(now), statistics.median(before)) <= 0:
        return None
    return TargetWork(main, statistics.median(now), statistics.median(before))


def main_component(runs: Sequence[RunResult]) -> str | None:
    """The component of the target's own work that holds the most of its reported time in
    ``runs``, at least ``MAIN_SHARE`` of it: not a downstream call (a wait a slower CPU does
    not lengthen: engine.analysis.bottlenecks.component_kind 'dependency'), and not the
    enclosing handler time (servertiming.enclosing_name), which holds the others and
    whatever else the code does, unless it is alone. None when no component qualifies: the
    probe alone decides then, as for a target without Server-Timing."""
    totals: dict[str, float] = {}
    for run in runs:
        for j in run.journeys:
            for name, h in j.server_timing.items():
                totals[name] = totals.get(name, 0.0) + float(h.mean) * int(h.total_count)
    outer = enclosing_name(totals)
    inner = {n: t for n, t in totals.items() if n != outer}
    reported = max(sum(inner.values()), totals[outer]) if outer else sum(totals.values())
    own = {n: t for n, t in inner.items() if component_kind(n) != "dependency"}
    if not own or reported <= 0:
        return None
    main = max(own, key=lambda n: own[n])
    return main if own[main] >= MAIN_SHARE * reported else None


def component_p50_ns(run: RunResult, name: str) -> float | None:
    """The median (ns) of Server-Timing component ``name`` over ``run``'s journeys."""
    parts = [j.server_timing[name] for j in run.journeys
             if name in j.server_timing and j.server_timing[name].total_count]
    if not parts:
        return None
    merged = parts[0].copy()
    for h in parts[1:]:
        merged.add(h)
    return float(merged.values_at_percentiles([50.0])[0])


def measured_again(current: Sequence[RunResult]) -> str:
    """Why the current run is a second measurement (``MEASURED_AGAIN``), or ''."""
    return next((str(r.extra[MEASURED_AGAIN]) for r in current if r.extra.get(MEASURED_AGAIN)),
                "")
