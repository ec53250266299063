"""``python -m engine.bench stats``: error rates of the comparison statistics by simulation.

Each experiment draws two groups of synthetic runs from the SAME process (lognormal
latencies, median 20 ms, log-sd 0.5, with a per-run multiplicative drift) and asks:

- miss: the 95% interval of the p95 change excludes 0 (nominal 5%, two-sided);
- false-confirm: a no-op hypothesis 'p95 <= 0%' (any improvement) is CONFIRMED;
- false-alarm: the regression gate at default tolerances FAILS (any metric);
- inconclusive: the regression gate says INCONCLUSIVE;

and, with the candidate's latencies 25% slower, how often the gate FAILS (power).
``--priors`` prints instead what the one-run drift prior does where it stands alone, one
run a side: the gate's false alarms and power against the true drift, for the old prior
(5% on every metric), the median's 7.5% on every metric, and the shipped split (7.5%, and
``StatsConfig.tail_drift`` for p90 and above). ``--prior-runs N`` runs the main table with
the drift prior weighed as N runs where drift was measured (``StatsConfig.prior_runs``;
docs/STATISTICS.md compares 1, 3 and 5).
Not a timing benchmark: the numbers are rates, reproducible with --seed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from engine.analysis.compare import StatsConfig, compare
from engine.analysis.hypothesis import Verdict, evaluate_hypothesis, sequential_config
from engine.analysis.regression import GATE_CONFIG, check_regressions
from engine.hotpath.native import Histogram
from engine.result import JourneyResult, RunResult, Status, Validity
from engine.spec.model import Expectation, Hypothesis, Target, Variant
from engine.units import parse_change

SCENARIOS: tuple[tuple[int, int, int, float], ...] = (
    # (runs A, runs B, requests per run, between-run drift sd)
    (3, 3, 5000, 0.00),
    (3, 3, 5000, 0.03),
    (3, 3, 5000, 0.10),
    (2, 2, 2000, 0.05),
    (2, 1, 2000, 0.075),  # a fresh history's third apply: two baseline runs, one current
    (5, 1, 10000, 0.03),
    (1, 1, 10000, 0.00),
    (1, 1, 10000, 0.03),
    (1, 1, 10000, 0.05),
)


def _run(rng: np.random.Generator, n: int, median_s: float, drift: float) -> RunResult:
    scale = float(np.exp(rng.normal(0.0, drift)))
    h = Histogram()
    h.record_many(rng.lognormal(np.log(median_s * scale * 1e9), 0.5, n).astype(np.int64))
    errors = int(rng.binomial(n, 0.002))
    journey = JourneyResult("main", h, h, {"ok": n - errors, "status_5xx": errors})
    validity = Validity(True, (), n / 10.0, n / 10.0, 0.0, 0.0, 0, 10.0)
    return RunResult("baseline", "baseline", "", "http://127.0.0.1:1", "open", 1, 0.0, 10.0,
                     (journey,), (), validity)


def synthetic_runs(rng: np.random.Generator, runs: int, n: int, drift: float,
                   median_s: float = 0.02) -> list[RunResult]:
    """``runs`` synthetic runs of ``n`` lognormal latencies (log-sd 0.5) about ``median_s``,
    each scaled by its own drift exp(N(0, drift)), with 0.2% errors."""
    return [_run(rng, n, median_s, drift) for _ in range(runs)]


_V = Variant(Target("http://127.0.0.1:1"))
_NOOP = Hypothesis("A-vs-A", "no-op", "other",
                   Expectation("p95", None, change=parse_change("<= 0%")), 1.0, _V, _V)


@dataclass
class _Tally:
    miss: int = 0
    confirm: int = 0
    alarm: int = 0
    inconclusive: int = 0
    power: int = 0


@dataclass(frozen=True)
class _Configs:
    """The interval settings of the three questions, with the drift prior's weight."""

    interval: StatsConfig
    hypothesis: StatsConfig
    gate: StatsConfig


def configs(prior_runs: float | None = None) -> _Configs:
    """The shipped settings, or with ``prior_runs`` pseudo-runs of drift prior instead."""
    hyp = sequential_config(_NOOP) or StatsConfig()
    if prior_runs is None:
        return _Configs(StatsConfig(), hyp, GATE_CONFIG)
    return _Configs(StatsConfig(prior_runs=prior_runs), replace(hyp, prior_runs=prior_runs),
                    replace(GATE_CONFIG, prior_runs=prior_runs))


