"""A secret from the environment, end to end (issue #16): a real ``perfopt-engine apply``
against the embedded demo, started with the secret in its environment and sent in a
header, a custom header and the query; its bytes must appear in no report, step summary,
history database or terminal line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.demo import free_port
from tests.support.specs import REPO, run_cli

TOKEN = "s3cr3t-Zq9xK2-e2e"

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: env-secret, component: stats-api, description: "token ${{API_TOKEN}}"}}
trigger: proactive
target:
  url: http://127.0.0.1:{port}
  start:
    command: [sh, -c, "echo started with $${{APP_TOKEN}}; {start}"]
    env: {{APP_TOKEN: "${{API_TOKEN}}"}}
    ready: {{path: /health, timeout: 60s}}
journeys:
  - name: stats
    request:
      method: GET
      path: "/stats?key=${{API_TOKEN}}"
      headers:
        Authorization: "Bearer ${{API_TOKEN}}"
        X-Api-Key: "${{API_TOKEN}}"
slos:
  - {{name: errors, sli: error_rate, objective: "< 50%"}}
load:
  baseline: {{rate: 20/s, duration: 2s, connections: 4}}
report: {{formats: [markdown, json, html, junit], dir: reports}}
history: {{path: .perfopt/history.db}}
"""


def _apply(tmp: Path, start: str) -> tuple[int, str, dict[str, object]]:
    port = free_port()
    spec = tmp / "env.yaml"
    spec.write_text(SPEC.format(port=port, start=start.format(port=port, python=sys.executable)),
                    encoding="utf-8")
    env = {**os.environ, "PERFOPT_LOOPBACK_ONLY": "1", "PYTHONPATH": str(REPO),
           "API_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": str(tmp / "step-summary.md")}
    result = run_cli("apply", str(spec), cwd=tmp, env=env, timeout=180)
    doc = json.loads((tmp / "reports" / "env-secret-latest.json").read_text(encoding="utf-8"))
    return result.returncode, result.stdout + result.stderr, doc


def _leaks(tmp: Path, terminal: str) -> list[str]:
    """Every written file (and the terminal) that holds the secret's bytes."""
    files = [p for p in tmp.rglob("*") if p.is_file() and p.name != "env.yaml"]
    found = [str(p.relative_to(tmp)) for p in files if TOKEN.encode() in p.read_bytes()]
    return found + (["terminal"] if TOKEN in terminal else [])


@pytest.mark.slow
def test_a_secret_from_the_environment_is_in_no_report_history_or_terminal(
        tmp_path: Path) -> None:
    code, terminal, doc = _apply(
        tmp_path, "exec {python} -m engine.demo --host 127.0.0.1 --port {port} --fix cache")
    assert code in (0, 1), terminal  # the run happened (the regression gate has no baseline)
    report = doc["specs"][0]  # type: ignore[index]
    assert report["runs"] and report["runs"][0]["journeys"][0]["requests"] > 0
    assert report["description"] == "token [REDACTED]"  # it reached the writer, redacted
    written = {p.suffix for p in (tmp_path / "reports").iterdir()}
    assert {".md", ".json", ".html", ".xml"} <= written
    assert (tmp_path / "step-summary.md").is_file()
    assert (tmp_path / ".perfopt" / "history.db").is_file()
    assert _leaks(tmp_path, terminal) == []


def test_a_target_that_prints_its_secret_environment_shows_it_nowhere(tmp_path: Path) -> None:
    code, terminal, doc = _apply(tmp_path, "exit 3")
    assert code == 3, terminal  # the target never became ready: the run is invalid
    tail = doc["specs"][0]["target"]["output_tail"]  # type: ignore[index]
    assert "started with [REDACTED]" in tail
    assert _leaks(tmp_path, terminal) == []
