"""What monitor found for one SLO over its production window (computed, not printed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from engine.production.shifts import Shift

Verdict = Literal["COMPLIANT", "BREACHED", "INSUFFICIENT_DATA"]
BurnLevel = Literal["page", "ticket", "ok", "unknown"]
_NONE: Mapping[str, float | None] = MappingProxyType({})


@dataclass(frozen=True)
class Day:
    """One day of the window: its end (unix seconds) and the good-event share in it."""

    end: float
    compliance: float | None


@dataclass(frozen=True)
class Coverage:
    """Which hours of the window have samples (the SLI's total events query answered)."""

    hours: int
    present: int
    first: float | None
    last: float | None
    gaps: tuple[tuple[float, float], ...] = ()
    """[start, end) of each run of missing hours after the first sample (and up to the end)."""

    @property
    def days(self) -> float:
        return self.present / 24.0


@dataclass(frozen=True)
class Burn:
    """Burn rates by window (1.0 spends the budget exactly over the SLO window) and the
    multi-window multi-burn-rate alert state (SRE workbook)."""

    rates: Mapping[str, float | None] = field(default_factory=lambda: _NONE)
    level: BurnLevel = "unknown"
    fired: tuple[str, ...] = ()


@dataclass(frozen=True)
class Regression:
    """Before vs after the deploy: burn rates, and the percentile for latency SLIs."""

    deployed_at: float
    burn_before: float | None
    burn_after: float | None
    value_before: float | None = None
    value_after: float | None = None
    regressed: bool | None = None


@dataclass(frozen=True)
class SloStatus:
    """One production SLO over its window."""

    slo: str
    metric: str
    """p95 for a latency SLO, error_rate for ratio and availability SLOs."""
    objective: str
    target: float
    window_s: float
    start: float
    end: float
    verdict: Verdict
    reason: str
    compliance: float | None = None
    days: tuple[Day, ...] = ()
    coverage: Coverage | None = None
    events: float | None = None
    budget_consumed: float | None = None
    """Share of the window's error budget spent (1.0 = all of it)."""
    burn: Burn = Burn()
    exhaustion_s: float | None = None
    """Time until the budget is spent at the current (1h) burn; None: not burning."""
    value: float | None = None
    """The observed metric over the window: the percentile (s) or the bad-event share."""
    policy: str = ""
    regression: Regression | None = None
    shifts: tuple[Shift, ...] = ()
    """Change points of the 6-hourly series (engine.production.shifts), oldest first."""

    @property
    def budget(self) -> float:
        return 1.0 - self.target

    @property
    def budget_remaining(self) -> float | None:
        """Share of the budget left, 0 once exhausted (None when consumption is unknown):
        the one figure the terminal, the JSON and the report print."""
        return None if self.budget_consumed is None else max(0.0, 1.0 - self.budget_consumed)

    @property
    def page(self) -> bool:
        return self.burn.level == "page"
