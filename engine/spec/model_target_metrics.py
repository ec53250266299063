"""``target.metrics`` (issue #21): where a remote target's resources are read from Prometheus.

engine/spec/model.py is at its size limit, so the block travels in ``Spec.extra`` under
``target.metrics.*`` keys (written by ``target_metrics_extra`` at load) and is read back as
a typed ``TargetMetrics`` with ``target_metrics_of``. Only the spec's own target has one:
a hypothesis side's target is another deployment with other labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.spec.context import Ctx, P
from engine.spec.model import Spec
from engine.spec.production_model import Production

__all__ = ["DEFAULT_SCRAPE_S", "TargetMetrics", "target_metrics_extra", "target_metrics_of"]

DEFAULT_SCRAPE_S = 15.0
"""Prometheus' own default scrape interval."""
_PREFIX = "target.metrics."


@dataclass(frozen=True)
class TargetMetrics:
    """``target.metrics: {prometheus, select, node, scrape_interval}``, resolved."""

    url: str
    """The Prometheus HTTP API base URL (``production.prometheus.url`` when not given)."""
    select: str
    """Label matchers of the target's ``process_*`` series, like ``{job="api"}``."""
    node: str
    """Label matchers of the target machine's ``node_*`` series (default: ``select``)."""
    scrape_s: float = DEFAULT_SCRAPE_S
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """``production.prometheus.headers`` when the URL is production's (secrets)."""
    timeout_s: float = 10.0


def target_metrics_extra(ctx: Ctx, raw_target: Mapping[str, Any],
                         production: Production | None) -> dict[str, str]:
    """The schema-checked block as ``Spec.extra`` entries ({} when absent)."""
    raw = raw_target.get("metrics")
    if raw is None:
        return {}
    path: P = ("target", "metrics")
    url = str(raw.get("prometheus", "")).rstrip("/")
    if not url and production is None:
        ctx.error(path, "expected metrics.prometheus (the Prometheus URL) or a top-level "
                        "production: block whose prometheus this reuses")
    scrape = ctx.duration((*path, "scrape_interval"), raw.get("scrape_interval"))
    select = str(raw["select"])
    return {f"{_PREFIX}url": url, f"{_PREFIX}select": select,
            f"{_PREFIX}node": str(raw.get("node", select)),
            f"{_PREFIX}scrape_s": str(scrape or DEFAULT_SCRAPE_S)}


def target_metrics_of(spec: Spec) -> TargetMetrics | None:
    """The spec target's Prometheus source, or None when the spec names none."""
    extra = spec.extra
    if f"{_PREFIX}select" not in extra:
        return None
    url, prod = extra[f"{_PREFIX}url"], spec.production
    source = prod.prometheus if prod is not None else None
    same = source is not None and (not url or url == source.url)
    return TargetMetrics(
        url if url or source is None else source.url, extra[f"{_PREFIX}select"],
        extra[f"{_PREFIX}node"], float(extra[f"{_PREFIX}scrape_s"]),
        source.headers if same and source is not None else MappingProxyType({}),
        source.timeout_s if same and source is not None else 10.0)
