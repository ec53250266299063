"""``python -m engine.bench stats``: the one-run prior's table (``--priors``) runs and names
the priors it compares, and ``--prior-runs`` reaches every question of the main table (the
rates themselves are a benchmark, run by hand: docs/STATISTICS.md)."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import numpy as np

from engine.analysis.compare import StatsConfig
from engine.analysis.regression import GATE_CONFIG
from engine.bench.stats import (
    OLD_PRIOR,
    SCENARIOS,
    TRUE_DRIFTS,
    _Configs,
    _experiment,
    _Tally,
    configs,
    main,
    prior_table,
)


def test_the_prior_table_compares_the_old_prior_with_the_shipped_one() -> None:
    lines = prior_table(experiments=3, seed=1).splitlines()
    assert f"prior {OLD_PRIOR:.1%}: " in lines[0] and f"prior {GATE_CONFIG.assumed_drift:.1%}: " \
        in lines[0]
    assert f"tails {GATE_CONFIG.tail_drift:.1%} (shipped)" in lines[0]
    assert len({GATE_CONFIG.assumed_drift, OLD_PRIOR, GATE_CONFIG.tail_drift}) == 3
    rows = lines[2:]
    assert [r.split("|")[1].strip() for r in rows] == [f"{d:.1%}" for d in TRUE_DRIFTS]
    for row in rows:
        rates = [float(x) for x in re.findall(r"(\d+\.\d)%", row.split("|", 2)[2])]
        assert len(rates) == 6 and all(0.0 <= r <= 100.0 for r in rates)
        assert all(abs(r * 3 / 100 - round(r * 3 / 100)) < 0.01 for r in rates)  # k of 3


def test_the_prior_weight_reaches_every_question_of_the_table() -> None:
    """``--prior-runs N`` must change the interval, the hypothesis and the gate alike, or its
    columns in docs/STATISTICS.md would compare one setting with itself."""
    shipped, other = configs(), configs(prior_runs=7.0)
    assert shipped.gate == GATE_CONFIG and shipped.gate.prior_runs != 7.0
    for cfg in (other.interval, other.hypothesis, other.gate):
        assert cfg.prior_runs == 7.0
    assert other.gate.confidence == GATE_CONFIG.confidence
    assert other.hypothesis.confidence == shipped.hypothesis.confidence


def test_the_main_table_runs_at_another_prior_weight() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--experiments", "1", "--seed", "3", "--prior-runs", "0"]) == 0
    head, *rows = out.getvalue().splitlines()
    assert f"drift prior {GATE_CONFIG.assumed_drift:.1%} worth 0 run(s)" in head
    assert "| 2 | 1 | 2000 | 7.5% |" in out.getvalue()
    assert len(rows) == 2 + len(SCENARIOS)


def test_each_experiment_asks_with_the_configs_it_is_given() -> None:
    """The same random runs judged at the shipped settings and at permissive ones (no drift
    assumed, 50% intervals): the planted 25% slowdown of one run a side is caught far more
    often by the permissive gate, which only happens if ``_experiment`` uses ``cfg``."""
    loose = StatsConfig(confidence=0.5, assumed_drift=0.0, tail_drift=0.0)
    permissive = _Configs(loose, loose, loose)
    tallies = []
    for cfg in (configs(), permissive):
        rng, tally = np.random.default_rng(8), _Tally()
        for _ in range(6):
            _experiment(rng, (1, 1, 2000, 0.0), tally, cfg)
        tallies.append(tally)
    assert tallies[1].power == 6 and tallies[1].power > tallies[0].power
    assert tallies[1].miss >= tallies[0].miss
