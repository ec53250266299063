"""apply with a production: block: the Production Monitoring section, the step-6 checklist
rows from data, and the report schema - against the real test Prometheus and demo target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.report.document import validate_document
from tests.production.conftest import EXAMPLE, Prom

STEP6 = ("SLO compliance over 7-14 days of production metrics", "Alerts on regression configured")


def _apply(tmp_path: Path, text: str) -> tuple[int, dict, Path]:
    spec = tmp_path / "production.yaml"
    spec.write_text(text)
    out = tmp_path / "reports"
    code = main(["apply", str(spec), "--out", str(out), "--no-history", "--quiet",
                 "--no-hypotheses", "--format", "json", "--format", "markdown",
                 "--format", "html"])
    doc = json.loads(next(out.glob("*.json")).read_text())
    return code, doc, out


@pytest.mark.slow
def test_apply_reports_production_monitoring(tmp_path: Path, prom: Prom) -> None:
    text = EXAMPLE.read_text().replace("http://127.0.0.1:9090", prom.url)
    _, doc, out = _apply(tmp_path, text)
    assert validate_document(doc) == []
    spec = doc["specs"][0]
    prod = spec["production"]
    assert prod["error"] is None and prod["alerts_missing"] == []
    assert [s["verdict"] for s in prod["slos"]] == ["COMPLIANT"] * 3
    rows = {c["criterion"]: c for c in spec["checklist"]}
    assert [rows[c]["status"] for c in STEP6] == ["PASS", "PASS"]
    markdown = next(out.glob("*.md")).read_text()
    assert "Production SLOs from Prometheus" in markdown
    assert "not measured by this run" not in markdown
    html = next(out.glob("*.html")).read_text()
    assert 'data-chart="production-days"' in html


@pytest.mark.slow
def test_apply_with_prometheus_down_marks_nothing_compliant(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("http://127.0.0.1:9090", "http://127.0.0.1:9")
    _, doc, out = _apply(tmp_path, text)
    assert validate_document(doc) == []
    spec = doc["specs"][0]
    assert spec["production"]["slos"] == []
    assert "Prometheus unreachable" in spec["production"]["error"]
    rows = {c["criterion"]: c for c in spec["checklist"]}
    assert [rows[c]["status"] for c in STEP6] == ["INVALID", "INVALID"]
    assert any("production not judged" in m for m in spec["messages"])
    assert "COMPLIANT" not in next(out.glob("*.md")).read_text()
