"""``python -m engine.bench stats``: the one-run prior's table (``--priors``) runs and names
the priors it compares, and ``--prior-runs`` reaches every question of the main table (the
rates themselves are a benchmark, run by hand: docs/STATISTICS.md)."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

from engine.analysis.regression import GATE_CONFIG
from engine.bench.stats import OLD_PRIOR, SCENARIOS, TRUE_DRIFTS, configs, main, prior_table


def test_the_prior_table_compares_the_old_prior_with_the_shipped_one() -> None:
    lines = prior_table(experiments=3, seed=1).splitlines()
    assert f"prior {OLD_PRIOR:.1%}" in lines[0] and f"prior {GATE_CONFIG.assumed_drift:.1%}" \
        in lines[0]
    assert GATE_CONFIG.assumed_drift != OLD_PRIOR
    rows = lines[2:]
    assert [r.split("|")[1].strip() for r in rows] == [f"{d:.1%}" for d in TRUE_DRIFTS]
    for row in rows:
        rates = [float(x) for x in re.findall(r"(\d+\.\d)%", row.split("|", 2)[2])]
        assert len(rates) == 4 and all(0.0 <= r <= 100.0 for r in rates)
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
    assert len(rows) == 2 + len(SCENARIOS)
