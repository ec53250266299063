"""Sanity of a comparison's interval, shared by the regression gate and hypothesis verdicts.

An interval that is not finite, or whose relative half-width exceeds ``MAX_HALF_WIDTH``
(+-1000%), says the data could not pin the change down: the comparison is INCONCLUSIVE
with that reason, never PASS or CONFIRMED on nonsense statistics (docs/STATISTICS.md).
Sample-need estimates beyond ``MAX_NEEDED`` are dropped rather than printed.
"""

from __future__ import annotations

import math

__all__ = ["MAX_HALF_WIDTH", "MAX_NEEDED", "MAX_SPAN", "interval_problem", "practical",
           "span_problem"]

MAX_HALF_WIDTH = 10.0
"""Largest relative half-width (10 = +-1000%) an interval may have and still decide."""
MAX_SPAN = 4.0
"""Largest ratio between a relative interval's ends, (1 + hi) / (1 + lo), that a PASS on its
point may rest on when the interval reaches past the tolerance: 4 is a halving to a
doubling (-50%..+100%). Wider, the data says nothing about a change of the tolerance's size."""
MAX_NEEDED = 1_000_000
"""Larger request or run estimates mean 'no practical experiment decides it'."""


def _pct(x: float) -> str:
    return f"{x * 100:+.0f}%" if math.isfinite(x) else str(x)


def interval_problem(lo: float, hi: float, space: str = "relative", *,
                     sure_bad: bool = False) -> str:
    """'' for a usable interval, else why it cannot decide. ``space`` 'relative' bounds a
    change ratio (width checked); any other space (absolute points, values) only needs to
    be finite. ``sure_bad``: the verdict rests on the whole interval being on the bad side
    (FAIL, REFUTED); that stands however wide, but never on a NaN or infinite bound. The
    guard stops nonsense from passing, not a sound failure."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        shown = f"{_pct(lo)}..{_pct(hi)}" if space == "relative" else f"{lo}..{hi}"
        return f"interval {shown} is not finite: cannot decide"
    if not sure_bad and space == "relative" and (hi - lo) / 2 > MAX_HALF_WIDTH:
        return f"interval {_pct(lo)}..{_pct(hi)} is too wide to decide"
    return ""


def practical(needed: int | None) -> int | None:
    """A sample-need estimate, or None when it is beyond any practical experiment."""
    return needed if needed is not None and 0 <= needed <= MAX_NEEDED else None


def span_problem(lo: float, hi: float) -> str:
    """'' when a relative interval's ends are less than MAX_SPAN apart as ratios, else why a
    PASS cannot rest on it ('interval -73%..+322% spans a factor of 16 ...')."""
    low, high = 1.0 + lo, 1.0 + hi
    if low > 0 and high / low < MAX_SPAN:
        return ""
    span = f"a factor of {high / low:.0f}" if low > 0 else "from nothing"
    return (f"interval {_pct(lo)}..{_pct(hi)} spans {span} between its ends (more than "
            f"{MAX_SPAN:g}, a halving to a doubling): too wide to pass")
