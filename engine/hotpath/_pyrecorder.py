"""Pure-Python twin of the native Recorder (part of engine.hotpath._pyhdr)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.hotpath._pyhistogram import Histogram
from engine.hotpath.snapshot import (
    CONNECT,
    DROPPED,
    MAX_GAP_INTERVALS,
    N_OUTCOMES,
    STATE_VERSION,
    IntervalSnapshot,
    check_mergeable,
    check_recorder_args,
    hist_from_state,
    hist_state,
    merge_snapshot_lists,
    open_snapshot,
)

__all__ = ["Recorder"]


class Recorder:
    """Per-journey response-time (from intended send) and service-time (from actual send)
    histograms, outcome counters and per-interval snapshots, for one worker."""

    def __init__(self, journeys: Sequence[str], start_ns: int,
                 interval_ns: int = 1_000_000_000, lowest: int = 1_000,
                 highest: int = 3_600_000_000_000, significant_digits: int = 3) -> None:
        names = check_recorder_args(journeys, start_ns, interval_ns)
        self._journeys = names
        self._cfg = (lowest, highest, significant_digits)
        n = len(names)
        self._response = [Histogram(*self._cfg) for _ in range(n)]
        self._service = [Histogram(*self._cfg) for _ in range(n)]
        self._open = [Histogram(*self._cfg) for _ in range(n)]
        self._outcomes = [[0] * N_OUTCOMES for _ in range(n)]
        self._open_outcomes = [[0] * N_OUTCOMES for _ in range(n)]
        self._start, self._interval = int(start_ns), int(interval_ns)
        self._index, self._end = 0, self._start + self._interval
        self._closed: list[IntervalSnapshot] = []
        self._invalid = 0

    journeys = property(lambda self: self._journeys, doc="journey names, by index")
    start_ns = property(lambda self: self._start, doc="start of interval 0 (ns)")
    interval_ns = property(lambda self: self._interval, doc="interval length (ns)")
    invalid_count = property(lambda self: self._invalid,
                             doc="calls ignored for a bad journey, outcome or timestamp")

    def record(self, journey: int, intended_ns: int, sent_ns: int, done_ns: int,
               outcome: int) -> None:
        """Count ``outcome`` for ``journey``; record latencies unless CONNECT or DROPPED."""
        if not (0 <= journey < len(self._journeys) and 0 <= outcome < N_OUTCOMES
                and _fits(intended_ns) and _fits(sent_ns) and _fits(done_ns)):
            self._invalid += 1
            return
        if done_ns >= self._end and not self._roll(done_ns):
            self._invalid += 1
            return
        self._outcomes[journey][outcome] += 1
        self._open_outcomes[journey][outcome] += 1
        if outcome != CONNECT and outcome != DROPPED:
            self._response[journey].record(done_ns - intended_ns)
            self._open[journey].record(done_ns - intended_ns)
            self._service[journey].record(done_ns - sent_ns)

    def record_dropped(self, journey: int, intended_ns: int) -> None:
        """Count a request the driver never sent (DROPPED), in the interval of intended_ns."""
        self.record(journey, intended_ns, intended_ns, intended_ns, DROPPED)

    def tick(self, now_ns: int) -> None:
        """Close every interval that ended at or before ``now_ns``."""
        if not _fits(now_ns) or (now_ns >= self._end and not self._roll(now_ns)):
            self._invalid += 1

    def finish(self, end_ns: int) -> None:
        """Close finished intervals and the last partial one [start, end_ns)."""
        self.tick(end_ns)
        if end_ns > self._end - self._interval:
            self._close(end_ns)

    def _roll(self, t: int) -> bool:
        target = (t - self._start) // self._interval
        if target - self._index > MAX_GAP_INTERVALS:
            return False
        while self._index < target:
            self._close(self._end)
        return True

    def _close(self, end_ns: int) -> None:
        self._closed.append(IntervalSnapshot(
            self._index, self._end - self._interval, end_ns,
            tuple(h.encode() for h in self._open),
            tuple(tuple(o) for o in self._open_outcomes)))
        for h, o in zip(self._open, self._open_outcomes, strict=True):
            h.reset()
            o[:] = [0] * N_OUTCOMES
        self._index += 1
        self._end += self._interval

    def response(self, journey: int) -> Histogram:
        """Response-time histogram of ``journey`` over the whole run (live object)."""
        return self._response[self._journey_index(journey)]

    def service(self, journey: int) -> Histogram:
        """Service-time histogram of ``journey`` over the whole run (live object)."""
        return self._service[self._journey_index(journey)]

    def outcomes(self, journey: int) -> list[int]:
        """Outcome counters of ``journey`` over the whole run, indexed by outcome code."""
        return list(self._outcomes[self._journey_index(journey)])

    def _journey_index(self, journey: int) -> int:
        n = len(self._journeys)
        if not 0 <= journey < n:
            raise IndexError(f"journey index must be in 0..{n - 1}, got {journey!r}")
        return journey

    def intervals(self) -> list[IntervalSnapshot]:
        """Closed intervals, by index."""
        return list(self._closed)

    def last_interval(self) -> IntervalSnapshot | None:
        """Most recently closed interval, or None."""
        return self._closed[-1] if self._closed else None

    def merge(self, other: Any) -> None:
        """Add ``other``'s data (same journeys, config and interval); intervals by index."""
        self._merge_state(other.to_state())

    def to_state(self) -> dict[str, Any]:
        """JSON-able state (encoded histograms, counters, intervals) for moving across
        processes; from_state rebuilds an equal recorder."""
        return {
            "version": STATE_VERSION, "journeys": list(self._journeys),
            "start_ns": self._start, "interval_ns": self._interval,
            "config": list(self._cfg), "index": self._index, "invalid": self._invalid,
            "response": [hist_state(h) for h in self._response],
            "service": [hist_state(h) for h in self._service],
            "open": [hist_state(h) for h in self._open],
            "outcomes": [list(o) for o in self._outcomes],
            "open_outcomes": [list(o) for o in self._open_outcomes],
            "intervals": [s.to_dict() for s in self._closed],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Recorder:
        """Rebuild a recorder from to_state output; ValueError if it is not one."""
        try:
            rec = cls(state["journeys"], state["start_ns"], state["interval_ns"], *state["config"])
            rec._index = int(state["index"])
            rec._end = rec._start + (rec._index + 1) * rec._interval
            rec._merge_state(state)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"not a recorder state: {exc!r}") from None
        return rec

    def _merge_state(self, st: dict[str, Any]) -> None:
        check_mergeable(st, self._journeys, self._interval, self._cfg)
        for j in range(len(self._journeys)):
            self._response[j].add(hist_from_state(Histogram, st["response"][j]))
            self._service[j].add(hist_from_state(Histogram, st["service"][j]))
            self._outcomes[j] = [a + b for a, b in zip(self._outcomes[j], st["outcomes"][j],
                                                       strict=True)]
        self._invalid += int(st["invalid"])
        theirs = [IntervalSnapshot.from_dict(d) for d in st["intervals"]]
        self._merge_open(st, theirs)
        self._closed = merge_snapshot_lists(self._closed, theirs, Histogram.decode)

    def _merge_open(self, st: dict[str, Any], theirs: list[IntervalSnapshot]) -> None:
        index = int(st["index"])
        if index > self._index:
            self._roll(self._start + index * self._interval)
        if index == self._index:
            for j in range(len(self._journeys)):
                self._open[j].add(hist_from_state(Histogram, st["open"][j]))
                self._open_outcomes[j] = [a + b for a, b in zip(
                    self._open_outcomes[j], st["open_outcomes"][j], strict=True)]
        elif (snap := open_snapshot(st, self._start, self._interval)) is not None:
            theirs.append(snap)


def _fits(t: int) -> bool:
    """Whether ``t`` is an int64, as the native twin's C arguments must be."""
    return -0x8000000000000000 <= t <= 0x7FFFFFFFFFFFFFFF
