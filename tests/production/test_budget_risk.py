"""The error budget state in every hypothesis' risk line (issue #17)."""

from __future__ import annotations

from engine.production.findings import ProductionFindings, budget_risk, with_budget_risk
from engine.production.judge import policy_line
from engine.production.result import SloStatus
from engine.report.markdown import render
from tests.support.docs import full_document


def _status(slo: str, consumed: float) -> SloStatus:
    return SloStatus(slo, "error_rate", ">= 99.9%", 0.999, 14 * 86400.0, 0.0, 14 * 86400.0,
                     "COMPLIANT", "", 0.9991, budget_consumed=consumed,
                     policy=policy_line(consumed))


def test_the_most_consumed_budget_is_the_risk_note() -> None:
    found = ProductionFindings(0.0, (_status("availability", 0.3), _status("checkout", 0.85)))
    assert budget_risk(found) == "production checkout: budget 85% consumed: risky changes wait"
    assert budget_risk(None) == "" and budget_risk(ProductionFindings(0.0, error="down")) == ""


def test_hypothesis_risk_line_carries_it() -> None:
    doc = full_document()
    spec = doc["specs"][0]
    found = ProductionFindings(0.0, (_status("checkout", 1.2),))
    spec["hypotheses"] = with_budget_risk(spec["hypotheses"], found)
    text = render(doc)
    risk_lines = [line for line in text.splitlines() if "**risk**:" in line]
    assert risk_lines and all("(production checkout: error budget exhausted: stop feature work"
                              in line for line in risk_lines)
    assert with_budget_risk(spec["hypotheses"][:1], None) == spec["hypotheses"][:1]
