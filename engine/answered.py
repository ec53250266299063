"""Answers a run's target gave to its load: the achieved rate's and throughput's count, in
one place (issue #14: one figure, one computation).

A target that fell behind answers the backlog queued in the generator after the load stops,
while the generator drains; those late answers are not load it carried at the offered rate.
Each worker notes, at the stop, how many answers the load can have (engine.driver.runtime:
the answers so far plus the requests then in flight that did not fail); answers beyond
that are the backlog's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.result import RunInterval

__all__ = ["ANSWERABLE", "ANSWERED", "LoadCounts", "answers", "answers_in_row", "in_load"]

ANSWERED = ("ok", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
            "check")
"""Outcomes where the target sent a response: the completed requests (``check``: an answer
a fail_request check failed)."""
ANSWERABLE = "answerable"
"""RunResult.extra: answers the generator had when the load stopped plus the requests then in
flight that did not fail after (kept in history): at most this many answers count toward the
load (``in_load``); absent: every answer counts."""


def answers(outcomes: Mapping[str, int]) -> int:
    """Answers of any status among outcome counts by name (ANSWERED)."""
    return sum(outcomes.get(name, 0) for name in ANSWERED)


def answers_in_row(row: Sequence[float]) -> float:
    """Answers of any status among outcome counters in engine.hotpath's OUTCOME_NAMES order
    (an interval's row, a recorder's totals)."""
    from engine.hotpath.native import OUTCOME_NAMES  # the selector: keep engine.result light
    return sum(n for name, n in zip(OUTCOME_NAMES, row, strict=False) if name in ANSWERED)


@dataclass(frozen=True)
class LoadCounts:
    """Answers to the load (``in_load``); fractions where a journey gave up a share of the
    backlog."""

    answered: float
    """Responses of any status (ANSWERED): the achieved rate's numerator."""
    ok: float
    """OK responses: throughput's numerator."""


def in_load(totals: Sequence[Mapping[str, int]], columns: Sequence[int],
            answerable: int | None, intervals: Sequence[RunInterval] = (),
            load_s: float = 0.0) -> LoadCounts:
    """Answers of journeys ``columns`` (indexes into ``totals``, every journey's whole-run
    outcome counts) to the load: at most ``answerable``, the answers the generator had when
    the load stopped plus the requests then in flight. A target that fell behind answers
    the backlog queued in the generator after that, at the rate it could carry; counting
    those over the load period once read an 850/s stress step as 'achieved 850/s' where
    646/s were answered during it. None (a run from before this count) counts every answer.

    The backlog's answers are taken from the journeys in proportion to their answers after
    the load (``intervals``, by completion time; without them, to all their answers), and
    each journey's OK share of what it keeps is its OK share overall."""
    answered = [answers(t) for t in totals]
    ok = [t.get("ok", 0) for t in totals]
    excess = 0 if answerable is None else max(0, sum(answered) - answerable)
    if excess == 0:
        return LoadCounts(float(sum(answered[c] for c in columns)),
                          float(sum(ok[c] for c in columns)))
    weights = _after(intervals, load_s, len(totals))
    if sum(weights) < excess:  # the intervals cannot place it: by all their answers
        weights = [float(a) for a in answered]
    kept = [max(0.0, a - min(a, excess * w / sum(weights)))
            for a, w in zip(answered, weights, strict=True)]
    return LoadCounts(sum(kept[c] for c in columns),
                      sum(ok[c] * kept[c] / answered[c] for c in columns if answered[c]))


def _after(intervals: Sequence[RunInterval], load_s: float, journeys: int) -> list[float]:
    """Per journey: answers completed after ``load_s`` (the interval across it prorated)."""
    out = [0.0] * journeys
    for iv in intervals:
        part = 1.0 - _share_before(iv, load_s)
        for c in range(min(journeys, len(iv.outcomes))):
            out[c] += part * answers_in_row(iv.outcomes[c])
    return out


def _share_before(iv: RunInterval, end_s: float) -> float:
    """The part of interval ``iv`` before ``end_s`` (1 inside, 0 after, prorated across)."""
    stop = iv.start_s + iv.duration_s
    if stop <= end_s:
        return 1.0
    if iv.start_s >= end_s or iv.duration_s <= 0:
        return 0.0
    return (end_s - iv.start_s) / iv.duration_s
