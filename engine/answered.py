"""Answers a run's target gave to its load: the achieved rate's and throughput's count, in
one place (issue #14: one figure, one computation).

A response counts in the 1 s interval it completed in (engine.hotpath's recorder). A target
that fell behind answers its backlog after the load stops, while the generator drains; those
late answers are not load it carried at the offered rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.hotpath.native import Histogram
    from engine.result import RunInterval

__all__ = ["ANSWERED", "LoadCounts", "answer_lag_s", "in_load"]

ANSWERED = ("ok", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
            "check")
"""Outcomes where the target sent a response: the completed requests (``check``: an answer
a fail_request check failed)."""


@dataclass(frozen=True)
class LoadCounts:
    """Answers to the load period's requests (``in_load``): prorated at the intervals across
    the window's ends, so fractions."""

    answered: float
    """Responses of any status (ANSWERED): the achieved rate's numerator."""
    ok: float
    """OK responses: throughput's numerator."""


def in_load(intervals: Sequence[RunInterval], load_s: float, columns: Sequence[int],
            totals: Sequence[Mapping[str, int]], lag_s: float = 0.0) -> LoadCounts:
    """Answers of journeys ``columns`` to the load: those completed during it, and after it
    at most what was in flight when it stopped (Little's law: the rate answered during the
    load times ``lag_s``, the median time from a send to its answer, ``answer_lag_s``). A
    target that keeps up gets every answer counted; one that fell behind answers its queued
    backlog after the load, at the rate it could carry, and counting all of that over the
    load period once read an 850/s stress step as 'achieved 850/s' where 646/s were
    answered during it.

    ``totals`` (the journeys' whole-run outcome counts) stand in when the intervals do not
    hold every answer (a run without intervals, an older document)."""
    from engine.hotpath.native import OUTCOME_NAMES  # the selector: keep engine.result light
    answered_at = [i for i, name in enumerate(OUTCOME_NAMES) if name in ANSWERED]
    ok_at = OUTCOME_NAMES.index("ok")
    during = [0.0, 0.0]  # answered, ok
    after = [0.0, 0.0]
    for iv in intervals:
        part = _share_before(iv, load_s)
        for c in columns:
            row = iv.outcomes[c] if c < len(iv.outcomes) else ()
            got = (sum(row[i] for i in answered_at if i < len(row)),
                   row[ok_at] if ok_at < len(row) else 0)
            for k in (0, 1):
                during[k] += part * got[k]
                after[k] += (1.0 - part) * got[k]
    expected = sum(sum(t.get(n, 0) for n in ANSWERED) for t in totals)
    if not intervals or round(during[0] + after[0]) != expected or load_s <= 0:
        return LoadCounts(float(expected), float(sum(t.get("ok", 0) for t in totals)))
    in_flight = [d / load_s * max(lag_s, 0.0) for d in during]
    return LoadCounts(*(during[k] + min(after[k], in_flight[k]) for k in (0, 1)))


def answer_lag_s(service: Iterable[Histogram]) -> float:
    """The median service time (s, from the actual send to the answer) over every journey's
    ``service`` histogram: how long after its request an answer completes, queueing in the
    generator left out; 0 without answers."""
    merged: Histogram | None = None
    for h in service:
        if merged is None:
            merged = h.copy()
        else:
            merged.add(h)
    if merged is None or merged.total_count == 0:
        return 0.0
    return float(merged.value_at_percentile(50)) / 1e9


def _share_before(iv: RunInterval, end_s: float) -> float:
    """The part of interval ``iv`` before ``end_s`` (1 inside, 0 after, prorated across)."""
    stop = iv.start_s + iv.duration_s
    if stop <= end_s:
        return 1.0
    if iv.start_s >= end_s or iv.duration_s <= 0:
        return 0.0
    return (end_s - iv.start_s) / iv.duration_s
