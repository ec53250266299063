"""A-vs-A on the real demo service: how often do the gates cry wolf? (run by hand)

Repeats `perfopt-engine apply` on one unchanged demo variant and counts
  - regression gate FAILs against the stored history (defaults, `last: 3` baseline), and
  - hypotheses CONFIRMED when baseline and candidate are the same variant, expecting the
    easiest thing to confirm by accident: any p50 improvement (`<= 0%`).

    python benchmarks/aa_demo.py --regression 25 --hypothesis 15

Load goes only to the demo on 127.0.0.1; every run is bounded (5 s of load).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: aa, component: demo}}
trigger: proactive
target:
  demo: {{port: {port}, fix: [all]}}
journeys:
  - {{name: dash, weight: 50, request: {{method: GET, path: /dashboard}}}}
  - {{name: user, weight: 50, request: {{method: GET, path: "/users/{{rand:1-100000}}"}}}}
load:
  baseline: {{rate: 200/s, duration: 5s, connections: 32}}
{extra}
report: {{formats: [json], dir: reports}}
history: {{path: .perfopt/history.db, baseline: {{mode: last, last: 3}}}}
"""
HYPOTHESIS = """\
hypotheses:
  - id: AA
    title: no-op change
    type: other
    expect: {{metric: p50, change: "<= 0%"}}
    effort: 1h
    rounds: 2
    baseline: {{target: {{demo: {{port: {a}, fix: [all]}}}}}}
    candidate: {{target: {{demo: {{port: {b}, fix: [all]}}}}}}
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _apply(work: Path, extra: str, flags: list[str]) -> dict:  # type: ignore[type-arg]
    spec = work / "aa.yaml"
    spec.write_text(SPEC.format(port=_port(), extra=extra), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "engine", "apply", str(spec), "--quiet", *flags],
                   cwd=work, capture_output=True, text=True, timeout=300, check=False)
    doc: dict = json.loads((work / "reports" / "aa-latest.json").read_text())  # type: ignore[type-arg]
    return doc["specs"][0]  # type: ignore[no-any-return]


def regression(n: int) -> tuple[Counter[str], Counter[str]]:
    """Gate statuses, and per-metric check statuses, over ``n`` repeats of one variant."""
    gates: Counter[str] = Counter()
    checks: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _apply(work, "", [])  # seeds the history
        for _ in range(n):
            reg = _apply(work, "", [])["regression"]
            gates[reg["status"]] += 1
            checks.update(f"{c['metric']}:{c['status']}" for c in reg["checks"])
    return gates, checks


def hypothesis(n: int) -> Counter[str]:
    out: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(n):
            extra = HYPOTHESIS.format(a=_port(), b=_port())
            spec = _apply(Path(tmp), extra, ["--no-history", "--profile", "baseline"])
            out[spec["hypotheses"][0]["verdict"]] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regression", type=int, default=25, help="A-vs-A regression runs")
    parser.add_argument("--hypothesis", type=int, default=15, help="A-vs-A experiments")
    args = parser.parse_args()
    reg, checks = regression(args.regression)
    hyp = hypothesis(args.hypothesis) if args.hypothesis else Counter()
    print("| check | runs | outcomes | false rate |")
    print("|---|---|---|---|")
    print(f"| regression gate FAIL (A vs A) | {sum(reg.values())} | {dict(reg)} | "
          f"{reg['FAIL'] / max(1, sum(reg.values())):.1%} |")
    fails = sum(v for k, v in checks.items() if k.endswith(":FAIL"))
    print(f"| metric checks FAIL (A vs A) | {sum(checks.values())} | "
          f"{dict(sorted(checks.items()))} | {fails / max(1, sum(checks.values())):.1%} |")
    print(f"| hypothesis CONFIRMED (A vs A, `p50 <= 0%`) | {sum(hyp.values())} | {dict(hyp)} | "
          f"{hyp['CONFIRMED'] / max(1, sum(hyp.values())):.1%} |")


if __name__ == "__main__":
    main()
