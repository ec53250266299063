"""A closed interval's numbers per journey, computed once for every live consumer.

Only called in the parent process, once per closed interval (default 1 s), and only when
a live consumer was asked for: the decode of a few encoded histograms per interval.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.driver.progress import IntervalProgress
from engine.hotpath.native import DROPPED, OK, OUTCOME_NAMES, Histogram

PERCENTILES = (50.0, 95.0, 99.0)


@dataclass(frozen=True)
class JourneyNumbers:
    """One journey in one interval. Latencies in seconds (None without answers)."""

    name: str
    requests: int
    """Every outcome counted in the interval, dropped arrivals included."""
    errors: int
    """Requests that did not end OK (failed status, transport errors, dropped)."""
    outcomes: dict[str, int]
    achieved_rate: float
    """Requests sent (not dropped) per second."""
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    mean_s: float | None


@dataclass(frozen=True)
class IntervalNumbers:
    """All journeys of one interval, times from the run start (seconds)."""

    index: int
    start_s: float
    duration_s: float
    target_rate: float | None
    achieved_rate: float
    requests: int
    errors: int
    journeys: tuple[JourneyNumbers, ...]

    def in_flight(self) -> float:
        """Requests in flight, estimated by Little's law: the interval's answer rate times
        its mean response time (the driver does not count open requests across workers)."""
        if self.duration_s <= 0:
            return 0.0
        return sum((j.requests - j.outcomes.get("dropped", 0)) / self.duration_s * j.mean_s
                   for j in self.journeys if j.mean_s is not None)


def interval_numbers(event: IntervalProgress) -> IntervalNumbers | None:
    """The per-journey numbers of ``event``; None when it carries no interval."""
    ri = event.interval
    if ri is None:
        return None
    names = event.journeys or tuple(f"journey{i}" for i in range(len(ri.response)))
    journeys = tuple(_journey(name, enc, counts, ri.duration_s)
                     for name, enc, counts in zip(names, ri.response, ri.outcomes, strict=False))
    return IntervalNumbers(ri.index, ri.start_s, ri.duration_s, ri.target_rate,
                           event.achieved_rate, event.requests, event.errors, journeys)


def _journey(name: str, encoded: str, counts: tuple[int, ...], duration_s: float) -> JourneyNumbers:
    hist = Histogram.decode(encoded)
    requests = sum(counts)
    sent = requests - counts[DROPPED]
    lat: list[float | None] = [None, None, None, None]
    if hist.total_count:
        lat = [*(v / 1e9 for v in hist.values_at_percentiles(PERCENTILES)), hist.mean / 1e9]
    return JourneyNumbers(
        name, requests, requests - counts[OK], _outcomes(counts),
        sent / duration_s if duration_s > 0 else 0.0, *lat)


def _outcomes(counts: tuple[int, ...]) -> dict[str, int]:
    """Counters by outcome name (a counter the names do not cover yet is 'outcome<i>')."""
    return {OUTCOME_NAMES[i] if i < len(OUTCOME_NAMES) else f"outcome{i}": n
            for i, n in enumerate(counts)}
