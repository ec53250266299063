"""The request details of a ``Run`` entry: status codes, per-step figures, checks, journey
instances ended early, redirects and tags of each journey, and the run's per-tag results.

The per-step figures, error causes and tag results come from the analysis stage
(``engine.analysis.steps.RunDetails.to_doc``, passed in as ``details``); counts are copied
from the ``JourneyResult``; this module only rounds and arranges them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.redact import REDACTED, secret_names
from engine.result import CheckResult, JourneyResult

__all__ = ["journey_details", "run_tags"]

_TIME_KEYS = ("p50", "p95", "p99")


def _round(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _TIME_KEYS:
        if out.get(key) is not None:
            out[key] = round(float(out[key]), 9)
    if "error_rate" in out:
        out["error_rate"] = round(float(out["error_rate"]), 9)
    return out


def _pass_rate(c: CheckResult) -> float | None:
    """Passed / evaluated; None when the check was never evaluated."""
    total = c.passed + c.failed
    return round(c.passed / total, 9) if total else None


def _checks(j: JourneyResult) -> list[dict[str, Any]]:
    names = {s.index: s.name for s in j.steps}
    return [{"step": c.step, "step_name": names.get(c.step, ""), "name": c.name,
             "passed": int(c.passed), "failed": int(c.failed), "pass_rate": _pass_rate(c),
             "fail_request": bool(c.fail_request)} for c in j.checks]


def journey_details(j: JourneyResult, details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The journey's request-detail keys; ``details`` is its entry of ``RunDetails.to_doc``
    (None: the analysis gave none, so no per-step rows and no error causes)."""
    d = details or {}
    return {
        "statuses": {str(code): int(n) for code, n in sorted(j.statuses.items()) if n},
        "error_causes": [dict(c) for c in d.get("error_causes", ())],
        "steps": [_round(s) for s in d.get("steps", ())],
        "checks": _checks(j),
        "ended": [{"reason": r, "count": int(n)}
                  for r, n in sorted(j.ended.items(), key=lambda x: (-x[1], x[0])) if n],
        "redirects": int(j.redirects), "tags": dict(j.tags),
    }


def run_tags(rows: Sequence[Mapping[str, Any]], secrets: Sequence[str] = ()
             ) -> list[dict[str, Any]]:
    """The run's per-tag results (``RunDetails.to_doc()["tags"]``), rounded; the value of a
    tag whose key is a secret name is redacted (``key``/``value`` fields escape the
    name-based redaction a ``{key: value}`` mapping gets)."""
    names = secret_names(secrets)
    out = [_round(r) for r in rows]
    for r in out:
        if str(r.get("key", "")).lower() in names:
            r["value"], r["tag"] = REDACTED, f"{r['key']}={REDACTED}"
    return out
