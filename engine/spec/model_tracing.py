"""The spec-level ``tracing:`` block (issue #21) as a record.

engine/spec/model.py is at its size limit, so the block travels in ``Spec.extra`` under
``tracing.*`` keys (written by ``tracing_extra`` at load) and is read back as a typed
``Tracing`` with ``tracing_of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.spec.model import Spec

DEFAULT_MAX_SPANS = 200_000
_KEYS = ("enabled", "sample", "port", "max_spans", "bind", "advertise")
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Tracing:
    """``tracing: {enabled, sample, port, max_spans, bind, advertise}``."""

    enabled: bool = True
    sample: float = 1.0
    """Fraction of requests whose traceparent says sampled (flags 01)."""
    port: int = 0
    """Port of the OTLP/HTTP receiver (0: any free port)."""
    max_spans: int = DEFAULT_MAX_SPANS
    bind: str = LOOPBACK
    """The address the receiver listens on (a remote target's exporter must reach it)."""
    advertise: str = ""
    """The receiver URL targets export to ('': the bound address; no port: the bound port)."""


def tracing_extra(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """The schema-checked ``tracing:`` block as ``Spec.extra`` entries ({} when absent)."""
    if raw is None:
        return {}
    t = Tracing(enabled=bool(raw.get("enabled", True)), sample=float(raw.get("sample", 1.0)),
                port=int(raw.get("port", 0)),
                max_spans=int(raw.get("max_spans", DEFAULT_MAX_SPANS)),
                bind=str(raw.get("bind", LOOPBACK)), advertise=str(raw.get("advertise", "")))
    return {f"tracing.{k}": str(getattr(t, k)) for k in _KEYS}


def tracing_of(spec: Spec) -> Tracing | None:
    """The spec's tracing settings when tracing is on, else None."""
    extra = spec.extra
    if extra.get("tracing.enabled") != "True":
        return None
    return Tracing(True, float(extra.get("tracing.sample", "1.0")),
                   int(extra.get("tracing.port", "0")),
                   int(extra.get("tracing.max_spans", str(DEFAULT_MAX_SPANS))),
                   extra.get("tracing.bind", LOOPBACK), extra.get("tracing.advertise", ""))
