"""Same spec, this machine vs a two-host loopback Dask cluster: does the regression gate
see a difference? (run by hand; docs/BENCHMARKS.md, issue #18)

    python benchmarks/scale_compare.py [--baseline 3] [--rounds 2]

Seeds the history with ``--baseline`` local applies of one demo spec (2 worker processes,
--rate 200/s for 5 s), then alternates, ``--rounds`` times: one apply on the cluster (2 generator
hosts x 1 worker process: the same 2 execution segments) and one local control apply.
Each is judged by the regression gate against the last 3 stored runs (every run is also
stored, so later ones compare with a mix). Prints each apply's gate status and its p50/p95
checks (change and confidence interval). Load goes only to the demo on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: scale, component: demo}}
trigger: proactive
target:
  demo: {{port: {port}, fix: [all]}}
journeys:
  - {{name: dash, weight: 50, request: {{method: GET, path: /dashboard}}}}
  - {{name: user, weight: 50, request: {{method: GET, path: "/users/{{rand:1-100000}}"}}}}
load:
  defaults: {{workers: 2}}
  baseline: {{rate: {rate}/s, duration: 5s, connections: 32}}
execution: {{nodes: 2, workers_per_node: 1}}
report: {{formats: [json], dir: reports}}
history: {{path: .perfopt/history.db, baseline: {{mode: last, last: 3}}}}
"""


RATES = [200]
"""The total rate (requests/s), set from --rate."""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _apply(work: Path, flags: list[str]) -> dict[str, Any]:
    spec = work / "scale.yaml"
    spec.write_text(SPEC.format(port=_port(), rate=RATES[0]), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "engine", "apply", str(spec), "--quiet", *flags],
                   cwd=work, capture_output=True, text=True, timeout=300, check=False)
    doc: dict[str, Any] = json.loads((work / "reports" / "scale-latest.json").read_text())
    spec_doc: dict[str, Any] = doc["specs"][0]
    return spec_doc


def _show(label: str, doc: dict[str, Any]) -> None:
    run = doc["runs"][0]
    reg = doc.get("regression") or {}
    lat = run["latency"]
    print(f"{label:8s} hosts={len(run.get('hosts', [])) or 1} requests={run['requests']} "
          f"valid={run['validity']['valid']} p50={lat['p50'] * 1e3:.2f}ms "
          f"p95={lat['p95'] * 1e3:.2f}ms regression={reg.get('status')}")
    for c in reg.get("checks", []):
        if c["metric"] in ("p50", "p95") and c.get("journey") is None and c["change"] is not None:
            lo, hi = c.get("ci_low"), c.get("ci_high")
            ci = f"[{lo:+.1%}, {hi:+.1%}]" if lo is not None and hi is not None else "[-]"
            print(f"         {c['metric']}: {c['change']:+.1%} CI {ci} {c['status']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rate", type=int, default=200, help="total requests/s")
    args = ap.parse_args()
    RATES[0] = args.rate
    from tests.scale.localcluster import local_cluster

    with tempfile.TemporaryDirectory() as tmp, local_cluster(Path(tmp)) as cluster:
        work = Path(tmp)
        for i in range(args.baseline):
            _show(f"local{i + 1}", _apply(work, []))
        for i in range(args.rounds):
            _show(f"dask{i + 1}", _apply(work, ["--scheduler", cluster.address]))
            _show(f"control{i + 1}", _apply(work, []))


if __name__ == "__main__":
    main()
