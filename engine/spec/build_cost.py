"""The ``cost:`` section -> CostSettings (what the target costs and what speed is worth)."""

from __future__ import annotations

from typing import Any

from engine.spec.context import Ctx
from engine.spec.cost import CostSettings


def build_cost(ctx: Ctx, raw: dict[str, Any] | None) -> CostSettings | None:
    """None without a ``cost:`` block; numbers are schema-checked (>= 0) already."""
    if raw is None:
        return None
    peak = ctx.rate(("cost", "peak_rate"), raw["peak_rate"]) if "peak_rate" in raw else None
    return CostSettings(per_hour=_number(raw, "per_hour"),
                        currency=str(raw.get("currency", "USD")),
                        cores=int(raw["cores"]) if "cores" in raw else None,
                        peak_rate=peak, engineer_hour=_number(raw, "engineer_hour"),
                        value_per_ms=_number(raw, "value_per_ms"),
                        value_per_request=_number(raw, "value_per_request"))


def _number(raw: dict[str, Any], key: str) -> float | None:
    return float(raw[key]) if raw.get(key) is not None else None
