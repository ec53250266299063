"""apply on the demo with tracing on: bottlenecks named from OpenTelemetry spans (#21)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from engine.report.document import validate_document
from tests.support.demo import free_port
from tests.support.specs import REPO, run_cli

pytest.importorskip("opentelemetry.sdk")
pytestmark = pytest.mark.slow

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: traced, component: demo}}
trigger: proactive
target:
{target}
journeys:
  - {{name: lookup, request: {{method: GET, path: "/users?email=u{{rand:1-99999}}@demo.test"}}}}
  - {{name: orders, request: {{method: GET, path: "/users/{{rand:1-200}}/orders"}}}}
  - {{name: dashboard, request: {{method: GET, path: /dashboard}}}}
slos:
  - {{name: errors, sli: error_rate, objective: "< 1%"}}
load:
  baseline: {{rate: 30/s, duration: 3s, connections: 8}}
tracing: {{sample: 1.0}}
report: {{formats: [markdown, json, html], dir: reports}}
history: {{enabled: false}}
"""


def _apply(tmp: Path, target: str, path: str = str(REPO)) -> dict:  # type: ignore[type-arg]
    (tmp / "spec.yaml").write_text(SPEC.format(target=target), encoding="utf-8")
    env = {**os.environ, "PERFOPT_LOOPBACK_ONLY": "1", "PYTHONPATH": path}
    result = run_cli("apply", "spec.yaml", "--quiet", cwd=tmp, env=env, timeout=180)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    doc: dict = json.loads((tmp / "reports" / "traced-latest.json").read_text())  # type: ignore[type-arg]
    assert validate_document(doc) == []
    return doc


def test_spans_name_the_lookup_statement_the_n_plus_1_and_sequential_calls(tmp_path: Path
                                                                           ) -> None:
    doc = _apply(tmp_path, f"  demo: {{port: {free_port()}, fix: [pool]}}")
    spec = doc["specs"][0]
    journeys = {j["journey"]: j for j in spec["runs"][0]["traces"]["journeys"]}
    assert set(journeys) == {"lookup", "orders", "dashboard"}
    ranked = {b["name"]: b for b in spec["bottlenecks"]}
    # the unindexed lookup: a database bottleneck named by its statement
    lookup = ranked["SELECT ... FROM users WHERE email = ? (sqlite) in lookup"]
    assert lookup["kind"] == "database" and lookup["suggestion"] == "database"
    assert lookup["evidence"][0].startswith("lookup p95: ")
    assert "in SELECT ... FROM users WHERE email = ? (sqlite), 1 call per request" in \
        lookup["evidence"][0]
    # join off: N+1 with its count per request (each user 1-200 owns 80 orders of 3 items)
    n1 = {p["label"]: p for p in journeys["orders"]["patterns"] if p["kind"] == "n_plus_1"}
    items = "SELECT ... FROM order_items WHERE order_id = ? ORDER BY id (sqlite)"
    assert n1[items]["per_request"] == 80
    assert n1["SELECT ... FROM products WHERE id = ? (sqlite)"]["per_request"] == 240
    orders = ranked["N+1 queries in orders"]
    assert orders["kind"] == "database" and f"80x {items}" in orders["evidence"][0]
    # parallel off: the dashboard's three downstream calls, one after the other
    [seq] = [p for p in journeys["dashboard"]["patterns"] if p["kind"] == "sequential"]
    assert seq["per_request"] == 3 and seq["requests"] == journeys["dashboard"]["requests"]
    dash = ranked["sequential calls to inventory, pricing, reviews in dashboard"]
    assert dash["kind"] == "dependency" and dash["suggestion"] == "async"
    slowest = journeys["dashboard"]["exemplar"]
    assert {"calls to inventory", "calls to pricing", "calls to reviews"} <= \
        {label for label, _ in slowest["spans"]}
    assert slowest["server_ms"] >= journeys["dashboard"]["server_p95_ms"] * 0.99
    md = (tmp_path / "reports" / "traced-latest.md").read_text()
    html = (tmp_path / "reports" / "traced-latest.html").read_text()
    assert "Trace breakdown, baseline / orders" in md and "Trace breakdown, baseline" in html


def test_a_target_without_instrumentation_keeps_todays_analysis_with_a_note(
        tmp_path: Path) -> None:
    port = free_port()
    target = (f"  url: http://127.0.0.1:{port}\n  start:\n    command: [{sys.executable}, -m, "
              f"engine.demo, --host, 127.0.0.1, --port, '{port}', --users, '20000']\n"
              "    env: {OTEL_EXPORTER_OTLP_ENDPOINT: ''}\n    ready: {path: /health}")
    doc = _apply(tmp_path, target)
    spec = doc["specs"][0]
    assert spec["runs"][0]["traces"]["journeys"] == []
    assert any("not instrumented with OpenTelemetry" in m for m in spec["messages"])
    assert spec["bottlenecks"] and all("OpenTelemetry" not in " ".join(b["evidence"])
                                       for b in spec["bottlenecks"])


def test_without_the_traces_extra_the_run_goes_on_with_a_note(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "opentelemetry"  # opentelemetry unimportable, as uninstalled
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no opentelemetry here')\n")
    doc = _apply(tmp_path, f"  demo: {{port: {free_port()}, users: 20000}}",
                 f"{tmp_path / 'shadow'}{os.pathsep}{REPO}")
    spec = doc["specs"][0]
    assert any('pip install "perfopt-engine[traces]"' in m for m in spec["messages"])
    assert "traces" not in spec["runs"][0] and spec["runs"][0]["requests"] > 0
    assert spec["bottlenecks"]  # today's Server-Timing analysis
