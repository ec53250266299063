"""Records of the spec's production parts: the ``production:`` source and per-SLO SLIs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = ["MIN_WINDOW_S", "Production", "ProductionMix", "ProductionShape", "ProductionSli",
           "PrometheusSource"]

MIN_WINDOW_S = 7 * 86400.0
"""Compliance is not judged on less than 7 days of production data."""
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class ProductionSli:
    """How an SLO is measured in production: PromQL for the good (or bad) and total events,
    each with a ``{window}`` placeholder (a PromQL range like ``5m`` or ``14d``)."""

    kind: Literal["ratio", "latency", "availability"]
    total: str
    good: str | None = None
    bad: str | None = None
    histogram: str | None = None
    """Latency: the histogram's ``_bucket`` series selector, for percentile estimates."""
    threshold_s: float | None = None
    """Latency: a good request is no slower than this (the ``le`` bucket)."""


@dataclass(frozen=True)
class PrometheusSource:
    """The production metrics source. Header values are secrets: never in a report."""

    url: str
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    timeout_s: float = 10.0


@dataclass(frozen=True)
class Production:
    """The spec-level ``production:`` block: where production SLIs are read, over what window."""

    prometheus: PrometheusSource
    window_s: float = 14 * 86400.0
    deployed_at: float | None = None
    """Unix time of the last deploy (the before/after split of the regression check)."""
    location: tuple[str, int] | None = None
    """(file, line) of the block, for messages."""
    mix: ProductionMix | None = None
    """``mix:``: the journey weights taken from production's per-route request counts."""


@dataclass(frozen=True)
class ProductionMix:
    """``production.mix``: ``query`` (with ``{window}``) returns one series per route; the
    ``label`` value names the journey whose weight becomes that route's request count."""

    query: str
    label: str = "route"
    window_s: float = 86400.0
    source: str = ""
    """Set once resolved: the shares and where they came from (for the report)."""


@dataclass(frozen=True)
class ProductionShape:
    """``from_production`` of a baseline or soak profile: the arrival rate of a past
    production window (``query`` over ``window_s``), replayed ``compress`` times faster and
    ``scale`` times higher. Resolved into stages at run time (engine.production.shape)."""

    query: str
    window_s: float = 86400.0
    compress: float = 24.0
    scale: float = 1.0
    source: str = ""
    """Set once resolved: which production window the load came from (for the report)."""

    @property
    def duration_s(self) -> float:
        return self.window_s / self.compress
