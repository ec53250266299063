"""``python -m engine.bench stats --priors``: the one-run prior's table runs and names the
priors it compares (the rates themselves are a benchmark, run by hand: docs/STATISTICS.md)."""

from __future__ import annotations

import re

from engine.analysis.regression import GATE_CONFIG
from engine.bench.stats import OLD_PRIOR, TRUE_DRIFTS, prior_table


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
