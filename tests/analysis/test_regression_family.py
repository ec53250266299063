"""engine.analysis.regression_family: a journey's FAIL holds at its share of the gate's error."""

from __future__ import annotations

import numpy as np

from engine.analysis.regression import GATE_CONFIG, check_regressions
from engine.analysis.regression_check import RegressionCheck
from engine.analysis.regression_family import family_config
from engine.result import RunResult, Status
from tests.support.runs import lognormal_ns, make_run

SHAPE = {"lookup": (792, 0.0011, 0.3), "profile": (288, 0.0011, 0.3), "stats": (360, 0.0009, 0.3)}
"""user-lookup's three journeys: requests per 24 s run, median (s), log-sd."""
ALL = (None, *SHAPE)


def _run(rng: np.random.Generator, drift: float, profile_slower: float = 1.0) -> RunResult:
    """One run: every journey drifts by a shared factor and half as much on its own."""
    shared = rng.normal(0.0, drift)
    return make_run({j: lognormal_ns(rng, n, m * float(np.exp(shared + rng.normal(0.0, drift / 2)))
                                     * (profile_slower if j == "profile" else 1.0), s)
                     for j, (n, m, s) in SHAPE.items()}, 24.0)


def _profile_p50(seed: int, slower: float, journeys: tuple[str | None, ...]) -> tuple[
        RegressionCheck, Status]:
    rng = np.random.default_rng(seed)
    base = [_run(rng, 0.075) for _ in range(5)]
    result = check_regressions([_run(rng, 0.075, slower)], base, journeys=journeys)
    check = next(c for c in result.checks if c.journey == "profile" and c.metric == "p50")
    return check, result.status


def test_the_journeys_share_the_gates_error_rate() -> None:
    assert family_config(GATE_CONFIG, (None,)) is None
    assert family_config(GATE_CONFIG, (None, "lookup")) is None  # one journey: no family
    three = family_config(GATE_CONFIG, ALL)
    assert three is not None and abs(three.confidence - (1 - 0.02 / 3)) < 1e-12


def test_a_journeys_fail_that_only_the_gates_level_sees_is_inconclusive_with_why() -> None:
    """Issue #14: an identical 60 s run of user-lookup FAILed on profile p95 +58.6%
    (98% interval +2.9%..+139.2%) against five baseline runs. Checked alone, this profile
    p50 (+30%) FAILs at 98%; among three journeys it must hold at 99.33%, and it does not."""
    alone, _ = _profile_p50(5, 1.3, (None, "profile"))
    assert alone.status is Status.FAIL and alone.ci_low is not None and alone.ci_low > 0
    among, gate = _profile_p50(5, 1.3, ALL)
    assert among.status is Status.INCONCLUSIVE and among.judged and gate is Status.INCONCLUSIVE
    assert among.effect is not None and abs(among.effect.confidence - (1 - 0.02 / 3)) < 1e-12
    assert among.ci_low is not None and among.ci_low < 0 < (among.change or 0)  # shown at 99.33%
    assert "at the gate's 98% its interval lay wholly on the bad side" in among.message
    assert "a journey's check FAILs only at 99.3% (its share of the gate's 1% per side" \
        in among.message
    assert "among 3 journeys" in among.message


def test_a_journeys_fail_that_holds_at_the_familys_level_stands() -> None:
    check, gate = _profile_p50(0, 1.35, ALL)
    assert check.status is Status.FAIL and gate is Status.FAIL
    assert check.effect is not None and check.effect.confidence > 0.99
    assert check.ci_low is not None and check.ci_low > 0
    assert check.message.startswith("Performance regression detected: profile p50 degraded")


def test_pooled_checks_and_journeys_that_do_not_fail_keep_the_gates_level() -> None:
    """Only a journey's FAIL is re-judged: a pooled FAIL (every journey 40% slower) stands at
    98%, and the journeys' PASS and INCONCLUSIVE checks are shown at 98% too."""
    rng = np.random.default_rng(3)
    base = [_run(rng, 0.03) for _ in range(4)]
    slower = make_run({j: lognormal_ns(rng, n, m * 1.4, s) for j, (n, m, s) in SHAPE.items()},
                      24.0)
    result = check_regressions([slower], base, journeys=ALL)
    pooled = next(c for c in result.checks if c.journey is None and c.metric == "p50")
    assert pooled.status is Status.FAIL and result.status is Status.FAIL
    assert pooled.effect is not None and pooled.effect.confidence == GATE_CONFIG.confidence
    same = check_regressions([_run(rng, 0.03)], base, journeys=ALL)
    journeys = [c for c in same.checks if c.journey is not None and c.effect is not None
                and c.status is not Status.FAIL]
    assert journeys and all(c.effect is not None
                            and c.effect.confidence == GATE_CONFIG.confidence for c in journeys)


def test_every_table_gives_a_rejudged_interval_its_own_level() -> None:
    """The Markdown/HTML table's column reads '98% CI' (its first check's level); a journey's
    check re-judged at 99.33% says so beside its interval, and `compare` does the same."""
    from engine.commands.history_views import _check_row
    from engine.report.fmt import ci_label, ci_level_note

    rng = np.random.default_rng(5)
    base = [_run(rng, 0.075) for _ in range(5)]
    result = check_regressions([_run(rng, 0.075, 1.3)], base, journeys=ALL)
    among = next(c for c in result.checks if c.journey == "profile" and c.metric == "p50")
    pooled = next(c for c in result.checks if c.journey is None and c.metric == "p50")
    docs = [{"confidence": 0.98}, among.to_doc()]
    assert ci_label(docs) == "98% CI"
    assert ci_level_note(docs[1], docs) == " (99.3%)" and ci_level_note(docs[0], docs) == ""
    no_interval = {**docs[1], "ci_low": None, "ci_high": None}
    assert ci_level_note(no_interval, docs) == ""  # nothing to label
    assert _check_row(among, "98% CI")[4].endswith("(99.3%)")
    assert pooled.effect is not None and not _check_row(pooled, "98% CI")[4].endswith(")")
