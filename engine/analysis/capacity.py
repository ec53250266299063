"""Capacity: the baseline rate times multipliers (default 3x, 5x, 10x).

For each multiplier: the SLO verdict (the caller's check, and the run must be
valid: an invalid run never passes), utilization (target CPU, percent of one
core) and, when the spec gives the target's cost per hour, the cost per
transaction = instances x cost_per_hour / (ok responses per second x 3600), where
instances is what that load needs with every instance under the flow's 70% CPU
target at the point's measured CPU per request, and with a thread the point saturated
under it too (engine/analysis/money.py): a flat
hourly cost divided by throughput would make every transaction cheaper the harder one
instance is pushed, whatever it takes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.analysis.metrics import latency_value, merged_response, metric_value
from engine.analysis.money import cpu_per_request, instances_for, thread_capacity
from engine.analysis.resources import run_headroom, summarize_run
from engine.result import RunResult

__all__ = ["DEFAULT_MULTIPLIERS", "CapacityAnalysis", "CapacityPoint", "analyse_capacity",
           "cost_per_transaction", "run_capacity"]

DEFAULT_MULTIPLIERS = (3.0, 5.0, 10.0)
CONDITION = ("each point: the spec's SLOs hold on a valid run; the stress breaking point also "
             "counts its stop_when limits and a target that does not keep up")


def cost_per_transaction(cost_per_hour: float | None, ok_per_s: float,
                         instances: int = 1) -> float | None:
    """Cost of one successful transaction, in the unit of ``cost_per_hour``, when
    ``instances`` serve ``ok_per_s``; None when no cost is given or nothing succeeded."""
    if cost_per_hour is None or ok_per_s <= 0:
        return None
    return instances * cost_per_hour / (ok_per_s * 3600.0)


def instances_needed(run: RunResult, ok_per_s: float, cores: int | None = None) -> int:
    """Instances of ``cores`` cores (default this machine's) that ``ok_per_s`` needs under
    the 70% CPU target at the run's CPU per request, and with a thread the run saturated
    under it too (a single-threaded server FAILs the checklist's resource row at any share
    of the machine, so one instance does not carry that load); 1 when the run was not
    profiled."""
    per_request = cpu_per_request([run])
    if per_request is None or ok_per_s <= 0:
        return 1
    return instances_for(ok_per_s, per_request, cores or os.cpu_count() or 1,
                         thread_capacity([run]))


@dataclass(frozen=True)
class CapacityPoint:
    """One multiplier's run. Latency in seconds, CPU in percent of one core."""

    multiplier: float
    rate: float
    achieved_rate: float
    throughput: float
    """Ok responses per second."""
    p95_s: float | None
    p99_s: float | None
    error_rate: float
    slo_pass: bool
    valid: bool
    cpu_pct: float | None
    cost_per_transaction: float | None
    instances: int = 1
    """Instances this load needs under the 70% CPU target (the cost's multiplier)."""
    cpu_p95_pct: float | None = None
    """The target's CPU p95 as the run's Resources row states it (``run_headroom``, in its
    ``cpu_scope``): the CPU the report shows. ``cpu_pct`` (mean, % of one core) is the
    analysis' input."""

    @property
    def cost_per_million(self) -> float | None:
        cpt = self.cost_per_transaction
        return None if cpt is None else cpt * 1e6

    def to_doc(self) -> dict[str, object]:
        """The report's capacity point (plus throughput, p99, valid, cost_per_transaction)."""
        return {"multiplier": self.multiplier, "rate": self.rate,
                "achieved_rate": self.achieved_rate, "p95": self.p95_s,
                "error_rate": self.error_rate, "slo_pass": self.slo_pass,
                "cpu_pct": self.cpu_pct, "cpu_p95_pct": self.cpu_p95_pct,
                "cost_per_million": self.cost_per_million,
                "throughput": self.throughput, "p99": self.p99_s, "valid": self.valid,
                "cost_per_transaction": self.cost_per_transaction, "instances": self.instances}


@dataclass(frozen=True)
class CapacityAnalysis:
    """Capacity points in multiplier order."""

    base_rate: float
    cost_per_hour: float | None
    points: tuple[CapacityPoint, ...]

    @property
    def max_passing_multiplier(self) -> float | None:
        """The largest multiplier up to which every point passed, or None."""
        best = None
        for p in sorted(self.points, key=lambda p: p.multiplier):
            if not p.slo_pass:
                break
            best = p.multiplier
        return best

    @property
    def message(self) -> str:
        best = self.max_passing_multiplier
        if best is None:
            said = f"SLOs not met at any tested multiple of {self.base_rate:g}/s"
        else:
            said = f"SLOs met up to {best:g}x the baseline ({best * self.base_rate:g}/s)"
        return f"{said} ({CONDITION})"

    def to_doc(self) -> dict[str, object]:
        """The report's ``Capacity`` object (plus base_rate and message)."""
        return {"cost_per_hour": self.cost_per_hour, "base_rate": self.base_rate,
                "points": [p.to_doc() for p in self.points], "message": self.message}


def _point(run: RunResult, multiplier: float, rate: float, slo_ok: bool,
           cost_per_hour: float | None) -> CapacityPoint:
    # one merged histogram for both percentiles (latency_value: None when it is empty)
    hist = merged_response(run) if run.journeys else None
    p95, p99 = (None, None) if hist is None else (latency_value(hist, "p95"),
                                                  latency_value(hist, "p99"))
    throughput = metric_value(run, "throughput") or 0.0
    instances = instances_needed(run, throughput)
    return CapacityPoint(
        multiplier, rate, run.validity.achieved_rate, throughput, p95, p99,
        run.error_rate, slo_ok and run.validity.valid, run.validity.valid,
        summarize_run(run).cpu_pct_mean,
        cost_per_transaction(cost_per_hour, throughput, instances), instances,
        run_headroom(run).cpu_pct,
    )


def analyse_capacity(runs: Sequence[RunResult], multipliers: Sequence[float], base_rate: float,
                     slo_ok: Callable[[RunResult], bool],
                     cost_per_hour: float | None = None) -> CapacityAnalysis:
    """Pair each run with its multiplier (same order) into a :class:`CapacityAnalysis`."""
    points = tuple(_point(run, m, base_rate * m, slo_ok(run), cost_per_hour)
                   for run, m in zip(runs, multipliers, strict=False))
    return CapacityAnalysis(base_rate, cost_per_hour, points)


def run_capacity(base_rate: float, multipliers: Sequence[float],
                 run_step: Callable[[float, float], RunResult],
                 slo_ok: Callable[[RunResult], bool], cost_per_hour: float | None = None, *,
                 duration_s: float = 60.0, deadline_s: float | None = None) -> CapacityAnalysis:
    """Run ``run_step(base_rate x m, duration_s)`` for each multiplier (ascending; default
    3, 5, 10) and analyse. Stops early when ``deadline_s`` (wall seconds from now) would
    be passed, or on a Ctrl-C (KeyboardInterrupt from ``run_step``); the points not run are
    absent."""
    if base_rate <= 0:
        raise ValueError(f"capacity needs a baseline rate > 0, got {base_rate!r}")
    ms = sorted(multipliers or DEFAULT_MULTIPLIERS)
    end = None if deadline_s is None else time.monotonic() + deadline_s
    runs: list[RunResult] = []
    for m in ms:
        if end is not None and time.monotonic() + duration_s > end:
            break
        try:
            runs.append(run_step(base_rate * m, duration_s))
        except KeyboardInterrupt:  # a Ctrl-C keeps the points measured so far, as stress does
            break
    return analyse_capacity(runs, ms[:len(runs)], base_rate, slo_ok, cost_per_hour)
