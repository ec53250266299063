"""rules: the output passes `promtool check rules`, and `promtool test rules` fires the
page alert on a fast burn and nothing on a healthy service."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from engine.production.rules import rule_groups
from engine.spec.loader import load_paths

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "production.yaml"


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is not installed (apt-get install prometheus; .ci/run does)")
    out = tmp_path / "rules.yaml"
    assert main(["rules", str(EXAMPLE), "--out", str(out)]) == 0
    return out


def test_promtool_accepts_the_rules(rules_file: Path) -> None:
    result = subprocess.run(["promtool", "check", "rules", str(rules_file)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 30 rules found" in result.stdout  # 3 SLOs x (7 records + 3 alerts)


def _page_alerts(slos: list[str]) -> list[dict[str, Any]]:
    spec = load_paths([str(EXAMPLE)]).specs[0]
    out = []
    for group in rule_groups([spec]):
        for rule in group["rules"]:
            if rule.get("alert") == "PerfoptSLOBurnRatePage" and \
                    rule["labels"]["perfopt_slo"] in slos:
                out.append({"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]})
    return out


def _unit_test(tmp_path: Path, rules: Path, error_share: float, expected: list[Any]) -> str:
    per_min = 600
    errors = per_min * error_share
    test = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [
            {"series": 'http_requests_total{job="shop",code="200"}',
             "values": f"0+{per_min - errors:g}x180"},
            {"series": 'http_requests_total{job="shop",code="500"}',
             "values": f"0+{errors:g}x180"}],
        "alert_rule_test": [{"eval_time": "2h", "alertname": "PerfoptSLOBurnRatePage",
                             "exp_alerts": expected}]}]}
    path = tmp_path / "test.yaml"
    path.write_text(json.dumps(test))  # JSON is YAML
    result = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_fast_burn_pages_for_both_error_slos(rules_file: Path, tmp_path: Path) -> None:
    # 5% errors against a 99.9% SLO: a 50x burn over every window
    _unit_test(tmp_path, rules_file, 0.05, _page_alerts(["availability", "errors"]))


def test_healthy_service_does_not_page(rules_file: Path, tmp_path: Path) -> None:
    _unit_test(tmp_path, rules_file, 0.0002, [])


def test_no_production_slis_is_a_usage_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "plain.yaml"
    text = EXAMPLE.read_text()
    spec.write_text(text[:text.index("production:\n  prometheus")] + text[text.index("slos:"):]
                    .split("slos:")[0] + "load:\n  baseline: {rate: 5/s, duration: 1s}\n")
    assert main(["rules", str(spec)]) == 2
    assert "no spec has production SLIs" in capsys.readouterr().err
