"""The live stream's per-interval numbers (engine.live.intervals) against the report's."""

from __future__ import annotations

from engine.hotpath.native import OUTCOME_NAMES, Histogram
from engine.live.intervals import numbers_of
from engine.result import RunInterval


def test_the_live_achieved_rate_counts_answers_as_the_report_does() -> None:
    """Issue #14: the live line read the achieved rate as every outcome but dropped, so a
    second of timeouts read as carried load; the report counts answers (any status) only."""
    row = [0] * len(OUTCOME_NAMES)
    for name, n in (("ok", 40), ("status_5xx", 10), ("timeout", 25), ("dropped", 5)):
        row[OUTCOME_NAMES.index(name)] = n
    hist = Histogram()
    hist.record(5_000_000, 50)
    numbers = numbers_of(RunInterval(3, 3.0, 0.5, 160.0, (hist.encode(),), (tuple(row),)),
                         ["lookup"])
    assert numbers.achieved_rate == 100.0  # 50 answers in 0.5 s
    assert numbers.journeys[0].achieved_rate == 100.0
    assert numbers.requests == 80 and numbers.errors == 40
