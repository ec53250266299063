"""ROI in money: instances needed for the production peak, and what each measured
optimization saves per month and how soon it pays back.

The capacity model is measured, not assumed: the target's CPU-seconds per successful
request (its resource samples over a run) say how many instances of ``cores`` cores the
``peak_rate`` needs with every instance under the flow's CPU target (70%). An
optimization's infrastructure saving is the instances its candidate side no longer
needs, at ``per_hour``; its business value is ``value_per_ms`` per millisecond of the
metric saved, or ``value_per_request`` per failure avoided at the peak rate. Every
figure carries the sentence of its inputs. Definitions: docs/STATISTICS.md "Money".
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.analysis.hypothesis import HypothesisVerdict
from engine.analysis.resources import CPU_TARGET_PCT, run_headroom, summarize_run
from engine.records import RunEntry
from engine.result import RunResult
from engine.spec.cost import CostSettings
from engine.spec.model import Spec

__all__ = ["CPU_TARGET", "HOURS_PER_MONTH", "Fleet", "Saving", "cpu_per_request", "fleet",
           "instances_for", "money", "peak_rate", "savings", "thread_capacity"]

HOURS_PER_MONTH = 730.0
CPU_TARGET = CPU_TARGET_PCT / 100.0
"""The flow's resource target as a fraction: an instance runs under 70% CPU at peak."""


@dataclass(frozen=True)
class Fleet:
    """Instances the peak needs at a measured CPU cost per request, and what they cost."""

    peak_rate: float
    cpu_s_per_request: float
    cores: int
    instances: int
    monthly_cost: float | None
    """None without ``cost.per_hour``."""
    inputs: str

    def to_doc(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Saving:
    """What one measured optimization is worth per month, and its payback."""

    id: str
    before: Fleet
    after: Fleet
    infra_monthly: float | None
    value_monthly: float | None
    payback_months: float | None
    currency: str
    inputs: str

    @property
    def monthly(self) -> float | None:
        """Infrastructure saving plus business value per month (None when neither is known)."""
        parts = [v for v in (self.infra_monthly, self.value_monthly) if v is not None]
        return sum(parts) if parts else None

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "before": self.before.to_doc(), "after": self.after.to_doc(),
                "infra_monthly": self.infra_monthly, "value_monthly": self.value_monthly,
                "monthly": self.monthly, "payback_months": self.payback_months,
                "currency": self.currency, "inputs": self.inputs}


def cpu_per_request(runs: Sequence[RunResult]) -> float | None:
    """The target's CPU-seconds per successful request over ``runs`` (mean CPU over the
    load's time x run length / OK answers to the load, ``RunResult.in_load``: a backlog
    answered after the load spent CPU the load's readings do not hold); None without
    samples or successes."""
    cpu_s = ok = 0.0
    for run in runs:
        mean_pct = summarize_run(run).cpu_pct_mean if run.resources else None
        if mean_pct is None:
            continue
        cpu_s += mean_pct / 100.0 * run.duration_s
        ok += run.in_load().ok
    return cpu_s / ok if ok > 0 and cpu_s > 0 else None


def thread_capacity(runs: Sequence[RunResult]) -> float | None:
    """OK answers per second one instance carries with its busiest thread at the CPU target,
    from the runs whose busiest thread was saturated (``Headroom.thread_saturated``, the
    checklist's reading): the run's throughput x 70% / that thread's p95, the least over
    such runs. A saturated thread is the instance's limit whatever share of its cores it
    shows (a single-threaded server uses one core of many). None when no run saturated a
    thread: the cores' share bounds the instance alone, since a thread that is not full
    says nothing about how far the server's work would spread."""
    bounds = []
    for run in runs:
        room, ok_per_s = run_headroom(run), run.throughput() or 0.0
        if room.thread_saturated and room.hot_thread_pct and ok_per_s > 0:
            bounds.append(ok_per_s * CPU_TARGET_PCT / room.hot_thread_pct)
    return min(bounds) if bounds else None


def instances_for(rate: float, cpu_s_per_request: float, cores: int,
                  per_thread: float | None = None) -> int:
    """Instances of ``cores`` cores that ``rate`` requests/s need with each under the CPU
    target (at least 1), and with each saturated thread under it too (``per_thread``: the
    OK answers per second an instance carries then, ``thread_capacity``): the one instance
    count of the fleet and of capacity's cost."""
    by_cores = math.ceil(rate * cpu_s_per_request / (CPU_TARGET * cores))
    by_thread = math.ceil(rate / per_thread) if per_thread else 0
    return max(1, by_cores, by_thread)


def fleet(cost: CostSettings, peak_rate: float, runs: Sequence[RunResult]) -> Fleet | None:
    """Instances for ``peak_rate`` at the CPU per request measured over ``runs``, and at
    the throughput of a saturated thread among them (``thread_capacity``)."""
    per_request = cpu_per_request(runs)
    if per_request is None or peak_rate <= 0:
        return None
    cores = cost.cores or os.cpu_count() or 1
    per_thread = thread_capacity(runs)
    instances = instances_for(peak_rate, per_request, cores, per_thread)
    monthly = None if cost.per_hour is None else instances * cost.per_hour * HOURS_PER_MONTH
    source = "" if cost.cores else " (cost.cores unset: this machine's)"
    inputs = (f"peak {peak_rate:,.0f}/s x {per_request * 1e3:.3g} ms CPU per request / "
              f"({CPU_TARGET:.0%} of {cores} cores{source})"
              + _thread_text(peak_rate, per_thread) + f" = {instances} instance(s)")
    if monthly is not None:
        inputs += (f"; x {cost.per_hour:g} {cost.currency}/h x {HOURS_PER_MONTH:g} h = "
                   f"{monthly:,.2f} {cost.currency}/month")
    return Fleet(peak_rate, per_request, cores, instances, monthly, inputs)


