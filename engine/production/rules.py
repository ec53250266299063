"""Prometheus rules as code (issue #17), as Sloth and Pyrra write them.

Per production SLO: recording rules for the error ratio over 5m, 30m, 1h, 2h, 6h, 1d
and 3d; multi-window multi-burn-rate alerts (page: 14.4x over 1h and 5m, or 6x over 6h
and 30m; ticket: 1x over 3d and 6h), and an alert when the SLI's metrics are absent.
Rendered as YAML by hand (JSON-quoted strings are valid YAML scalars).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from engine.production import queries as q
from engine.spec.model import Slo, Spec

RECORD = "perfopt:slo_error_ratio:rate{window}"
RULE_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
_SECONDS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": 86400,
            "3d": 259200}
PAGE = ((14.4, "1h", "5m"), (6.0, "6h", "30m"))
TICKET = ((1.0, "3d", "6h"),)


def _labels(spec: Spec, slo: Slo) -> dict[str, str]:
    return {"perfopt_spec": spec.name, "perfopt_slo": slo.name}


def _ref(window: str, labels: dict[str, str]) -> str:
    matchers = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return RECORD.format(window=window) + "{" + matchers + "}"


def _burn(pairs: tuple[tuple[float, str, str], ...], budget: float,
          labels: dict[str, str]) -> str:
    terms = [f"({_ref(long, labels)} > ({factor:g} * {budget:g}) and "
             f"{_ref(short, labels)} > ({factor:g} * {budget:g}))"
             for factor, long, short in pairs]
    return " or ".join(terms)


def slo_groups(spec: Spec, slo: Slo) -> list[dict[str, Any]]:
    """The recording group and the alerting group of one production SLO."""
    sli = slo.production
    assert sli is not None and slo.target is not None
    budget, labels = 1.0 - slo.target, _labels(spec, slo)
    records = [{"record": RECORD.format(window=w), "expr": q.error_ratio(sli, _SECONDS[w]),
                "labels": labels} for w in RULE_WINDOWS]
    about = f"{spec.name} / {slo.name} ({slo.objective.text}, target {slo.target:.4%})"
    alerts = [
        {"alert": "PerfoptSLOBurnRatePage", "expr": _burn(PAGE, budget, labels),
         "labels": {**labels, "severity": "page"},
         "annotations": {"summary": f"Error budget burning fast: {about}",
                         "description": "14.4x over 1h and 5m, or 6x over 6h and 30m."}},
        {"alert": "PerfoptSLOBurnRateTicket", "expr": _burn(TICKET, budget, labels),
         "labels": {**labels, "severity": "ticket"},
         "annotations": {"summary": f"Error budget burning: {about}",
                         "description": "1x over 3d and 6h: the budget runs out within the "
                                        "window at this rate."}},
        {"alert": "PerfoptSLOMetricsAbsent", "expr": f"absent({q.events(sli, 600)})",
         "for": "10m", "labels": {**labels, "severity": "ticket"},
         "annotations": {"summary": f"No SLI data for {about}: compliance cannot be judged"}},
    ]
    base = f"perfopt-{spec.name}-{slo.name}"
    return [{"name": f"{base}-sli", "rules": records},
            {"name": f"{base}-alerts", "rules": alerts}]


def rule_groups(specs: list[Spec]) -> list[dict[str, Any]]:
    """Every production SLO's groups, in spec order."""
    return [g for spec in specs for slo in spec.slos if slo.production
            for g in slo_groups(spec, slo)]


def to_yaml(groups: list[dict[str, Any]]) -> str:
    """A Prometheus rule file."""
    return "\n".join(["groups:", *_emit(groups, 1)]) + "\n"


def _emit(value: Any, depth: int) -> Iterator[str]:
    pad = "  " * depth
    if isinstance(value, list):
        for item in value:
            lines = list(_emit(item, depth + 1))
            yield f"{pad}- {lines[0].lstrip()}"
            yield from lines[1:]
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                yield f"{pad}{key}:"
                yield from _emit(item, depth + 1)
            else:
                yield f"{pad}{key}: {json.dumps(item)}"
