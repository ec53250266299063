"""Units as people write them: durations, rates, percentages, sizes and comparisons.

Every parser returns SI-style plain numbers (seconds, requests per second,
fractions in [0, 1]) and raises ``UnitError`` with the form it expected, so the
spec loader can turn it into a ``file:line`` message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Comparison",
    "UnitError",
    "format_duration",
    "format_improvement",
    "format_level",
    "format_rate",
    "human_duration",
    "parse_change",
    "parse_comparison",
    "parse_duration",
    "parse_effort_hours",
    "parse_percent",
    "parse_rate",
]


class UnitError(ValueError):
    """A value did not match its unit form; ``expected`` says which form."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"expected {expected}, got {got!r}")
        self.expected = expected
        self.got = got


_NUM = r"(\d+(?:\.\d+)?|\.\d+)"
_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0,
    "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0,
}
_DURATION_RE = re.compile(rf"^\s*{_NUM}\s*(ns|us|µs|ms|s|min|m|h|d|w)\s*$")
_RATE_UNITS = {"s": 1.0, "sec": 1.0, "m": 1 / 60.0, "min": 1 / 60.0, "h": 1 / 3600.0}
_RATE_RE = re.compile(rf"^\s*{_NUM}\s*(?:/|\s*per\s*)\s*(s|sec|min|m|h)\s*$")
_PERCENT_RE = re.compile(rf"^\s*{_NUM}\s*%\s*$")
_CMP_RE = re.compile(r"^\s*(<=|>=|<|>|==)\s*(.+?)\s*$")
_CHANGE_RE = re.compile(rf"^\s*(<=|>=|<|>)\s*([+-]?){_NUM}\s*(%|x)\s*$")
_EFFORT_RE = re.compile(rf"^\s*{_NUM}\s*(h|d|w)\s*$")
EFFORT_LEVELS = {"low": 4.0, "medium": 16.0, "high": 48.0}
"""Hours assumed for effort levels: low < 1 day, medium 1-3 days, high > 5 days."""


def parse_duration(text: str) -> float:
    """``250ms``, ``1.5s``, ``5m``, ``28d`` -> seconds (float, >= 0)."""
    m = _DURATION_RE.match(str(text))
    if not m:
        raise UnitError('a duration like "250ms", "1.5s", "5m" or "28d"', str(text))
    return float(m.group(1)) * _DURATION_UNITS[m.group(2)]


def parse_rate(text: str) -> float:
    """``500/s``, ``30000/m``, ``2 per sec`` -> requests per second."""
    m = _RATE_RE.match(str(text))
    if not m:
        raise UnitError('a rate like "500/s" or "30000/m"', str(text))
    return float(m.group(1)) * _RATE_UNITS[m.group(2)]


def parse_percent(text: str) -> float:
    """``0.1%`` -> 0.001, ``99.9%`` -> 0.999 (a fraction in [0, 1])."""
    m = _PERCENT_RE.match(str(text))
    if not m:
        raise UnitError('a percentage like "0.1%" or "99.9%"', str(text))
    value = float(m.group(1)) / 100.0
    if value > 1.0:
        raise UnitError("a percentage between 0% and 100%", str(text))
    return value


def parse_effort_hours(text: str) -> float:
    """``4h``, ``2d`` (8 h days), ``1w`` (40 h) or ``low|medium|high`` -> hours."""
    key = str(text).strip().lower()
    if key in EFFORT_LEVELS:
        return EFFORT_LEVELS[key]
    m = _EFFORT_RE.match(key)
    if not m:
        raise UnitError('an effort like "4h", "2d", "1w", "low", "medium" or "high"', str(text))
    return float(m.group(1)) * {"h": 1.0, "d": 8.0, "w": 40.0}[m.group(2)]


@dataclass(frozen=True)
class Comparison:
    """``op value`` with the value in the metric's base unit (seconds, req/s, fraction)."""

    op: str
    value: float
    text: str

    def holds(self, observed: float) -> bool:
        """True when ``observed op value``."""
        return _OPS[self.op](observed, self.value)

    @property
    def upper_bound(self) -> bool:
        """True for ``<``/``<=`` (smaller is better)."""
        return self.op in ("<", "<=")


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
}


