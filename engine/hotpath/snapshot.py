"""Per-interval snapshots and the recorder's JSON state, shared by both recorder twins.

Snapshots hold ENCODED histograms so memory stays constant over long soaks: a live
1 µs-1 h histogram is ~192 KB, an encoded sparse one a few hundred bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

N_OUTCOMES = 13
OUTCOME_NAMES: tuple[str, ...] = (
    "ok", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
    "connect", "read", "write", "timeout", "protocol", "dropped", "check",
)
(OK, STATUS_1XX, STATUS_2XX, STATUS_3XX, STATUS_4XX, STATUS_5XX,
 CONNECT, READ, WRITE, TIMEOUT, PROTOCOL, DROPPED, CHECK) = range(N_OUTCOMES)
"""The outcome codes: positions in OUTCOME_NAMES (tests check the names match; the native
recorder's C constants are generated from the list by tools/gen_outcomes.py). CHECK: the
response came, but a step's ``fail_request`` check on it failed; new codes go at the end,
so stored interval counters keep their positions."""
STATE_VERSION = 1
MAX_GAP_INTERVALS = 1_000_000  # a timestamp further ahead than this is garbage, not a stall


class _Hist(Protocol):
    def add(self, other: Any) -> None: ...
    def encode(self) -> str: ...


@dataclass(frozen=True)
class IntervalSnapshot:
    """One closed interval [start_ns, end_ns) of a recorder (times in ns, monotonic clock).

    ``response`` holds one encoded response-time histogram per journey; ``outcomes`` one
    tuple of N_OUTCOMES counters per journey, indexed by the outcome codes."""

    index: int
    start_ns: int
    end_ns: int
    response: tuple[str, ...]
    outcomes: tuple[tuple[int, ...], ...]

    def response_histogram(self, journey: int) -> Any:
        """Decode journey ``journey``'s response histogram (selected twin's Histogram)."""
        from engine.hotpath.native import Histogram

        return Histogram.decode(self.response[journey])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (used by Recorder.to_state)."""
        return {"index": self.index, "start_ns": self.start_ns, "end_ns": self.end_ns,
                "response": list(self.response), "outcomes": [list(o) for o in self.outcomes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IntervalSnapshot:
        """Inverse of to_dict."""
        return cls(int(d["index"]), int(d["start_ns"]), int(d["end_ns"]),
                   tuple(str(r) for r in d["response"]),
                   tuple(tuple(int(c) for c in o) for o in d["outcomes"]))


def merge_snapshots(a: IntervalSnapshot, b: IntervalSnapshot,
                    decode: Any) -> IntervalSnapshot:
    """Combine two snapshots of the same interval index (histograms added, counters summed).

    ``decode`` turns an encoded histogram into a Histogram of either twin."""
    response = []
    for ea, eb in zip(a.response, b.response, strict=True):
        h: _Hist = decode(ea)
        h.add(decode(eb))
        response.append(h.encode())
    outcomes = tuple(tuple(x + y for x, y in zip(oa, ob, strict=True))
                     for oa, ob in zip(a.outcomes, b.outcomes, strict=True))
    return IntervalSnapshot(a.index, min(a.start_ns, b.start_ns), max(a.end_ns, b.end_ns),
                            tuple(response), outcomes)


def merge_snapshot_lists(ours: Sequence[IntervalSnapshot], theirs: Sequence[IntervalSnapshot],
                         decode: Any) -> list[IntervalSnapshot]:
    """Merge two lists of closed intervals by index; the result is sorted by index."""
    by_index = {s.index: s for s in ours}
    for s in theirs:
        mine = by_index.get(s.index)
        by_index[s.index] = s if mine is None else merge_snapshots(mine, s, decode)
    return [by_index[i] for i in sorted(by_index)]


def hist_state(h: Any) -> dict[str, Any]:
    """JSON-able form of a histogram: encoding plus the out-of-range counts it cannot hold."""
    return {"hist": h.encode(), "underflow": int(h.underflow_count),
            "overflow": int(h.overflow_count)}


def hist_from_state(cls: Any, d: dict[str, Any]) -> Any:
    """Inverse of hist_state for Histogram class ``cls``."""
    h = cls.decode(d["hist"])
    h._set_out_of_range(int(d["underflow"]), int(d["overflow"]))
    return h


def check_mergeable(st: dict[str, Any], journeys: tuple[str, ...], interval_ns: int,
                    cfg: tuple[int, int, int]) -> None:
    """ValueError unless recorder state ``st`` has these journeys, interval and histogram
    configuration (lowest, highest, significant_digits) and the current STATE_VERSION."""
    if (tuple(st["journeys"]) != journeys or st["interval_ns"] != interval_ns
            or tuple(st["config"]) != cfg or st.get("version") != STATE_VERSION):
        raise ValueError("can only merge recorders with the same journeys, interval and "
                         "histogram configuration")


def open_snapshot(st: dict[str, Any], start_ns: int,
                  interval_ns: int) -> IntervalSnapshot | None:
    """The open interval of recorder state ``st`` as a closed snapshot, for a recorder that
    has already moved past it; None when nothing was counted in it (times in ns)."""
    if not any(any(o) for o in st["open_outcomes"]):
        return None
    index = int(st["index"])
    start = start_ns + index * interval_ns
    return IntervalSnapshot(index, start, start + interval_ns,
                            tuple(str(h["hist"]) for h in st["open"]),
                            tuple(tuple(int(c) for c in o) for o in st["open_outcomes"]))


def check_recorder_args(journeys: Sequence[str], start_ns: int,
                        interval_ns: int) -> tuple[str, ...]:
    """Validate Recorder arguments (both twins); ValueError names what was expected."""
    names = tuple(journeys)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError("journeys must be a non-empty sequence of journey names")
    if not isinstance(start_ns, int) or not -(2**62) <= start_ns < 2**62:
        raise ValueError(f"start_ns must be an integer time in ns within ±2**62, got {start_ns!r}")
    if not isinstance(interval_ns, int) or not 0 < interval_ns < 2**62:
        raise ValueError(f"interval_ns must be a positive integer below 2**62, got {interval_ns!r}")
    return names
