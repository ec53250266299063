"""One regression check's verdict (``RegressionCheck``) and the label it is shown by.

A module of its own so that the gate (engine.analysis.regression) and the rules for which
checks hold it (engine.analysis.regression_scope) share the type without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.analysis.compare import Effect, higher_is_better
from engine.analysis.intervals import practical
from engine.result import Status

__all__ = ["ABSOLUTE", "RegressionCheck", "bad_sign", "label", "mde_text", "ms_text",
           "regression_message", "undecided"]

ABSOLUTE = frozenset({"error_rate", "availability"})
"""Metrics compared in absolute points (b - a): a relative change from 0 is undefined."""


def bad_sign(metric: str) -> float:
    """+1 when an increase is bad (latency, error rate), -1 when a decrease is (throughput,
    availability): the gate's checks and the rules for which of them hold it share it."""
    return -1.0 if higher_is_better(metric) else 1.0


def label(metric: str, journey: str | None) -> str:
    """'lookup p95' or 'p95': the metric name used in messages and reports."""
    return f"{journey} {metric}" if journey else metric


def ms_text(seconds: float | None) -> str:
    """'9.33 ms' (3 significant digits), 'n/a' for None."""
    return "n/a" if seconds is None else f"{seconds * 1e3:.3g} ms"


@dataclass(frozen=True)
class RegressionCheck:
    """One metric's verdict. ``change``/CI are relative, except error_rate/availability
    (absolute difference in fraction points) and guards (the current value itself)."""

    metric: str
    journey: str | None
    baseline: float | None
    current: float | None
    change: float | None
    ci_low: float | None
    ci_high: float | None
    tolerance: float
    significant: bool
    status: Status
    message: str
    requests_needed: int | None = None
    effect: Effect | None = None
    improved: bool = False
    """The whole interval lies on the good side of 0 (``significant`` is the bad side)."""
    judged: bool = True
    """Whether the check holds the gate (engine.analysis.regression_scope); when not, its
    message says why and what would make it count."""
    guard: bool = False
    """A confirmed hypothesis kept as a check (engine.analysis.regression_guard): its
    change and interval are the current value, not a relative change."""

    def to_doc(self) -> dict[str, Any]:
        """The REPORT_FORMAT ``RegressionCheck`` object."""
        return {
            "metric": self.metric, "journey": self.journey, "baseline": self.baseline,
            "current": self.current, "change": self.change, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "tolerance": self.tolerance,
            "significant": self.significant, "status": str(self.status), "judged": self.judged,
            "message": self.message, "requests_needed": self.requests_needed,
            "confidence": self.effect.confidence if self.effect else None,
            "mde": self.effect.mde if self.effect else None,
        }


def mde_text(effect: Effect) -> str:
    """'; smallest change this noise detects: -11.0% or +12.3%' (a log-scale metric's
    interval is symmetric in log: a fall of 1 - 1/(1 + mde) is as detectable as a rise of
    mde; '+429%' beside a CONFIRMED -91% read as a contradiction), '2.0 points' for error
    rates, or ''."""
    if effect.mde is None:
        return ""
    if effect.mde < 1e-9:  # a zero-width interval: "detects 0.0%" would claim too much
        return "; no noise measured (an open model's schedule fixes the request count)" \
            if effect.metric == "throughput" else ""
    fall = effect.mde / (1.0 + effect.mde)
    amount = f"{effect.mde * 100:.1f} points" if effect.metric in ABSOLUTE \
        else f"-{fall * 100:.1f}% or +{effect.mde * 100:.1f}%"
    flagged = f"; disturbed run (counted in full): {', '.join(effect.flagged_runs)}" \
        if effect.flagged_runs else ""
    return f"; smallest change this noise detects: {amount}{flagged}"


def regression_message(name: str, bad_amount: float) -> str:
    """The verbatim flow message; error-rate degradation is in percentage points."""
    return f"Performance regression detected: {name} degraded by {bad_amount * 100:.1f}%"


def undecided(metric: str, journey: str | None, tolerance: float, message: str,
              effect: Effect | None = None) -> RegressionCheck:
    """An INCONCLUSIVE check with no interval to show (no data, no baseline, no bound)."""
    return RegressionCheck(
        metric, journey, effect.a_value if effect else None,
        effect.b_value if effect else None, None, None, None, tolerance, False,
        Status.INCONCLUSIVE, message, practical(effect.requests_needed) if effect else None,
        effect)
