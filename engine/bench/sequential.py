"""``python -m engine.bench sequential``: ``rounds: auto`` error rates by simulation.

Each experiment runs the real ``run_experiment`` loop (engine.analysis.hypothesis) on
synthetic runs (engine.bench.stats.synthetic_runs: lognormal latencies, per-run drift),
looking after every round from the 2nd to ``max_rounds``, once with the shipped boundary
(engine.analysis.hypothesis.sequential_config) and once with Bonferroni's per-look level, on
the same random streams. Rows:

- null: both variants from one process, expectation ``p95 <= 0%`` (the truth sits on the
  threshold, the easiest expectation to confirm by accident): CONFIRMED is a false
  confirmation (the design bounds it at 5%);
- effect: the candidate 30% faster, expectation ``p95 <= -10%``: CONFIRMED is the power.

Columns: the verdict counts and the mean number of rounds run. Rates, not timings;
reproducible with --seed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from engine.analysis.compare import StatsConfig
from engine.analysis.hypothesis import (
    Verdict,
    evaluate_hypothesis,
    planned_looks,
    run_experiment,
    sequential_config,
)
from engine.analysis.sequential import bonferroni_confidence
from engine.bench.stats import synthetic_runs
from engine.result import RunResult
from engine.spec.model import Expectation, Hypothesis, Target, Variant
from engine.units import parse_change

_V = Variant(Target("http://127.0.0.1:1"))
CASES: tuple[tuple[str, str, float], ...] = (
    # (name, expectation, candidate's median over the baseline's)
    ("null", "<= 0%", 1.0),
    ("effect", "<= -10%", 0.7),
)
DRIFTS = (0.03, 0.10, 0.30)


def _hypothesis(expect: str, max_rounds: int) -> Hypothesis:
    return Hypothesis("S", "sequential", "other",
                      Expectation("p95", None, change=parse_change(expect)), 1.0, _V, _V,
                      max_rounds=max_rounds)


def _one(h: Hypothesis, ratio: float, drift: float, n: int, seed: int,
         config: StatsConfig) -> tuple[Verdict, int]:
    """One experiment's final verdict and rounds run; ``seed`` fixes its runs."""
    rng = np.random.default_rng(seed)

    def run(_: Variant, side: str, _round: int) -> RunResult:
        median = 0.02 * (ratio if side == "candidate" else 1.0)
        return synthetic_runs(rng, 1, n, drift, median_s=median)[0]

    base, cand = run_experiment(h, run, config=config)
    return evaluate_hypothesis(h, base, cand, config=config).verdict, len(base)


def _row(name: str, expect: str, ratio: float, drift: float, args: argparse.Namespace) -> str:
    h = _hypothesis(expect, args.max_rounds)
    shipped = sequential_config(h)  # the level apply uses: one place computes it
    assert shipped is not None  # rounds: auto
    cells = []
    for level in (shipped.confidence, bonferroni_confidence(planned_looks(h))):
        config = StatsConfig(confidence=level, resamples=args.resamples)
        results = [_one(h, ratio, drift, args.requests, args.seed + i, config)
                   for i in range(args.experiments)]
        confirmed = sum(v is Verdict.CONFIRMED for v, _ in results)
        refuted = sum(v is Verdict.REFUTED for v, _ in results)
        rounds = float(np.mean([r for _, r in results]))
        cells.append(f"{level:.1%} | {confirmed / len(results):.1%} | "
                     f"{refuted / len(results):.1%} | {rounds:.2f}")
    return f"| {name} `{expect}` | {drift:.0%} | " + " | ".join(cells) + " |"


def table(args: argparse.Namespace) -> str:
    """The Markdown table: each case and drift under both boundaries."""
    head = ("| case | drift | level | CONFIRMED | REFUTED | mean rounds | Bonferroni level | "
            "CONFIRMED | REFUTED | mean rounds |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, expect, ratio in CASES:
        lines += [_row(name, expect, ratio, drift, args) for drift in DRIFTS]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Print the table (``--experiments`` per row, default 300)."""
    parser = argparse.ArgumentParser(prog="python -m engine.bench sequential")
    parser.add_argument("--experiments", type=int, default=300)
    parser.add_argument("--max-rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=480, help="requests per run")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(list(argv))
    print(f"{args.experiments} experiments per row, max_rounds {args.max_rounds}, "
          f"{args.requests} requests per run, {args.resamples} resamples, seed {args.seed}")
    print(table(args))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
