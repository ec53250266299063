"""apply on the demo with profiling on (#21): the O(n^2) recommendation is named by the
profiler; without py-spy, or with ``tool: py-spy`` on a target that is not Python, the run
goes on with a note (tests/profiling/test_perf_e2e.py: perf on a native target)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from engine.target.profiler import INSTALL
from tests.support.browser import run_chromium
from tests.support.demo import free_port, running_demo
from tests.support.specs import applied_doc

pytestmark = pytest.mark.slow

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: profiled, component: demo}}
trigger: proactive
target:
{target}
journeys:
  - {{name: recommend, request: {{method: GET, path: "/recommendations?n=2000"}}}}
  - {{name: health, request: {{method: GET, path: /health}}}}
slos:
  - {{name: errors, sli: error_rate, objective: "< 1%"}}
load:
  baseline: {{rate: 20/s, duration: 3s, connections: 4}}
profiling: {{{profiling}}}
report: {{formats: [markdown, json, html], dir: reports}}
history: {{enabled: false}}
"""
OTHER_FIXES = "[pool, index, join, parallel, cache, async]"  # linear stays off


def _apply(tmp: Path, target: str, env: dict[str, str] | None = None,
           profiling: str = "rate: 100") -> dict[str, Any]:
    (tmp / "spec.yaml").write_text(SPEC.format(target=target, profiling=profiling),
                                   encoding="utf-8")
    return applied_doc(tmp, "profiled", env)


def test_the_quadratic_recommendation_is_the_hot_function(tmp_path: Path) -> None:
    doc = _apply(tmp_path, f"  demo: {{port: {free_port()}, users: 2000, fix: {OTHER_FIXES}}}")
    spec = doc["specs"][0]
    run = spec["runs"][0]
    prof = run["cpu_profile"]
    assert prof["tool"] == "py-spy" and prof["rate"] == 100 and prof["notes"] == []
    assert prof["samples"] > 0 and prof["stacks"]
    assert prof["top_self"][0]["function"] == "recommend_slow"
    assert prof["top_self"][0]["where"].startswith("engine/demo/algo.py:")
    cpu = [b for b in spec["bottlenecks"] if b["kind"] == "cpu"]
    assert cpu and any(e.startswith("profile: recommend_slow (engine/demo/algo.py:")
                       for e in cpu[0]["evidence"]), spec["bottlenecks"]
    res = run["resource_summary"]
    assert res["samples"] > 1 and res["net_recv"]["bytes"] > 0 and res["cpu_target_pct"] == 70
    md = (tmp_path / "reports" / "profiled-latest.md").read_text()
    assert "| `recommend_slow` | engine/demo/algo.py:" in md and "Net received" in md
    page = tmp_path / "reports" / "profiled-latest.html"
    dom = run_chromium(["--window-size=1400,3000", "--dump-dom", page.as_uri()],
                       tmp_path / "chromium")
    [svg] = re.findall(r'<svg [^>]*class="flame"[^>]*>.*?</svg>', dom, re.S)
    assert 'data-chart="flame-baseline"' in svg and "recommend_slow (engine/demo/algo.py:" in svg


def test_without_py_spy_on_path_the_run_goes_on_with_a_note(tmp_path: Path) -> None:
    doc = _apply(tmp_path, f"  demo: {{port: {free_port()}, users: 2000}}",
                 env={"PATH": "/usr/bin:/bin"})  # the python runs by its full path
    spec = doc["specs"][0]
    note = f"profiling is on but py-spy is not on PATH ({INSTALL})"
    assert note in spec["messages"] and INSTALL == 'pip install "perfopt-engine[profile]"'
    run = spec["runs"][0]
    assert run["requests"] > 0 and run["cpu_profile"]["samples"] == 0
    assert run["cpu_profile"]["notes"] == [note] and spec["bottlenecks"]


def test_a_target_that_is_not_python_is_a_note(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        with running_demo(fix=("linear",), extra=("--users", "2000")) as url:
            doc = _apply(tmp_path, f"  url: {url}\n  process: {{pid: {sleeper.pid}}}",
                         profiling="rate: 100, tool: py-spy")  # auto would pick perf
    finally:
        sleeper.kill()
        sleeper.wait()
    spec = doc["specs"][0]
    [note] = spec["runs"][0]["cpu_profile"]["notes"]
    assert note.startswith(f"py-spy could not profile pid {sleeper.pid}: ") and "ython" in note
    assert note in spec["messages"] and spec["runs"][0]["requests"] > 0
