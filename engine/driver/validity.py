"""Did the generator do what it was asked? Turns worker measurements into a Validity.

A run is INVALID (not failed) when the achieved rate falls more than the tolerance under
the target, when a worker's CPU was saturated (its timing can no longer be trusted), when
nothing was sent, or when every request failed to connect (the target is unreachable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.result import Validity

SATURATED_CPU_PCT = 95.0
"""A worker using this much of one core is saturated: its schedule and clocks lag."""


@dataclass(frozen=True)
class GeneratorStats:
    """Measurements of the generator itself, merged over workers."""

    target_rate: float | None
    achieved_rate: float
    lag_p99_s: float
    lag_max_s: float
    dropped: int
    sent: int
    connect_errors: int
    worker_cpu_pct: Sequence[float]
    """CPU of each worker over the load period, percent of one core."""
    rss_growth_bytes: int


def assess(stats: GeneratorStats, tolerance: float) -> Validity:
    """The Validity verdict with every reason that applies (in a stable order)."""
    reasons = [r for r in (_rate(stats, tolerance), _cpu(stats), _sent(stats)) if r]
    cpu = stats.worker_cpu_pct
    mean_cpu = sum(cpu) / len(cpu) if cpu else 0.0
    return Validity(
        valid=not reasons, reasons=tuple(reasons), target_rate=stats.target_rate,
        achieved_rate=stats.achieved_rate, schedule_lag_p99_s=stats.lag_p99_s,
        schedule_lag_max_s=stats.lag_max_s, dropped=stats.dropped,
        generator_cpu_pct=mean_cpu, generator_rss_growth_bytes=stats.rss_growth_bytes)


def _rate(s: GeneratorStats, tolerance: float) -> str:
    if s.target_rate is None or s.target_rate <= 0:
        return ""
    floor = s.target_rate * (1.0 - tolerance)
    if s.achieved_rate >= floor:
        return ""
    short = 1.0 - s.achieved_rate / s.target_rate
    return (f"achieved rate {s.achieved_rate:.1f}/s is {short:.1%} under the target "
            f"{s.target_rate:.1f}/s (tolerance {tolerance:.1%})")


def _cpu(s: GeneratorStats) -> str:
    hot = [i for i, c in enumerate(s.worker_cpu_pct) if c >= SATURATED_CPU_PCT]
    if not hot:
        return ""
    top = max(s.worker_cpu_pct)
    return (f"load generator saturated: worker {hot[0]} used {top:.0f}% of a core "
            f"(>= {SATURATED_CPU_PCT:.0f}%); add workers or lower the load")


def _sent(s: GeneratorStats) -> str:
    if s.sent <= 0:
        return "nothing was sent"
    if s.connect_errors >= s.sent:
        return "target unreachable: every request failed to connect"
    return ""
