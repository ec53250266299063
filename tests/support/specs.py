"""Spec builders shared by tests: a valid minimal spec as text, and helpers to break it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