def _thread_text(peak_rate: float, per_thread: float | None) -> str:
    """The thread bound in the fleet's inputs sentence, '' without one."""
    if not per_thread:
        return ""
    return (f", and a saturated thread: peak / {per_thread:,.0f}/s per instance with its "
            f"busiest thread at {CPU_TARGET:.0%} of a core")


def savings(cost: CostSettings | None, peak_rate: float,
            sides: dict[str, tuple[list[RunResult], list[RunResult]]],
            verdicts: Sequence[HypothesisVerdict],
            effort_hours: dict[str, float]) -> tuple[Saving, ...]:
    """One Saving per measured hypothesis whose both sides were profiled; ``sides`` maps a
    hypothesis id to its (baseline runs, candidate runs)."""
    if cost is None:
        return ()
    return tuple(_saving(cost, peak_rate, v, sides.get(v.id, ([], [])),
                         effort_hours.get(v.id, 0.0)) for v in _measured(verdicts)
                 if _has_fleets(cost, peak_rate, sides.get(v.id, ([], []))))


def _measured(verdicts: Sequence[HypothesisVerdict]) -> Iterator[HypothesisVerdict]:
    return (v for v in verdicts if str(v.verdict) in ("CONFIRMED", "REFUTED", "INCONCLUSIVE"))


def _has_fleets(cost: CostSettings, peak: float,
                side: tuple[list[RunResult], list[RunResult]]) -> bool:
    return fleet(cost, peak, side[0]) is not None and fleet(cost, peak, side[1]) is not None


def _saving(cost: CostSettings, peak: float, v: HypothesisVerdict,
            side: tuple[list[RunResult], list[RunResult]], effort: float) -> Saving:
    before, after = fleet(cost, peak, side[0]), fleet(cost, peak, side[1])
    assert before is not None and after is not None  # _has_fleets
    infra = (None if cost.per_hour is None else
             (before.instances - after.instances) * cost.per_hour * HOURS_PER_MONTH)
    value, value_text = _value(cost, peak, v)
    total = sum(x for x in (infra, value) if x is not None)
    payback = (effort * cost.engineer_hour / total
               if cost.engineer_hour is not None and total > 0 else None)
    inputs = f"before: {before.inputs}. after: {after.inputs}."
    inputs += f" {value_text}" if value_text else ""
    if cost.engineer_hour is not None:
        inputs += f" effort {effort:g} h x {cost.engineer_hour:g} {cost.currency}/h."
    return Saving(v.id, before, after, infra, value, payback, cost.currency, inputs)


def _value(cost: CostSettings, peak: float, v: HypothesisVerdict) -> tuple[float | None, str]:
    """Business value per month of the measured change, and its inputs."""
    if v.before is None or v.after is None:
        return None, ""
    if v.metric == "error_rate" and cost.value_per_request is not None:
        avoided = (v.before - v.after) * peak * 3600 * HOURS_PER_MONTH
        return avoided * cost.value_per_request, (
            f"value: {v.before - v.after:.4%} fewer failures x {peak:,.0f}/s for "
            f"{HOURS_PER_MONTH:g} h x {cost.value_per_request:g} {cost.currency} per request.")
    if v.metric not in ("throughput", "error_rate") and cost.value_per_ms is not None:
        saved_ms = (v.before - v.after) * 1e3
        return saved_ms * cost.value_per_ms, (
            f"value: {saved_ms:.3g} ms of {v.metric} saved x {cost.value_per_ms:g} "
            f"{cost.currency} per ms per month.")
    return None, ""


def peak_rate(spec: Spec, primary: RunResult | None) -> float:
    """``cost.peak_rate``, else the stress profile's expected peak, else the rate the
    primary run was asked for (achieved, in the closed model); 0 when none is known."""
    if spec.cost is not None and spec.cost.peak_rate:
        return spec.cost.peak_rate
    peaks = [p.expected_peak for p in spec.profiles if p.expected_peak]
    if peaks:
        return max(peaks)
    if primary is None:
        return 0.0
    return primary.validity.target_rate or primary.validity.achieved_rate


def money(spec: Spec, entries: Sequence[RunEntry], primary: RunResult | None,
          verdicts: Sequence[HypothesisVerdict]) -> tuple[Fleet | None, tuple[Saving, ...]]:
    """The fleet the primary run implies and every measured hypothesis' saving (nothing
    without a ``cost:`` block)."""
    cost = spec.cost
    if cost is None:
        return None, ()
    peak = peak_rate(spec, primary)
    sides: dict[str, tuple[list[RunResult], list[RunResult]]] = {}
    for e in entries:
        if e.role.kind == "hypothesis" and e.role.hypothesis:
            before, after = sides.setdefault(e.role.hypothesis, ([], []))
            (before if e.role.side == "baseline" else after).append(e.run)
    efforts = {h.id: h.effort_hours for h in spec.hypotheses}
    own = [primary] if primary is not None else []
    return fleet(cost, peak, own), savings(cost, peak, sides, verdicts, efforts)
