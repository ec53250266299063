"""The report's first screen (#19): verdict, failed gates with their actions, warnings and
the top ROI item with its money, in every format; the JSON carries them and validates;
the documents are written beside the reports."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.report import console, html, markdown, summary
from engine.report.advice_text import first_screen
from engine.report.document import validate_document
from engine.report.writer import write_documents, write_reports
from tests.support.docs import full_document

WARNING = {"code": "load-unlike-production", "title": "Load test doesn't match production",
           "subject": "baseline", "evidence": "baseline ran 10 s; the flow's guidance is 15-30 min",
           "remediation": "Run each profile for the flow's guidance."}
ACTION = {"kind": "slo-breach", "failure": "SLO breached: lookup p95 53.5ms exceeds target 25ms",
          "action": "Identify the bottleneck and implement an optimization",
          "escalation": "error budget left: fix it in the normal flow"}
FLEET = {"peak_rate": 1000.0, "cpu_s_per_request": 0.005, "cores": 2, "instances": 4,
         "monthly_cost": 1460.0, "inputs": "peak 1,000/s x 5 ms CPU per request"}


def _doc(trigger: str = "slo-breach") -> dict[str, Any]:
    doc = copy.deepcopy(full_document())
    spec = doc["specs"][0]
    top = spec["priorities"][0]["id"]
    spec.update(trigger=trigger, warnings=[WARNING], actions=[ACTION], next_target="H2 cache",
                next_review="2026-12-06",
                money={"fleet": FLEET, "savings": [{
                    "id": top, "before": FLEET, "after": dict(FLEET, instances=2),
                    "infra_monthly": 730.0, "value_monthly": 400.0, "monthly": 1130.0,
                    "payback_months": 0.2, "currency": "EUR", "inputs": "measured inputs"}]})
    return doc


def test_the_judgement_blocks_in_first_screen_order() -> None:
    spec = _doc()["specs"][0]
    blocks = first_screen(spec)
    assert [h for h, _ in blocks] == ["Failed gates: actions", "Warnings",
                                      "Return on investment", "Next"]
    assert blocks[0][1] == [f"{ACTION['failure']} -> {ACTION['action']}; {ACTION['escalation']}"]
    assert blocks[1][1][0].startswith("Load test doesn't match production (baseline) "
                                      "[load-unlike-production]: baseline ran 10 s")
    assert "saves 1,130.00 EUR per month, payback 0.2 months (measured inputs)" in blocks[2][1][0]
    assert blocks[3][1] == ["Next optimization target: H2 cache; next review: 2026-12-06"]


def test_a_cost_reduction_report_leads_with_the_saving() -> None:
    blocks = first_screen(_doc("cost-reduction")["specs"][0])
    assert blocks[0][0] == "Return on investment"


def test_every_format_shows_the_first_screen_and_the_json_validates() -> None:
    doc = _doc()
    assert validate_document(doc) == []
    md = markdown.render(doc)
    overview = md.split("\n## ")[1]  # the first section after the header
    for text in (ACTION["failure"] + " -> " + ACTION["action"], "[load-unlike-production]",
                 "saves 1,130.00 EUR per month", "next review: 2026-12-06"):
        assert text in overview, text
        assert text in html.render(doc).replace("&#x27;", "'").replace("&gt;", ">"), text
        assert text in console.render_summary(doc), text
        assert text in summary.render(doc), text


def test_without_findings_nothing_is_added() -> None:
    doc = copy.deepcopy(full_document())
    spec = doc["specs"][0]
    spec["priorities"] = []
    assert first_screen(spec) == []


def test_documents_are_written_beside_the_reports(tmp_path: Path) -> None:
    doc = _doc()
    reports = write_reports(doc, ["json"], tmp_path, datetime(2026, 11, 29, tzinfo=UTC))
    assert all(p.parent == tmp_path for p in reports)
    written = write_documents(doc, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert any(n.startswith("runbooks/") for n in names), names
    card = next(p for p in written if "runbooks/" in p.as_posix()).read_text(encoding="utf-8")
    assert card.startswith("# Runbook: ")
    stored = json.loads(next(p for p in reports if p.name.endswith("-latest.json")).read_text())
    assert stored["specs"][0]["warnings"][0]["code"] == "load-unlike-production"
