"""Spec text for the production tests: one spec per scenario, three production SLIs."""

from __future__ import annotations

from pathlib import Path

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: prod-{scenario}, component: api}}
trigger: proactive
target: {{url: "http://127.0.0.1:9"}}
journeys:
  - name: lookup
    request: {{method: GET, path: /lookup}}
production:
  prometheus: {{url: "{url}", headers: {{X-Scope-OrgID: tenant-secret-value}}, timeout: 10s}}
  window: 14d
slos:
  - name: availability
    sli: availability
    objective: ">= 99.9%"
    production:
      availability: {{requests: 'http_requests_total{{scenario="{scenario}"}}'}}
  - name: lookup-p95
    sli: latency
    percentile: 95
    objective: "< 50ms"
    production:
      latency: {{histogram: 'http_request_duration_seconds{{scenario="{scenario}"}}'}}
  - name: errors
    sli: error_rate
    objective: "< 0.1%"
    production:
      ratio:
        bad: 'sum(rate(http_requests_total{{scenario="{scenario}",code="500"}}[{{window}}]))'
        total: 'sum(rate(http_requests_total{{scenario="{scenario}"}}[{{window}}]))'
load:
  baseline: {{rate: 10/s, duration: 2s}}
"""


def write_spec(folder: Path, scenario: str, url: str, text: str = SPEC) -> Path:
    """A spec file reading ``scenario`` from the Prometheus at ``url``."""
    path = folder / f"prod-{scenario}.yaml"
    path.write_text(text.format(scenario=scenario, url=url), encoding="utf-8")
    return path
