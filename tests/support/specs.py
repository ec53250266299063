"""Spec builders shared by tests: a valid minimal spec as text, and helpers to break it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

VALID = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {name: svc, component: svc-api}
trigger: proactive
target:
  url: http://127.0.0.1:18999
journeys:
  - {name: lookup, weight: 80, request: {method: GET, path: "/users?email=u{seq}@x.io"}}
  - {name: signup, weight: 20, request: {method: POST, path: /users, json: {name: "u{seq}"}}}
slos:
  - {name: lookup-p95, sli: latency, journey: lookup, percentile: 95, objective: "< 200ms"}
  - {name: errors, sli: error_rate, objective: "< 0.1%"}
  - {name: tput, sli: throughput, objective: ">= 10/s"}
load:
  baseline: {rate: 50/s, duration: 5s}
"""

REPO = Path(__file__).resolve().parents[2]


def write_spec(tmp: Path, text: str, name: str = "spec.yaml") -> Path:
    """Write ``text`` to tmp/name and return the path."""
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120.0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m engine ARGS`` as a user would; returns the completed process."""
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout, env=env)


def applied_doc(tmp: Path, name: str, env: dict[str, str] | None = None,
                timeout: float = 180.0) -> dict[str, Any]:
    """``apply spec.yaml --quiet`` in ``tmp`` (loopback only, ``env`` added): no traceback,
    exit 0 or 1, and the JSON report of spec ``name``, checked against its schema."""
    from engine.report.document import validate_document

    result = run_cli("apply", "spec.yaml", "--quiet", cwd=tmp, timeout=timeout,
                     env={**os.environ, "PERFOPT_LOOPBACK_ONLY": "1", **(env or {})})
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    doc: dict[str, Any] = json.loads((tmp / "reports" / f"{name}-latest.json").read_text())
    assert validate_document(doc) == []
    return doc
