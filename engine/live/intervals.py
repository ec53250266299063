"""A closed interval's numbers per journey, computed once for every live consumer.

Only called in the parent process, once per closed interval (default 1 s), and only when
a live consumer was asked for: the decode of a few encoded histograms per interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.answered import answers_in_row
from engine.driver.progress import IntervalProgress, RunFinished
from engine.hotpath.native import OK, OUTCOME_NAMES, Histogram
from engine.result import RunInterval

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
    """Requests answered (any status: engine.answered.ANSWERED) in the interval, per second:
    the report's achieved rate, per interval (timeouts and connect errors are no answer)."""
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


def numbers_of(ri: RunInterval, names: Sequence[str]) -> IntervalNumbers:
    """The per-journey numbers of one closed interval (``names`` in its journey order)."""
    names = tuple(names) or tuple(f"journey{i}" for i in range(len(ri.response)))
    journeys = tuple(_journey(name, enc, counts, ri.duration_s)
                     for name, enc, counts in zip(names, ri.response, ri.outcomes, strict=False))
    requests = sum(j.requests for j in journeys)
    answered = sum(answers_in_row(counts) for counts in ri.outcomes[:len(journeys)])
    return IntervalNumbers(ri.index, ri.start_s, ri.duration_s, ri.target_rate,
                           answered / ri.duration_s if ri.duration_s > 0 else 0.0, requests,
                           sum(j.errors for j in journeys), journeys)


def interval_numbers(event: IntervalProgress) -> IntervalNumbers | None:
    """The numbers of the interval ``event`` closed; None when it carries none."""
    return None if event.interval is None else numbers_of(event.interval, event.journeys)


def closing_numbers(event: RunFinished, after: int) -> list[IntervalNumbers]:
    """The intervals of a finished run after index ``after``: the one that closed as the
    load ended (and any a consumer has not seen)."""
    return [numbers_of(ri, event.journeys) for ri in event.intervals if ri.index > after]


def _journey(name: str, encoded: str, counts: tuple[int, ...], duration_s: float) -> JourneyNumbers:
    hist = Histogram.decode(encoded)
    requests = sum(counts)
    lat: list[float | None] = [None, None, None, None]
    if hist.total_count:
        lat = [*(v / 1e9 for v in hist.values_at_percentiles(PERCENTILES)), hist.mean / 1e9]
    return JourneyNumbers(
        name, requests, requests - counts[OK], _outcomes(counts),
        answers_in_row(counts) / duration_s if duration_s > 0 else 0.0, *lat)


def _outcomes(counts: tuple[int, ...]) -> dict[str, int]:
    """Counters by outcome name (a counter the names do not cover yet is 'outcome<i>')."""
    return {OUTCOME_NAMES[i] if i < len(OUTCOME_NAMES) else f"outcome{i}": n
            for i, n in enumerate(counts)}
