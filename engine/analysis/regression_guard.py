"""Guards: a confirmed hypothesis kept as a regression check (engine.analysis.regression).

The current value must keep meeting the hypothesis's expectation: its interval (of the
current runs alone) all past the limit FAILs, all within it PASSes, else INCONCLUSIVE.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.analysis.compare import StatsConfig, compare
from engine.analysis.intervals import interval_problem
from engine.analysis.regression_check import (
    RegressionCheck,
    label,
    regression_message,
    undecided,
)
from engine.analysis.regression_settings import Guard
from engine.result import RunResult, Status

__all__ = ["guard_check"]


def guard_check(current: Sequence[RunResult], guard: Guard,
                config: StatsConfig | None) -> RegressionCheck:
    """The current value against a confirmed hypothesis's limit (interval of b alone)."""
    name, cmp = label(guard.metric, guard.journey), guard.comparison
    effect = compare(current, current, guard.metric, guard.journey, config)
    value, lo, hi = effect.b_value, effect.b_ci_low, effect.b_ci_high
    if effect.insufficient or value is None or lo is None or hi is None:
        return undecided(guard.metric, guard.journey, cmp.value,
                         f"{name}: {effect.reason or 'no data'} ({guard.source})", effect)
    unbounded = interval_problem(lo, hi, "value", sure_bad=True)
    if unbounded:
        return undecided(guard.metric, guard.journey, cmp.value,
                         f"{name}: {unbounded} ({guard.source})", effect)
    violated_point = not cmp.holds(value)
    violated_all = not cmp.holds(lo) and not cmp.holds(hi)
    if violated_point and violated_all:
        bad = abs(value - cmp.value) / cmp.value if cmp.value else 0.0
        status, msg = Status.FAIL, regression_message(name, bad)
    elif cmp.holds(lo) and cmp.holds(hi):
        status, msg = Status.PASS, f"{name}: still meets {cmp.text} ({guard.source})"
    else:
        status, msg = Status.INCONCLUSIVE, f"{name}: cannot tell whether {cmp.text} still " \
                                           f"holds ({guard.source})"
    return RegressionCheck(guard.metric, guard.journey, cmp.value, value, value, lo, hi,
                           cmp.value, violated_all, status, msg, None, effect, guard=True)
