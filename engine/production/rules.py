"""Prometheus rules as code (issue #17), as Sloth and Pyrra write them.

Per production SLO: recording rules for the error ratio over every window monitor reads
(engine.production.judge.BURN_WINDOWS); the multi-window multi-burn-rate alerts of
judge.ALERTS (the SRE workbook's page and ticket pairs), so Prometheus alerts on exactly
the burn monitor judges; and an alert when the SLI's metrics are absent.
Rendered as YAML by hand (JSON-quoted strings are valid YAML scalars).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from engine.production import queries as q
from engine.production.judge import ALERTS, BURN_WINDOWS
from engine.production.result import BurnLevel
from engine.spec.model import Slo, Spec

RECORD = "perfopt:slo_error_ratio:rate{window}"
PAGE_ALERT = "PerfoptSLOBurnRatePage"
TICKET_ALERT = "PerfoptSLOBurnRateTicket"
RULE_WINDOWS = tuple(BURN_WINDOWS)
Pairs = tuple[tuple[float, str, str], ...]


def pairs(level: BurnLevel) -> Pairs:
    """(factor, long window, short window) of judge.ALERTS at ``level``."""
    return tuple((factor, long, short) for alert, factor, long, short in ALERTS
                 if alert == level)


def describe(level: BurnLevel) -> str:
    """'14.4x over 1h and 5m, or 6x over 6h and 30m': the alert's condition in words."""
    return ", or ".join(f"{factor:g}x over {long} and {short}"
                        for factor, long, short in pairs(level))


def _labels(spec: Spec, slo: Slo) -> dict[str, str]:
    return {"perfopt_spec": spec.name, "perfopt_slo": slo.name}


def _ref(window: str, labels: dict[str, str]) -> str:
    matchers = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return RECORD.format(window=window) + "{" + matchers + "}"


def _burn(level: BurnLevel, budget: float, labels: dict[str, str]) -> str:
    terms = [f"({_ref(long, labels)} > ({factor:g} * {budget:g}) and "
             f"{_ref(short, labels)} > ({factor:g} * {budget:g}))"
             for factor, long, short in pairs(level)]
    return " or ".join(terms)


def slo_groups(spec: Spec, slo: Slo) -> list[dict[str, Any]]:
    """The recording group and the alerting group of one production SLO."""
    sli = slo.production
    assert sli is not None and slo.target is not None
    budget, labels = 1.0 - slo.target, _labels(spec, slo)
    records = [{"record": RECORD.format(window=w), "expr": q.error_ratio(sli, BURN_WINDOWS[w]),
                "labels": labels} for w in RULE_WINDOWS]
    about = f"{spec.name} / {slo.name} ({slo.objective.text}, target {slo.target:.4%})"
    alerts = [
        {"alert": PAGE_ALERT, "expr": _burn("page", budget, labels),
         "labels": {**labels, "severity": "page"},
         "annotations": {"summary": f"Error budget burning fast: {about}",
                         "description": f"{describe('page')}."}},
        {"alert": TICKET_ALERT, "expr": _burn("ticket", budget, labels),
         "labels": {**labels, "severity": "ticket"},
         "annotations": {"summary": f"Error budget burning: {about}",
                         "description": f"{describe('ticket')}: the budget runs out within "
                                        "the window at this rate."}},
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
