"""rules: the output passes `promtool check rules`, and `promtool test rules` fires the
page alert on a fast burn and nothing on a healthy service."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from engine.production.judge import ALERTS, BURN_WINDOWS, burn_state
from engine.production.queries import promql_range
from engine.production.rules import PAGE_ALERT, RECORD, TICKET_ALERT, rule_groups
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


def _rules(slo: str) -> dict[str, dict[str, Any]]:
    """The generated rules of one of the example's SLOs, by record or alert name."""
    spec = load_paths([str(EXAMPLE)]).specs[0]
    return {r.get("alert") or r["record"]: r for g in rule_groups([spec]) for r in g["rules"]
            if r["labels"]["perfopt_slo"] == slo}


_TERM = re.compile(re.escape(RECORD.format(window="")) + r"(\w+)\{[^}]*\} > \(([\d.]+) \* ([\d.e-]+)\)")


def _conditions(expr: str) -> tuple[list[tuple[str, float]], set[str]]:
    """(window, factor) of every comparison in an alert expression, and the budgets used."""
    found = _TERM.findall(expr)
    return [(w, float(f)) for w, f, _ in found], {b for _, _, b in found}


@pytest.mark.parametrize(("alert", "level"), [(PAGE_ALERT, "page"), (TICKET_ALERT, "ticket")])
def test_alerts_are_the_judges_table(alert: str, level: str) -> None:
    rules = _rules("availability")  # >= 99.9%: budget 0.001
    conditions, budgets = _conditions(rules[alert]["expr"])
    expected = [(w, factor) for lvl, factor, long, short in ALERTS if lvl == level
                for w in (long, short)]
    assert conditions == expected and budgets == {"0.001"}
    assert all(f"{factor:g}x over {long} and {short}" in rules[alert]["annotations"]["description"]
               for lvl, factor, long, short in ALERTS if lvl == level)


def test_the_workbook_figures_are_there() -> None:
    # literal values (SRE workbook, ch. 5), so a changed table cannot pass silently
    rules = _rules("availability")
    page, _ = _conditions(rules[PAGE_ALERT]["expr"])
    ticket, _ = _conditions(rules[TICKET_ALERT]["expr"])
    assert page == [("1h", 14.4), ("5m", 14.4), ("6h", 6.0), ("30m", 6.0)]
    assert ticket == [("3d", 1.0), ("6h", 1.0)]


def test_recording_windows_are_the_ones_monitor_reads() -> None:
    rules = _rules("errors")
    recorded = {name: r["expr"] for name, r in rules.items() if "record" in r}
    assert list(recorded) == [RECORD.format(window=w) for w in BURN_WINDOWS]
    assert all(f"[{promql_range(BURN_WINDOWS[w])}]" in recorded[RECORD.format(window=w)]
               for w in BURN_WINDOWS)
    alert_windows = {w for _, _, long, short in ALERTS for w in (long, short)}
    assert alert_windows <= set(BURN_WINDOWS)


@pytest.mark.parametrize("error_share", [0.01, 0.005, 0.02])
def test_prometheus_pages_exactly_when_monitor_would(rules_file: Path, tmp_path: Path,
                                                     error_share: float) -> None:
    # a steady share: every window's burn is share / budget (10x, 5x, 20x of 99.9%); the
    # 6x pair pages at 10x while 14.4x does not, and nothing pages at 5x
    burn = error_share / 0.001
    monitor = burn_state(dict.fromkeys(BURN_WINDOWS, burn)).level == "page"
    assert monitor == (burn > 6.0)
    _unit_test(tmp_path, rules_file, error_share,
               _page_alerts(["availability", "errors"]) if monitor else [])


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
