"""monitor against a real Prometheus, asserted against the generator's ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from engine.production.doc import iso
from tests.production.conftest import Prom
from tests.production.specs import write_spec
from tests.production.synth import DAY_S, SCENARIOS, truth

WINDOW_S = 14 * DAY_S


def _monitor(tmp_path: Path, prom: Prom, scenario: str, *extra: str) -> tuple[int, dict[str, Any]]:
    spec = write_spec(tmp_path, scenario, prom.url)
    out = tmp_path / "monitor.json"
    code = main(["monitor", str(spec), "--at", f"{prom.end:.0f}", "--json", str(out), *extra])
    doc = json.loads(out.read_text()) if out.exists() else {}
    return code, doc


def _slos(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["slo"]: s for s in doc["specs"][0]["slos"]}


def _truth_window(name: str, start_from_end: float, end_from_end: float = 0.0) -> Any:
    """Ground truth over (END - start_from_end, END - end_from_end]."""
    scenario = SCENARIOS[name]
    span = scenario.days * DAY_S
    return truth(scenario, span - start_from_end, span - end_from_end)


def test_compliant_history(tmp_path: Path, prom: Prom, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _monitor(tmp_path, prom, "compliant")
    slos = _slos(doc)
    real = _truth_window("compliant", WINDOW_S)
    assert code == 0
    assert {s["verdict"] for s in slos.values()} == {"COMPLIANT"}
    avail = slos["availability"]
    assert avail["compliance"] == pytest.approx(real.availability, abs=1e-6)
    assert avail["error_budget"]["consumed"] == pytest.approx(0.2, abs=0.005)
    assert avail["error_budget"]["events"] == pytest.approx(real.requests, rel=0.01)
    assert slos["lookup-p95"]["compliance"] == pytest.approx(real.fast_share, abs=1e-4)
    assert [s["burn"]["state"] for s in slos.values()] == ["ok", "ok", "ok"]
    assert len(avail["per_day"]) == 14 and avail["period"]["days_of_data"] == pytest.approx(14)
    assert [s["changepoints"] for s in slos.values()] == [[], [], []]
    assert "tenant-secret-value" not in capsys.readouterr().out + json.dumps(doc)


def test_six_hour_breach_on_day_nine_burns_thirty_percent(tmp_path: Path, prom: Prom) -> None:
    code, doc = _monitor(tmp_path, prom, "breach_day9")
    avail = _slos(doc)["availability"]
    real = _truth_window("breach_day9", WINDOW_S)
    consumed_truth = (1 - real.availability) / 0.001
    assert consumed_truth == pytest.approx(0.5, abs=0.01)  # 20% background + 30% breach
    assert avail["error_budget"]["consumed"] == pytest.approx(consumed_truth, abs=0.01)
    assert avail["verdict"] == "COMPLIANT" and code == 0
    per_day = [d["compliance"] for d in avail["per_day"]]
    day9 = _truth_window("breach_day9", 6 * DAY_S, 5 * DAY_S)  # day 9 of 14 (1-based)
    assert per_day[8] == pytest.approx(day9.availability, abs=1e-4)
    assert per_day[8] < 0.999 and min(per_day[:8] + per_day[9:]) > 0.999
    assert avail["burn"]["state"] == "ok"


def test_three_days_are_insufficient(tmp_path: Path, prom: Prom,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _monitor(tmp_path, prom, "short")
    slos = _slos(doc)
    assert code == 3
    assert {s["verdict"] for s in slos.values()} == {"INSUFFICIENT_DATA"}
    assert slos["availability"]["period"]["days_of_data"] == pytest.approx(3, abs=0.1)
    assert "only 3.0 days of samples" in slos["availability"]["reason"]
    assert "COMPLIANT " not in capsys.readouterr().out.replace("INSUFFICIENT_DATA", "")


def test_two_day_gap_is_insufficient(tmp_path: Path, prom: Prom) -> None:
    code, doc = _monitor(tmp_path, prom, "gap")
    slos = _slos(doc)
    assert code == 3
    assert {s["verdict"] for s in slos.values()} == {"INSUFFICIENT_DATA"}
    (gap,), = {tuple(map(tuple, s["period"]["gaps"])) for s in slos.values()}
    assert gap[0].startswith(_day(prom.end - 9 * DAY_S))  # day 5 to day 7 of 14
    assert "gap(s)" in slos["availability"]["reason"]


def _day(t: float) -> str:
    return (iso(t) or "")[:10]


def test_p95_creep_after_deploy_breaches_and_is_a_regression(
        tmp_path: Path, prom: Prom, capsys: pytest.CaptureFixture[str]) -> None:
    deployed = prom.end - 4 * DAY_S
    code, doc = _monitor(tmp_path, prom, "creep", "--deployed-at", f"{deployed:.0f}")
    latency = _slos(doc)["lookup-p95"]
    real = _truth_window("creep", WINDOW_S)
    assert code == 1
    assert latency["verdict"] == "BREACHED"
    assert latency["compliance"] == pytest.approx(real.fast_share, abs=1e-3)
    assert latency["reason"].startswith("SLO breached: p95 ")
    assert latency["reason"].endswith("ms exceeds target 50ms")
    assert latency["value"] > 0.05
    assert latency["regression"]["regressed"] is True
    assert latency["regression"]["value_after"] > latency["regression"]["value_before"]
    assert _slos(doc)["availability"]["regression"]["regressed"] is False
    shifts = latency["changepoints"]
    assert shifts and all(s["worse"] for s in shifts)
    assert shifts[0]["at"] >= (iso(deployed) or "")  # the creep starts after the deploy
    assert _slos(doc)["availability"]["changepoints"] == []
    assert "BREACHED" in capsys.readouterr().out


def test_fast_burn_pages(tmp_path: Path, prom: Prom) -> None:
    code, doc = _monitor(tmp_path, prom, "burning")
    avail = _slos(doc)["availability"]
    real_1h = _truth_window("burning", 3600)
    assert code == 1
    assert avail["burn"]["state"] == "page"
    assert avail["burn"]["rates"]["1h"] == pytest.approx((1 - real_1h.availability) / 0.001,
                                                         rel=0.02)
    assert avail["error_budget"]["exhaustion_s"] is not None


def test_prometheus_down_is_exit_3_and_nothing_compliant(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, "compliant", "http://127.0.0.1:9")
    assert main(["monitor", str(spec)]) == 3
    out, err = capsys.readouterr()
    assert "Prometheus unreachable at http://127.0.0.1:9" in err
    assert "COMPLIANT" not in out


def test_rejected_promql_names_the_slo(tmp_path: Path, prom: Prom,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    text = write_spec(tmp_path, "compliant", prom.url).read_text().replace(
        'code="500"}[{window}]))', 'code="500"}[{window}])) +')
    spec = tmp_path / "bad.yaml"
    spec.write_text(text)
    assert main(["monitor", str(spec), "--at", f"{prom.end:.0f}"]) == 3
    err = capsys.readouterr().err
    assert "SLO errors: Prometheus rejected the query: " in err and "parse error" in err
    assert "Traceback" not in err


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "production.yaml"


def test_shipped_example_validates_and_monitors_compliant(tmp_path: Path, prom: Prom) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    spec = tmp_path / "production.yaml"
    spec.write_text(EXAMPLE.read_text().replace("http://127.0.0.1:9090", prom.url))
    out = tmp_path / "m.json"
    assert main(["monitor", str(spec), "--at", f"{prom.end:.0f}", "--json", str(out)]) == 0
    slos = _slos(json.loads(out.read_text()))
    assert [s["verdict"] for s in slos.values()] == ["COMPLIANT"] * 3


def test_query_returning_several_series_is_named(tmp_path: Path, prom: Prom,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = write_spec(tmp_path, "compliant", prom.url).read_text().replace(
        "bad: 'sum(rate(", "bad: 'sum by (job) (rate(").replace(
        "total: 'sum(rate(", "total: 'sum by (job) (rate(")
    spec = tmp_path / "several.yaml"
    spec.write_text(text.replace('{scenario="compliant",code="500"}', '{code="500"}').replace(
        '{scenario="compliant"}[{window}]', "[{window}]"))
    assert main(["monitor", str(spec), "--at", f"{prom.end:.0f}"]) == 3
    err = capsys.readouterr().err
    assert "SLO errors: its query returns 2 series" in err
