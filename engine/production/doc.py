"""SloStatus -> plain JSON data (monitor --json, the report's Production Monitoring section)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.production.result import SloStatus


def iso(t: float | None) -> str | None:
    """Unix seconds -> '2026-11-29T20:00:00Z'."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def status_doc(st: SloStatus) -> dict[str, Any]:
    """One SLO's production status as JSON-ready data (no secrets: none are in it)."""
    cov = st.coverage
    budget_total = None if st.events is None else st.events * st.budget
    return {
        "slo": st.slo, "metric": st.metric, "objective": st.objective,
        "target": _r(st.target), "verdict": st.verdict, "reason": st.reason,
        "period": {"start": iso(st.start), "end": iso(st.end), "days": _r(st.window_s / 86400, 3),
                   "days_of_data": None if cov is None else _r(cov.days, 3),
                   "gaps": [] if cov is None else [[iso(a), iso(b)] for a, b in cov.gaps]},
        "compliance": _r(st.compliance),
        "per_day": [{"end": iso(d.end), "compliance": _r(d.compliance)} for d in st.days],
        "value": _r(st.value),
        "error_budget": {
            "fraction": _r(st.budget), "events": _r(st.events, 1),
            "total_events": _r(budget_total, 1),
            "consumed": _r(st.budget_consumed),
            "remaining": _r(st.budget_remaining),
            "exhaustion_s": _r(st.exhaustion_s, 0)},
        "burn": {"rates": {k: _r(v, 4) for k, v in st.burn.rates.items()},
                 "state": st.burn.level, "fired": list(st.burn.fired)},
        "policy": st.policy,
        "regression": _regression(st),
        "changepoints": [{"at": iso(s.at), "before": _r(s.before), "after": _r(s.after),
                          "worse": s.worse} for s in st.shifts],
    }


def _regression(st: SloStatus) -> dict[str, Any] | None:
    reg = st.regression
    if reg is None:
        return None
    return {"deployed_at": iso(reg.deployed_at), "burn_before": _r(reg.burn_before, 4),
            "burn_after": _r(reg.burn_after, 4), "value_before": _r(reg.value_before),
            "value_after": _r(reg.value_after), "regressed": reg.regressed}
