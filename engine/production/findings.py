"""Production monitoring inside apply (issue #17): the spec's production SLOs judged at
apply time, whether their burn-rate alerts are loaded, and what the checklist reads.

Nothing here fails the run: an unreachable Prometheus is reported (the checklist rows
read INVALID with the reason), never COMPLIANT.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from engine.production.client import PrometheusClient, PrometheusError
from engine.production.doc import iso, status_doc
from engine.production.evaluate import SloQueryRejected, Window, evaluate_all
from engine.production.judge import outcome_note, overall
from engine.production.result import SloStatus
from engine.production.rules import PAGE_ALERT
from engine.spec.model import Spec


@dataclass(frozen=True)
class ProductionFindings:
    """The production statuses at ``at``, or why there are none (``error``)."""

    at: float
    statuses: tuple[SloStatus, ...] = ()
    error: str = ""
    alerts_missing: tuple[str, ...] | None = None
    """SLOs without a loaded burn-rate page alert; None when the rules could not be read."""


def observe(spec: Spec, now: float | None = None) -> ProductionFindings | None:
    """The spec's production SLOs judged now; None when the spec has none."""
    prod = spec.production
    slos = [s for s in spec.slos if s.production]
    if prod is None or not slos:
        return None
    at = time.time() if now is None else now
    client = PrometheusClient(prod.prometheus.url, prod.prometheus.headers,
                              prod.prometheus.timeout_s)
    try:
        statuses = evaluate_all(client, slos, Window(at, prod.window_s, prod.deployed_at))
        loaded = {(r.get("labels", {}).get("perfopt_spec"), r.get("labels", {}).get("perfopt_slo"))
                  for r in client.alert_rules() if r.get("name") == PAGE_ALERT}
    except (PrometheusError, SloQueryRejected) as exc:
        return ProductionFindings(at, error=f"production not judged: {exc}")
    missing = tuple(s.name for s in slos if (spec.name, s.name) not in loaded)
    return ProductionFindings(at, tuple(statuses), alerts_missing=missing)


def production_messages(found: ProductionFindings | None) -> list[str]:
    """Flow messages: every production breach and page-level burn, or why none was judged."""
    if found is None:
        return []
    if found.error:
        return [found.error]
    out = []
    for st in found.statuses:
        if st.verdict == "BREACHED":
            out.append(f"production: {st.reason} ({st.slo}, over {st.window_s / 86400:g} days"
                       f"{breach_since(st)}; {st.policy})")
        if st.page:
            out.append(f"production: {st.slo} burning at page level "
                       f"({'; '.join(st.burn.fired)}; {st.policy})")
    return out


def breach_since(st: SloStatus) -> str:
    """', under target since DAY': the start of the last run of days under the target."""
    start = None
    for day in st.days:
        under = day.compliance is not None and day.compliance < st.target
        start = (start or day.end - 86400) if under else None
    return "" if start is None else f", under target every day since {iso(start)}"


def compliance_criterion(found: ProductionFindings | None) -> tuple[str, str]:
    """Checklist 'SLO compliance over 7-14 days': a status name and its evidence. The
    status is judge.overall, the same verdict monitor's exit code follows: a compliant
    window burning at page level is a FAIL that says so."""
    if found is None:
        return "MANUAL", "no production: block in the spec (see README, Production SLOs)"
    if found.error:
        return "INVALID", found.error
    evidence = "; ".join(f"{st.slo}: {st.verdict} ({_brief(st)})" for st in found.statuses)
    return overall(found.statuses), evidence


def _brief(st: SloStatus) -> str:
    days = 0.0 if st.coverage is None else st.coverage.days
    good = "n/a" if st.compliance is None else f"{st.compliance:.3%}"
    note = outcome_note(st)
    return f"{good} good over {days:.1f} d" + (f", but {note}" if note else "")


def alerts_criterion(found: ProductionFindings | None) -> tuple[str, str]:
    """Checklist 'Alerts on regression configured': the page alerts Prometheus has loaded."""
    if found is None:
        return "MANUAL", "no production: block in the spec (see README, Production SLOs)"
    if found.error or found.alerts_missing is None:
        return "INVALID", found.error or "the alerting rules could not be read"
    if found.alerts_missing:
        return "FAIL", (f"no {PAGE_ALERT} loaded for {', '.join(found.alerts_missing)}: "
                        "load the output of perfopt-engine rules into Prometheus")
    return "PASS", f"{PAGE_ALERT} loaded for every production SLO ({len(found.statuses)})"


def findings_doc(found: ProductionFindings | None) -> dict[str, Any] | None:
    """The report's ``production`` entry (None without a production block)."""
    if found is None:
        return None
    return {"at": iso(found.at), "error": found.error or None,
            "alerts_missing": None if found.alerts_missing is None else list(found.alerts_missing),
            "slos": [status_doc(st) for st in found.statuses]}


def production_first(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """The messages with production's first: a production breach leads the report."""
    flat = [m for group in groups for m in group]
    return tuple(sorted(flat, key=lambda m: not m.startswith("production:")))


def budget_risk(found: ProductionFindings | None) -> str:
    """The error budget state every hypothesis' risk line carries: the policy of the SLO
    whose production budget is most consumed ('' without production data)."""
    judged = [st for st in (found.statuses if found else ()) if st.budget_consumed is not None]
    if not judged:
        return ""
    worst = max(judged, key=lambda st: st.budget_consumed or 0.0)
    return f"production {worst.slo}: {worst.policy}"


def with_budget_risk(hypotheses: list[dict[str, Any]],
                     found: ProductionFindings | None) -> list[dict[str, Any]]:
    """Hypothesis report entries with ``budget_risk`` when production data says something."""
    note = budget_risk(found)
    return [{**h, "budget_risk": note} for h in hypotheses] if note else hypotheses
