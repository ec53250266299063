"""How long `perfopt-engine monitor` takes over 14 days for 10 SLOs against a local Prometheus.

Backfills the test suite's generated histories (tests/production/synth.py: six scenarios,
one sample a minute, 14 days) with promtool, starts Debian's prometheus on a free loopback
port, writes a spec with 10 production SLOs (availability and latency of five scenarios)
and times the whole command (interpreter start, spec load, queries, output) ROUNDS times.

    python benchmarks/production_monitor.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.production.conftest import _backfill, _free_port, _wait_ready

SLO = """\
  - name: {s}-availability
    sli: availability
    objective: ">= 99.9%"
    production: {{availability: {{requests: 'http_requests_total{{scenario="{s}"}}'}}}}
  - name: {s}-p95
    sli: latency
    percentile: 95
    objective: "< 50ms"
    production: {{latency: {{histogram: 'http_request_duration_seconds{{scenario="{s}"}}'}}}}
"""
HEAD = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: bench-production, component: api}}
trigger: proactive
target: {{url: "http://127.0.0.1:9"}}
journeys:
  - name: lookup
    request: {{method: GET, path: /}}
production:
  prometheus: {{url: "{url}"}}
  window: 14d
load:
  baseline: {{rate: 10/s, duration: 2s}}
slos:
"""
SCENARIOS = ("compliant", "breach_day9", "gap", "creep", "burning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        end = float((int(time.time()) // 60 - 2) * 60)
        tsdb = _backfill(work, end)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        (work / "p.yml").write_text("global:\n  scrape_interval: 1m\n")
        proc = subprocess.Popen(
            ["prometheus", f"--config.file={work / 'p.yml'}", f"--storage.tsdb.path={tsdb}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=60d"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(url, proc)
            spec = work / "bench.yaml"
            spec.write_text(HEAD.format(url=url) + "".join(SLO.format(s=s) for s in SCENARIOS))
            _time(spec, end, args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _time(spec: Path, end: float, rounds: int) -> None:
    cmd = ["perfopt-engine", "monitor", str(spec), "--at", f"{end:.0f}"]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        assert result.returncode in (0, 1, 3), result.stderr
    verdicts = [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    print(f"10 SLOs x 14 days, {rounds} rounds: median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s, max {max(times):.2f} s (exit {result.returncode}; "
          f"verdicts {', '.join(verdicts)})")


if __name__ == "__main__":
    main()
