"""``perfopt-engine rank`` (alias ``plan``): the ranking of a multi-hypothesis spec, without load."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from engine.commands import rank

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {name: ranked, component: api}
trigger: proactive
target: {url: "http://127.0.0.1:9"}
journeys:
  - {name: lookup, weight: 1, request: {method: GET, path: /}}
slos:
  - {name: lookup-p95, sli: latency, journey: lookup, percentile: 95, objective: "< 200ms"}
load:
  baseline: {rate: 10/s, duration: 2s}
hypotheses:
  - id: IDX
    title: Index users.email
    type: database
    expect: {slo: lookup-p95, change: "<= -50%"}
    effort: 2h
    risk: low
    baseline: {target: {url: "http://127.0.0.1:9"}}
    candidate: {target: {url: "http://127.0.0.1:9"}}
  - id: POOL
    title: Connection pool
    type: pooling
    expect: {slo: lookup-p95, change: "<= -20%"}
    effort: 1d
    risk: medium
    baseline: {target: {url: "http://127.0.0.1:9"}}
    candidate: {target: {url: "http://127.0.0.1:9"}}
  - id: REWRITE
    title: Rewrite the search
    type: algorithm
    impact: 10x
    expect: {slo: lookup-p95, change: "<= -90%"}
    effort: 2w
    risk: high
    baseline: {target: {url: "http://127.0.0.1:9"}}
    candidate: {target: {url: "http://127.0.0.1:9"}}
"""


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    rank.add_arguments(parser)
    return rank.run(parser.parse_args(list(argv)))


def test_plan_ranks_a_multi_hypothesis_spec(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ranked.yaml").write_text(SPEC)
    assert _run(str(tmp_path)) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line[:4].strip().rstrip("*").isdigit()]
    assert [r[1] for r in rows] == ["IDX", "POOL", "REWRITE"]
    assert rows[0][2] == "quick-win" and rows[2][2] == "major-refactoring"
    assert "quick wins: IDX" in out


def test_plan_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ranked.yaml").write_text(SPEC)
    assert _run(str(tmp_path / "ranked.yaml"), "--json", "--hint", "pooling") == 0
    doc = json.loads(capsys.readouterr().out)["ranked"]
    assert doc[0]["id"] == "IDX" and doc[0]["quick_win"] is True
    assert doc[2]["impact"] == pytest.approx(0.9) and doc[2]["impact_source"] == "estimate"
    assert next(p for p in doc if p["id"] == "POOL")["hinted"] is True


def test_plan_exits_2_on_spec_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text(SPEC.replace("trigger: proactive", "trigger: whenever"))
    assert _run(str(tmp_path)) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_plan_is_kept_as_an_alias_of_rank(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    spec = tmp_path / "ranked.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    outputs = []
    for name in ("rank", "plan"):
        assert main([name, str(spec), "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and json.loads(outputs[0])["ranked"]
