"""The group-sequential boundary of ``rounds: auto`` (engine.analysis.sequential)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import ndtri

from engine.analysis.sequential import (
    SEQUENTIAL_ALPHA,
    bonferroni_confidence,
    look_confidence,
)


def test_one_look_is_the_plain_interval() -> None:
    assert look_confidence(2, 2) == pytest.approx(1.0 - SEQUENTIAL_ALPHA)
    assert look_confidence(1, 1, alpha=0.05) == pytest.approx(0.95)


def test_more_looks_need_a_wider_interval_but_less_than_bonferroni() -> None:
    levels = [look_confidence(2, last) for last in range(2, 11)]
    assert all(b > a for a, b in itertools.pairwise(levels))
    for last in range(3, 11):
        looks = last - 1
        assert 1.0 - SEQUENTIAL_ALPHA < look_confidence(2, last) < bonferroni_confidence(looks)


def test_the_boundary_holds_the_error_over_all_looks() -> None:
    """Independent walks (another seed): the chance that any look at rounds 2..6 crosses the
    boundary is the design's 10%; Bonferroni's per-look level would cross less often, and a
    plain 90% interval at every look far more."""
    rng = np.random.default_rng(7)
    walks = np.cumsum(rng.standard_normal((200_000, 6)), axis=1)[:, 1:]
    z = np.abs(walks) / np.sqrt(np.arange(2, 7))
    worst = z.max(axis=1)

    def crossed(level: float) -> float:
        return float(np.mean(worst > ndtri((1.0 + level) / 2.0)))

    assert crossed(look_confidence(2, 6)) == pytest.approx(SEQUENTIAL_ALPHA, abs=0.004)
    assert crossed(bonferroni_confidence(5)) < SEQUENTIAL_ALPHA - 0.02
    assert crossed(1.0 - SEQUENTIAL_ALPHA) > 0.2


def test_the_level_is_the_same_on_every_call() -> None:
    look_confidence.cache_clear()
    first = look_confidence(2, 5)
    look_confidence.cache_clear()
    assert look_confidence(2, 5) == first


def test_the_bench_runs_the_real_loop_under_both_boundaries() -> None:
    """``python -m engine.bench sequential`` in small: a 30% speed-up is confirmed under
    both boundaries on quiet runs, at the level apply uses; with no change at most one of
    six is confirmed."""
    import argparse

    from engine.bench.sequential import table

    args = argparse.Namespace(experiments=6, max_rounds=6, requests=480, resamples=300,
                              seed=11)
    rows = {line.split(" | ")[0] + " " + line.split(" | ")[1]: line.split(" | ")
            for line in table(args).splitlines()[2:]}
    effect = rows["| effect `<= -10%` 3%"]
    assert effect[3] == "100.0%" and effect[7] == "100.0%"
    assert effect[2] == "96.2%" and effect[6] == "98.0%"  # shipped boundary, then Bonferroni
    null = rows["| null `<= 0%` 3%"]
    # 400 such experiments confirmed 0.8% (boundary) and 0.0% (Bonferroni): of 6, at most 1.
    assert float(null[3].rstrip("%")) <= 100 / 6 + 0.1
    assert float(null[7].rstrip("%")) <= 100 / 6 + 0.1
