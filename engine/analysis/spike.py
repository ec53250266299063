"""Spike analysis: what a sudden jump did, and how long the service took to recover.

The profile's timeline is ``before_s`` at ``base_rate``, ``spike_s`` at
``peak_rate``, then ``after_s`` at ``base_rate`` again (as the driver shapes it).

- ``p95_before``: p95 over the before phase (its first interval is skipped as
  warm-up when the phase has three or more).
- ``error_rate_during`` and ``p99_during``: over the intervals that start
  inside the spike.
- recovery: the first interval starting at or after the spike's end from which
  ``consecutive`` intervals in a row (fewer if the run ends first, at least
  one) each have p95 within ``max(tolerance x p95_before, floor_s)`` of
  ``p95_before`` and an error rate at most one point above the before phase.
  ``recovery_time_s`` is that interval's start minus the spike's end (0 when
  the first interval after the spike is already fine); None when it never
  recovers within the run.
- A run that stopped early (Ctrl-C, an abort) is ``partial``: its verdict is
  INCONCLUSIVE, whatever was seen before the stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.analysis.evidence import partial_reason
from engine.analysis.soak import IntervalPoint, span, timeline
from engine.result import RunResult
from engine.spec.model import LoadProfile

__all__ = ["SpikeAnalysis", "SpikePhases", "analyse_spike", "phases_of"]

CONSECUTIVE = 3
FLOOR_S = 0.002
"""Absolute tolerance floor: a 1 ms p95 may wobble by 2 ms at low rates without meaning much."""
ERROR_SLACK = 0.01


@dataclass(frozen=True)
class SpikePhases:
    """Phase boundaries in seconds from run start."""

    base_rate: float
    peak_rate: float
    spike_start_s: float
    spike_end_s: float
    end_s: float


def phases_of(profile: LoadProfile) -> SpikePhases:
    """Phase boundaries of a spike profile; ValueError naming what is missing."""
    if profile.base_rate is None or profile.peak_rate is None or profile.spike_s is None:
        raise ValueError(f"profile {profile.name!r}: a spike needs base, peak and spike")
    start = profile.before_s or 0.0  # the driver's spike shape has no ramp-up
    end = start + profile.spike_s
    return SpikePhases(profile.base_rate, profile.peak_rate, start, end,
                       end + (profile.after_s or 0.0))


@dataclass(frozen=True)
class SpikeAnalysis:
    """Errors and tail during the spike, and the recovery after it. Times in seconds."""

    base_rate: float
    peak_rate: float
    p95_before_s: float | None
    error_rate_before: float
    error_rate_during: float
    p99_during_s: float | None
    p95_during_s: float | None
    recovery_time_s: float | None
    recovered: bool
    tolerance: float
    intervals_after: int
    """Intervals observed after the spike (recovery can only be seen within them)."""
    partial_reason: str = ""
    """Why the run is partial evidence ("interrupted after 4 s of 15 s"); '' when whole."""
    before_s: float = 0.0
    """The planned shape: ``before_s`` at base, ``spike_s`` at peak, ``after_s`` at base."""
    spike_s: float = 0.0
    after_s: float = 0.0

    @property
    def partial(self) -> bool:
        return bool(self.partial_reason)

    @property
    def shape(self) -> str:
        """The planned shape in words: '100/s for 10 s, 500/s for 5 s, 100/s for 15 s'."""
        return (f"{self.base_rate:g}/s for {self.before_s:g} s, {self.peak_rate:g}/s for "
                f"{self.spike_s:g} s, {self.base_rate:g}/s for {self.after_s:g} s")

    @property
    def verdict(self) -> str:
        """RECOVERED, NOT_RECOVERED, or INCONCLUSIVE for a partial run."""
        if self.partial:
            return "INCONCLUSIVE"
        return "RECOVERED" if self.recovered else "NOT_RECOVERED"

    def to_doc(self) -> dict[str, object]:
        """The report's ``Spike`` object (plus the extra fields named above)."""
        return {
            "base_rate": self.base_rate, "peak_rate": self.peak_rate,
            "error_rate_during": self.error_rate_during, "p99_during": self.p99_during_s,
            "p95_before": self.p95_before_s, "recovery_time_s": self.recovery_time_s,
            "recovered": self.recovered, "p95_during": self.p95_during_s,
            "error_rate_before": self.error_rate_before, "tolerance": self.tolerance,
            "intervals_after": self.intervals_after, "partial": self.partial,
            "partial_reason": self.partial_reason, "verdict": self.verdict,
            "before_s": self.before_s, "spike_s": self.spike_s, "after_s": self.after_s,
            "shape": self.shape,
        }

    @property
    def message(self) -> str:
        """One line for the report."""
        if self.partial:
            return f"INCONCLUSIVE: {self.partial_reason}: the recovery was not judged"
        if not self.recovered:
            return (f"did not recover within {self.intervals_after} intervals after the "
                    f"spike to {self.peak_rate:g}/s")
        return (f"spike to {self.peak_rate:g}/s: {self.error_rate_during:.2%} errors, "
                f"recovered in {self.recovery_time_s or 0.0:.1f} s")


def _recovery(points: Sequence[IntervalPoint], spike_end_s: float, limit_s: float,
              error_limit: float, consecutive: int) -> float | None:
    after = [p for p in points if p.t_s >= spike_end_s - 1e-9]
    need = max(1, min(consecutive, len(after)))

    def fine(p: IntervalPoint) -> bool:
        return p.p95_s is not None and p.p95_s <= limit_s and p.error_rate <= error_limit

    for i in range(len(after) - need + 1):
        if all(fine(p) for p in after[i:i + need]):
            return max(0.0, after[i].t_s - spike_end_s)
    return None


def analyse_spike(run: RunResult, profile: LoadProfile, *,
                  consecutive: int = CONSECUTIVE, floor_s: float = FLOOR_S) -> SpikeAnalysis:
    """Analyse a spike run against its profile (see the module doc for the rules)."""
    ph = phases_of(profile)
    points = timeline(run)
    before_pts = [p for p in points if p.t_s < ph.spike_start_s]
    skip = before_pts[1].t_s if len(before_pts) >= 3 else 0.0
    before = span(run, skip, ph.spike_start_s)
    during = span(run, ph.spike_start_s, ph.spike_end_s)
    p95_before = before.percentile_s(95.0)
    tol = profile.recovery_tolerance
    recovery = None
    if p95_before is not None:
        limit = p95_before + max(tol * p95_before, floor_s)
        recovery = _recovery(points, ph.spike_end_s, limit,
                             before.error_rate + ERROR_SLACK, consecutive)
    return SpikeAnalysis(
        ph.base_rate, ph.peak_rate, p95_before, before.error_rate, during.error_rate,
        during.percentile_s(99.0), during.percentile_s(95.0), recovery, recovery is not None,
        tol, sum(1 for p in points if p.t_s >= ph.spike_end_s - 1e-9),
        partial_reason(run, ph.end_s), ph.spike_start_s, ph.spike_end_s - ph.spike_start_s,
        ph.end_s - ph.spike_end_s,
    )
