"""Did the generator do what it was asked? Turns worker measurements into a Validity.

Two questions, kept apart (docs/STATISTICS.md, "Valid runs and failed targets"):

* **Can the test be trusted?** A run is INVALID when the *generator* is the cause: nothing
  was sent, every connection was refused (the target is not there), a worker's CPU was
  saturated, the scheduler dispatched fewer arrivals than were due, more than 1% of its
  dispatches ran over ``LAG_LIMIT_S`` late (its own delay would be measured as the target's
  latency), or
  the target fell short while a worker was busier than ``BUSY_CPU_PCT`` (then the shortfall
  may be the generator's).
* **Did the target keep up?** When the generator sent on schedule but responses came back
  slower than offered (dropped with every connection busy, timed out, refused), the run
  is valid: the shortfall is written as a *note* naming the cause, and the SLOs and error
  budgets, which count those requests against the target, make the run FAIL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.answered import answers
from engine.result import TARGET_SHORT, Validity

SATURATED_CPU_PCT = 95.0
"""A worker using this much of one core is saturated: its schedule and clocks lag."""
BUSY_CPU_PCT = 75.0
"""When the target fell short of the offered rate, a worker above this share of a core may
itself be the limit (responses wait in its socket buffers, every connection looks busy):
the shortfall cannot be charged to the target and the run is INVALID."""
LAG_LIMIT_S = 0.05
"""A dispatch later than this counts as late. Measured latency runs from the intended send
time, so lag on our side would be charged to the target; 50 ms is far above what a healthy
worker shows (lag p99 0.4-3.6 ms in six 1.5 s runs at 100/s on this 2-core machine, the
setting of tests/driver/test_driver.py::test_fixed_delay_p50_is_the_delay) and under any latency
objective worth gating on."""
LATE_SHARE = 0.01
LATE_MIN = 20
"""The schedule slipped when more than LATE_SHARE of the dispatches, and at least LATE_MIN
of them, were late: sustained lateness, not one stall of a shared machine (which the
statistics see as noise, as they do the target's own stalls)."""


@dataclass(frozen=True)
class GeneratorStats:
    """Measurements of the generator itself, merged over workers."""

    target_rate: float | None
    """Offered (scheduled) rate, requests/s; None in the closed model."""
    load_s: float
    outcomes: Mapping[str, int]
    """Outcome counts over all journeys (engine.hotpath.native.OUTCOME_NAMES)."""
    dispatched: int
    """Arrivals the scheduler handed to the pool (open model) or requests started (closed)."""
    due: float
    """Arrivals due by the end of the load period (open model; 0 in the closed model)."""
    connections: int
    lag_p99_s: float
    lag_max_s: float
    late: int
    """Dispatches later than LAG_LIMIT_S (of ``dispatched``)."""
    worker_cpu_pct: Sequence[float]
    """CPU of each worker over the load period, percent of one core."""
    rss_growth_bytes: int
    cancelled: int = 0
    """Queued or in-flight requests given up when the run was aborted (never answered)."""
    connect_error: str = ""
    """The first connect failure in words (a worker's sample), e.g. a failed TLS handshake."""
    answered_in_load: float | None = None
    """Answers to the load, the backlog's left out (engine.answered.in_load); None: all."""

    @property
    def dropped(self) -> int:
        return self.outcomes.get("dropped", 0)

    @property
    def sent(self) -> int:
        """Requests the generator tried to send (every outcome but DROPPED)."""
        return sum(self.outcomes.values()) - self.dropped

    @property
    def completed(self) -> int:
        """Requests the target answered with an HTTP response (any status)."""
        return answers(self.outcomes)

    @property
    def achieved(self) -> float:
        """Answers that count toward the achieved rate: a backlog answered while the
        generator drains is not load carried (engine.answered.in_load)."""
        return self.completed if self.answered_in_load is None else self.answered_in_load

    def per_s(self, count: float) -> float:
        return count / self.load_s if self.load_s > 0 else 0.0


def assess(stats: GeneratorStats, tolerance: float) -> Validity:
    """The Validity verdict with every generator-side reason and target-side note."""
    note = _target_short(stats, tolerance)
    reasons = [r for r in (_sent(stats), _cpu(stats), _schedule(stats, tolerance), _lag(stats),
                           _busy(stats, note)) if r]
    if reasons:
        note = ""
    cpu = stats.worker_cpu_pct
    return Validity(
        valid=not reasons, reasons=tuple(reasons), target_rate=stats.target_rate,
        achieved_rate=stats.per_s(stats.achieved), schedule_lag_p99_s=stats.lag_p99_s,
        schedule_lag_max_s=stats.lag_max_s, dropped=stats.dropped,
        generator_cpu_pct=sum(cpu) / len(cpu) if cpu else 0.0,
        generator_rss_growth_bytes=stats.rss_growth_bytes, sent_rate=stats.per_s(stats.sent),
        notes=(note,) if note else ())


def _sent(s: GeneratorStats) -> str:
    if s.sent <= 0:
        return "nothing was sent"
    if s.outcomes.get("connect", 0) >= s.sent:
        if s.connect_error.startswith("TLS "):
            return f"{s.connect_error}: every request failed to connect"
        why = f" ({s.connect_error})" if s.connect_error else ""
        return f"target unreachable: every request failed to connect{why}"
    return ""


def _cpu(s: GeneratorStats) -> str:
    hot = [i for i, c in enumerate(s.worker_cpu_pct) if c >= SATURATED_CPU_PCT]
    if not hot:
        return ""
    top = max(s.worker_cpu_pct)
    return (f"load generator saturated: worker {hot[0]} used {top:.0f}% of a core "
            f"(>= {SATURATED_CPU_PCT:.0f}%); add workers or lower the load")


def _busy(s: GeneratorStats, shortfall: str) -> str:
    """A shortfall beside a busy generator is not the target's to answer for."""
    top = max(s.worker_cpu_pct, default=0.0)
    if not shortfall or top < BUSY_CPU_PCT or top >= SATURATED_CPU_PCT:
        return ""
    return (f"load generator busy ({top:.0f}% of a core, >= {BUSY_CPU_PCT:.0f}%) while the "
            f"target answered only {s.per_s(s.achieved):.1f}/s of {s.target_rate or 0:.1f}/s: "
            "the shortfall may be the generator's own; add workers or lower the load")


def _schedule(s: GeneratorStats, tolerance: float) -> str:
    """The scheduler got through fewer arrivals than were due by the end of the load."""
    if s.target_rate is None or s.due <= 0:
        return ""
    if s.dispatched >= s.due * (1.0 - tolerance) - 1:
        return ""
    return (f"load generator fell behind its schedule: dispatched {s.dispatched:,} of "
            f"{s.due:,.0f} arrivals due ({s.per_s(s.dispatched):.1f}/s of "
            f"{s.target_rate:.1f}/s offered)")


def _lag(s: GeneratorStats) -> str:
    if s.target_rate is None or s.late < LATE_MIN or s.late <= LATE_SHARE * s.dispatched:
        return ""
    share = s.late / s.dispatched if s.dispatched else 1.0
    return (f"load generator's schedule slipped: {share:.1%} of dispatches ({s.late:,}) were "
            f"more than {LAG_LIMIT_S * 1e3:.0f} ms late (lag p99 {s.lag_p99_s * 1e3:.1f} ms); "
            "its own delay would be measured as target latency")


def _target_short(s: GeneratorStats, tolerance: float) -> str:
    """A target-side shortfall in words ('' when the target answered at the offered rate)."""
    if s.target_rate is None or s.target_rate <= 0 or s.load_s <= 0:
        return ""
    completed = s.per_s(s.achieved)
    if completed >= s.target_rate * (1.0 - tolerance):
        return ""
    causes = _causes(s)
    return (f"{TARGET_SHORT}: answered {completed:.1f}/s of {s.target_rate:.1f}/s "
            f"offered ({1.0 - completed / s.target_rate:.1%} short; the generator kept its "
            f"schedule and sent {s.per_s(s.sent):.1f}/s)" + (f": {causes}" if causes else ""))


def _causes(s: GeneratorStats) -> str:
    parts = []
    if s.dropped:
        conns = "the 1 connection" if s.connections == 1 else f"all {s.connections} connections"
        parts.append(f"{s.dropped:,} never sent ({conns} stayed busy; they waited in the queue "
                     "until it was full or the run ended: raise `connections` if the target "
                     "can serve more at once)")
    for name, words in (("timeout", "timed out"), ("connect", "failed to connect"),
                        ("read", "cut off while reading"), ("write", "cut off while writing"),
                        ("protocol", "malformed responses")):
        if s.outcomes.get(name, 0):
            parts.append(f"{s.outcomes[name]:,} {words}")
    if s.cancelled:
        parts.append(f"{s.cancelled:,} unanswered when the run was aborted")
    return ", ".join(parts)
