"""The spec's ``cost:`` block as a record (kept beside model.py, which Spec imports it into)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CostSettings:
    """The spec's ``cost:`` block (engine.analysis.money reads it)."""

    per_hour: float | None = None
    """What one instance of the target costs per hour."""
    currency: str = "USD"
    cores: int | None = None
    """Cores of one production instance (None: this machine's)."""
    peak_rate: float | None = None
    engineer_hour: float | None = None
    value_per_ms: float | None = None
    value_per_request: float | None = None