def parse_comparison(text: str, kind: str) -> Comparison:
    """Parse ``< 200ms`` (kind ``duration``), ``>= 1000/s`` (``rate``), ``< 0.1%`` (``percent``)."""
    expected = {
        "duration": 'a comparison like "< 200ms"',
        "rate": 'a comparison like ">= 1000/s"',
        "percent": 'a comparison like "< 0.1%"',
    }[kind]
    m = _CMP_RE.match(str(text))
    if not m:
        raise UnitError(expected, str(text))
    parser = {"duration": parse_duration, "rate": parse_rate, "percent": parse_percent}[kind]
    try:
        value = parser(m.group(2))
    except UnitError:
        raise UnitError(expected, str(text)) from None
    return Comparison(m.group(1), value, str(text).strip())


@dataclass(frozen=True)
class Change:
    """An expected relative change: ``<= -50%`` -> op '<=', ratio -0.5.

    ``ratio`` is (after - before) / before; ``x`` forms are converted, so
    ``>= 2x`` (twice the value) is ratio 1.0 and ``<= 0.5x`` is ratio -0.5.
    """

    op: str
    ratio: float
    text: str

    def holds(self, observed_ratio: float) -> bool:
        """True when the observed relative change meets the expectation."""
        return _OPS[self.op](observed_ratio, self.ratio)


def parse_change(text: str) -> Change:
    """``<= -50%``, ``>= +30%``, ``>= 2x`` -> ``Change``."""
    m = _CHANGE_RE.match(str(text))
    if not m:
        raise UnitError('a change like "<= -50%", ">= +30%" or ">= 2x"', str(text))
    op, sign, number, unit = m.groups()
    magnitude = float(number)
    if unit == "%":
        ratio = (-magnitude if sign == "-" else magnitude) / 100.0
    else:
        ratio = magnitude - 1.0
    return Change(op, ratio, str(text).strip())


def format_duration(seconds: float) -> str:
    """Human form with 3 significant digits: 0.0123 -> '12.3ms' (0.0009996 -> '1ms': the unit
    is chosen after rounding, never '1e+03µs')."""
    seconds = float(f"{seconds:.3g}")
    if abs(seconds) >= 1000:
        return f"{seconds:.0f}s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g}{unit}"
    return f"{seconds / 1e-9:.3g}ns"


def human_duration(seconds: float) -> str:
    """'15 s', '12 min', '4.5 h', '3.2 d' (people's units for run lengths)."""
    for unit, scale, limit in (("s", 1.0, 120.0), ("min", 60.0, 7200.0), ("h", 3600.0, 172800.0)):
        if seconds < limit:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 86400.0:.3g} d"


def format_rate(per_second: float) -> str:
    """'1.23k/s' style rate (999.6/s reads '1k/s', never '1e+03/s')."""
    per_second = float(f"{per_second:.3g}")
    if per_second >= 1000:
        return f"{per_second / 1000:.3g}k/s"
    return f"{per_second:.3g}/s"


def format_improvement(pct: float, digits: int = 1) -> str:
    """'91.3% better' or '12.0% worse' for an improvement in percent (positive = better):
    no sign to misread ('delivered p95 +91%' was said of a p95 that fell 91%)."""
    return f"{abs(pct):.{digits}f}% {'better' if pct >= 0 else 'worse'}"


def format_level(confidence: float) -> str:
    """'98%', '96.2%': an interval's level as every renderer names it (a sequential look's
    level is not a round number; four decimals read as false precision)."""
    return f"{round(confidence * 100, 1):g}%"


def format_value(kind: str, value: float) -> str:
    """Seconds, rates and fractions as people write them."""
    if kind == "latency":
        return format_duration(value)
    if kind == "throughput":
        return format_rate(value)
    return f"{value * 100:.3g}%"
