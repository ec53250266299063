"""monitor --run-flow: a production breach runs the spec's flow with trigger slo-breach and
leads its report (the real test Prometheus and the demo target)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from tests.production.conftest import EXAMPLE, Prom


def _spec(tmp_path: Path, prom: Prom, selector: str) -> Path:
    spec = tmp_path / "production.yaml"
    spec.write_text(EXAMPLE.read_text().replace("http://127.0.0.1:9090", prom.url)
                    .replace('job="shop"', selector))
    return spec


@pytest.mark.slow
def test_breach_runs_the_flow_with_the_breach_on_top(tmp_path: Path, prom: Prom,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec(tmp_path, prom, 'scenario="creep"')
    out = tmp_path / "reports"
    code = main(["monitor", str(spec), "--at", f"{prom.end:.0f}", "--run-flow", "--out", str(out)])
    assert code == 1
    assert "running the flow with trigger slo-breach" in capsys.readouterr().out
    report = json.loads(next(out.glob("*.json")).read_text())["specs"][0]
    assert report["trigger"] == "slo-breach"
    first = report["messages"][0]
    assert first.startswith("production: SLO breached: p95 ")
    assert "under target every day since" in first and "error budget exhausted" in first
    markdown = next(out.glob("*.md")).read_text()
    overview = markdown.split("## Optimization Overview", 1)[1]
    bullets = [line for line in overview.splitlines() if line.startswith("- ")]
    assert bullets[0].startswith("- production: SLO breached")


def test_no_breach_does_not_run_the_flow(tmp_path: Path, prom: Prom,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec(tmp_path, prom, 'job="shop"')
    out = tmp_path / "reports"
    assert main(["monitor", str(spec), "--at", f"{prom.end:.0f}", "--run-flow",
                 "--out", str(out)]) == 0
    assert "the flow is not triggered" in capsys.readouterr().out
    assert not out.exists()
