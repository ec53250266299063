"""The spec-level ``profiling:`` block (issue #21) as a record.

engine/spec/model.py is at its size limit, so the block travels in ``Spec.extra`` under
``profiling.*`` keys (written by ``profiling_extra`` at load) and is read back as a typed
``Profiling`` with ``profiling_of``, as ``tracing:`` does (engine.spec.model_tracing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.spec.model import Spec

DEFAULT_RATE = 100
TOOLS = ("auto", "py-spy", "perf")
"""auto: py-spy for a Python target, perf for any other (engine.target.profiler.choose_tool)."""
_KEYS = ("enabled", "rate", "tool")


@dataclass(frozen=True)
class Profiling:
    """``profiling: {enabled, rate, tool}``: sample the target's stacks during each run."""

    enabled: bool = True
    rate: int = DEFAULT_RATE
    """Stack samples per second (py-spy --rate, perf -F)."""
    tool: str = "auto"
    """One of TOOLS."""


def profiling_extra(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """The schema-checked ``profiling:`` block as ``Spec.extra`` entries ({} when absent)."""
    if raw is None:
        return {}
    p = Profiling(enabled=bool(raw.get("enabled", True)),
                  rate=int(raw.get("rate", DEFAULT_RATE)), tool=str(raw.get("tool", "auto")))
    return {f"profiling.{k}": str(getattr(p, k)) for k in _KEYS}


def profiling_of(spec: Spec) -> Profiling | None:
    """The spec's profiling settings when profiling is on, else None."""
    if spec.extra.get("profiling.enabled") != "True":
        return None
    return Profiling(True, int(spec.extra.get("profiling.rate", str(DEFAULT_RATE))),
                     spec.extra.get("profiling.tool", "auto"))
