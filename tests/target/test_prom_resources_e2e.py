"""End to end (issue #21): apply drives an unmanaged target and reads its resources from
the real Prometheus that scrapes it. The target is the Prometheus server itself (its own
/metrics has the process_* series, scraped every second on loopback); no node_exporter
runs, so machine memory and the core count are honestly unknown."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import main
from engine.report.document import validate_document
from tests.production.conftest import _free_port, _wait_ready

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: remote-resources, component: prometheus}}
trigger: proactive
target:
  url: "{url}"
  metrics: {{prometheus: "{url}", select: '{{job="self"}}', scrape_interval: 1s}}
journeys:
  - {{name: query, request: {{method: GET, path: "/api/v1/query?query=up"}}}}
load:
  baseline: {{rate: 40/s, duration: 9s}}
"""
SCRAPE = "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: self\n" \
         "    static_configs: [{targets: ['127.0.0.1:%d']}]\n"


def _scraped(url: str) -> bool:
    query = urllib.parse.urlencode({"query": 'process_cpu_seconds_total{job="self"}'})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=2) as response:
        return bool(json.loads(response.read())["data"]["result"])


@pytest.fixture
def scraping_prometheus(tmp_path: Path) -> Iterator[str]:
    """A Prometheus scraping its own /metrics every second, once it has a sample."""
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus is not installed (apt-get install prometheus; .ci/run does)")
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(SCRAPE % port, encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, proc)
        deadline = time.monotonic() + 30
        while not _scraped(url) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.mark.slow
def test_remote_target_resources_come_from_prometheus(tmp_path: Path,
                                                      scraping_prometheus: str) -> None:
    spec = tmp_path / "remote.yaml"
    spec.write_text(SPEC.format(url=scraping_prometheus), encoding="utf-8")
    out = tmp_path / "reports"
    main(["apply", str(spec), "--out", str(out), "--no-history", "--quiet", "--no-hypotheses",
          "--format", "json", "--format", "markdown"])
    doc = json.loads(next(out.glob("*.json")).read_text())
    assert validate_document(doc) == []
    report = doc["specs"][0]
    run = report["runs"][0]
    samples = run["resources"]
    # a 9 s run at a 1 s step; a CPU rate spans 4 scrapes, so only points whose window lies
    # inside the run are samples (earlier ones would mix in the idle time before it)
    assert len(samples) >= 3
    assert all(4.0 - 1e-3 <= s["t_s"] <= run["duration_s"] + 1.0 for s in samples)
    assert all(s["rss_bytes"] > 1_000_000 and s["cpu_pct"] >= 0.0 for s in samples)
    assert any(s["cpu_pct"] > 0.0 for s in samples)  # it answered 200 queries
    rows = {c["criterion"]: c for c in report["checklist"]}
    assert rows["Target profiled under load (CPU, memory, I/O)"]["status"] == "PASS"
    resource_row = rows["Resource targets met (CPU < 70%, memory < 80%)"]
    assert resource_row["status"] in ("INCONCLUSIVE", "FAIL")  # memory unknown: no PASS
    assert "of one core" in resource_row["evidence"]
    assert "memory not measured" in resource_row["evidence"]
    assert any("node_memory_MemAvailable_bytes" in m for m in report["messages"])
    assert not any("not read from Prometheus" in m for m in report["messages"])
