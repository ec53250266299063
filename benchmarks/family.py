"""A-vs-A false alarms of the regression gate with journeys (issue #14; docs/STATISTICS.md,
"Journeys share that budget"): simulated histories, no load, run by hand.

Each experiment draws ``--baseline-runs`` runs and one current run of the same service: three
journeys shaped like user-lookup's (792, 288 and 360 requests of 24 s at ~1 ms, log-sd 0.3),
every run's latencies scaled by a shared lognormal factor of sd ``--drift`` and each
journey's by one of half that. Every experiment is judged three ways, on the same runs:
the pooled checks alone, the pooled and journey checks as the gate judges them now (a
journey's FAIL must hold at its share of the gate's error, engine.analysis.regression_family),
and the same with every journey at the gate's 98% (the rule switched off: the gate before
2026-12-02). Prints the share of FAIL, INCONCLUSIVE and PASS for each, and which checks
FAILed.

    python benchmarks/family.py --experiments 1000 --baseline-runs 5 --drift 0.15
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.analysis import regression  # noqa: E402
from engine.analysis.regression import check_regressions  # noqa: E402
from engine.analysis.regression_family import family_config  # noqa: E402
from engine.result import RunResult, Status  # noqa: E402
from tests.support.runs import lognormal_ns, make_run  # noqa: E402

SHAPE = {"lookup": (792, 0.0011, 0.3), "profile": (288, 0.0011, 0.3), "stats": (360, 0.0009, 0.3)}
WAYS = ("pooled only", "+ journeys (now)", "+ journeys, each at 98%")


def _run(rng: np.random.Generator, drift: float) -> RunResult:
    shared = rng.normal(0.0, drift)
    return make_run({j: lognormal_ns(rng, n, m * float(np.exp(shared + rng.normal(0.0, drift / 2))), s)
                     for j, (n, m, s) in SHAPE.items()}, 24.0)


def _judge(current: list[RunResult], base: list[RunResult]) -> list[tuple[str, Status, list[str]]]:
    out = []
    for way, journeys, family in ((WAYS[0], (None,), True), (WAYS[1], (None, *SHAPE), True),
                                  (WAYS[2], (None, *SHAPE), False)):
        with mock.patch.object(regression, "family_config",
                               family_config if family else (lambda *_: None)):
            result = check_regressions(current, base, journeys=journeys)
        failed = [f"{c.journey or 'all'} {c.metric}" for c in result.checks
                  if c.judged and c.status is Status.FAIL]
        out.append((way, result.status, failed))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--experiments", type=int, default=1000)
    ap.add_argument("--baseline-runs", type=int, default=5)
    ap.add_argument("--drift", type=float, default=0.075)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    counts: Counter[tuple[str, str]] = Counter()
    failed: Counter[str] = Counter()
    for _ in range(args.experiments):
        base = [_run(rng, args.drift) for _ in range(args.baseline_runs)]
        for way, status, names in _judge([_run(rng, args.drift)], base):
            counts[(way, status.name)] += 1
            failed.update(f"{way}: {n}" for n in names)
    print(f"{args.experiments} A-vs-A experiments, {args.baseline_runs} baseline runs, "
          f"drift {args.drift:.1%}, seed {args.seed}")
    print(f"| {'gate':<26} | FAIL   | INCONCLUSIVE | PASS   |")
    for way in WAYS:
        cells = [counts[(way, s)] / args.experiments for s in ("FAIL", "INCONCLUSIVE", "PASS")]
        print(f"| {way:<26} | {cells[0]:6.1%} | {cells[1]:12.1%} | {cells[2]:6.1%} |")
    print("FAILed checks:", dict(sorted(failed.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