def _experiment(rng: np.random.Generator, scenario: tuple[int, int, int, float],
                tally: _Tally, cfg: _Configs) -> None:
    ra, rb, n, drift = scenario
    a, b = synthetic_runs(rng, ra, n, drift), synthetic_runs(rng, rb, n, drift)
    e = compare(a, b, "p95", config=cfg.interval)
    tally.miss += int(e.ci_low is not None and e.ci_high is not None
                      and (e.ci_low > 0 or e.ci_high < 0))
    verdict = evaluate_hypothesis(_NOOP, a, b, config=cfg.hypothesis).verdict
    tally.confirm += int(verdict is Verdict.CONFIRMED)
    gate = check_regressions(b, a, config=cfg.gate).status
    tally.alarm += int(gate is Status.FAIL)
    tally.inconclusive += int(gate is Status.INCONCLUSIVE)
    slower = synthetic_runs(rng, rb, n, drift, median_s=0.025)
    tally.power += int(check_regressions(slower, a, config=cfg.gate).status is Status.FAIL)


def table(experiments: int, seed: int, prior_runs: float | None = None) -> str:
    """The Markdown table of rates over ``experiments`` experiments per scenario, at the
    shipped settings or with ``prior_runs`` pseudo-runs of drift prior."""
    rng, cfg = np.random.default_rng(seed), configs(prior_runs)
    lines = ["| runs A | runs B | requests/run | drift | p95 CI miss | false confirm | "
             "false alarm | inconclusive | 25% p95 slowdown caught |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario in SCENARIOS:
        t = _Tally()
        for _ in range(experiments):
            _experiment(rng, scenario, t, cfg)
        ra, rb, n, drift = scenario
        rates = [f"{x / experiments:.1%}" for x in (t.miss, t.confirm, t.alarm,
                                                     t.inconclusive, t.power)]
        lines.append(f"| {ra} | {rb} | {n} | {drift * 100:g}% | " + " | ".join(rates) + " |")
    return "\n".join(lines)


OLD_PRIOR = 0.05
"""The one-run drift prior before it was measured (docs/STATISTICS.md)."""
TRUE_DRIFTS = (0.05, 0.075, 0.10)


def _one_vs_one(rng: np.random.Generator, drift: float, config: StatsConfig) -> tuple[int, int]:
    """(false alarm, 25% slowdown caught) of one experiment of one run a side."""
    a, b = synthetic_runs(rng, 1, 10000, drift), synthetic_runs(rng, 1, 10000, drift)
    slower = synthetic_runs(rng, 1, 10000, drift, median_s=0.025)
    return (int(check_regressions(b, a, config=config).status is Status.FAIL),
            int(check_regressions(slower, a, config=config).status is Status.FAIL))


def _priors() -> tuple[tuple[str, StatsConfig], ...]:
    """The one-run priors the table compares: the old guess and the median's measured value
    on every metric, and the shipped split (tails at ``tail_drift``)."""
    flat = (OLD_PRIOR, GATE_CONFIG.assumed_drift)
    return (*((f"prior {p:.1%}", replace(GATE_CONFIG, assumed_drift=p, tail_drift=p))
              for p in flat),
            (f"prior {GATE_CONFIG.assumed_drift:.1%}, tails {GATE_CONFIG.tail_drift:.1%} "
             "(shipped)", GATE_CONFIG))


def prior_table(experiments: int, seed: int) -> str:
    """False alarms / power of the gate with one run a side, by true drift and prior; each
    prior sees the same random runs (one seed per true drift)."""
    priors = _priors()
    lines = ["| true drift | " + " | ".join(f"{name}: false alarm / 25% caught"
                                             for name, _ in priors) + " |",
             "|---:|" + "---|" * len(priors)]
    for k, drift in enumerate(TRUE_DRIFTS):
        cells = []
        for _, config in priors:
            rng = np.random.default_rng(seed + k)
            counts = [_one_vs_one(rng, drift, config) for _ in range(experiments)]
            alarms, caught = (sum(c[i] for c in counts) / experiments for i in (0, 1))
            cells.append(f"{alarms:.1%} / {caught:.1%}")
        lines.append(f"| {drift:.1%} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Print the table; ``--experiments N`` per scenario (default 500), ``--seed S``,
    ``--priors`` for the one-run prior's table instead."""
    parser = argparse.ArgumentParser(prog="python -m engine.bench stats")
    parser.add_argument("--experiments", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--priors", action="store_true")
    parser.add_argument("--prior-runs", type=float, default=None,
                        help="weigh the drift prior as this many runs (default: shipped)")
    args = parser.parse_args(list(argv))
    if args.priors and args.prior_runs is not None:
        parser.error("--prior-runs weighs a measured drift; --priors has one run a side")
    weight = GATE_CONFIG.prior_runs if args.prior_runs is None else args.prior_runs
    print(f"{args.experiments} experiments per scenario, seed {args.seed}; lognormal "
          f"latencies (median 20ms, log-sd 0.5), 0.2% errors; drift prior "
          f"{GATE_CONFIG.assumed_drift:.1%} worth {weight:g} run(s) where drift was measured "
          f"(p90 and above: {GATE_CONFIG.tail_drift:.1%})")
    print(prior_table(args.experiments, args.seed) if args.priors
          else table(args.experiments, args.seed, args.prior_runs))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
