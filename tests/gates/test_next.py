"""The next optimization target and the next review date (#19)."""

from __future__ import annotations

from engine.analysis.bottlenecks import Bottleneck
from engine.analysis.hypothesis import HypothesisVerdict, Verdict
from engine.analysis.prioritize import Priority
from engine.gates.narrative import next_review, next_target
from engine.plan import SpecPlan
from engine.records import Analysed, Driven
from engine.result import Status
from engine.spec.loader import load_text
from tests.support.specs import VALID


def _driven(*verdicts: HypothesisVerdict) -> Driven:
    specs, errors = load_text(VALID)
    assert not errors
    return Driven(specs[0], SpecPlan(specs[0], (), ()), 1.8e9, hypotheses=verdicts)


def _priority(rank: int, hid: str) -> Priority:
    return Priority(rank, hid, f"title {hid}", "database", 0.7, "typical", 2.0, "low", 0.35,
                    "quick-win", rank == 1, True, None)


def _verdict(hid: str, verdict: Verdict) -> HypothesisVerdict:
    return HypothesisVerdict(hid, "t", "database", "", "<= -50%", "p95", None, 2.0, "low",
                             verdict, 1.0, 0.5, -0.5, -0.6, -0.4, 50.0, 2.0, 2, None, None, "m")


def test_the_next_target_is_the_best_ranked_undecided_hypothesis() -> None:
    analysed = Analysed(priorities=(_priority(1, "H1"), _priority(2, "H2")))
    assert next_target(_driven(), analysed) == "H1 title H1 (rank 1, ROI 0.35/h, quick-win)"
    done = _driven(_verdict("H1", Verdict.CONFIRMED))
    assert next_target(done, analysed).startswith("H2 title H2 (rank 2")
    inconclusive = _driven(_verdict("H1", Verdict.INCONCLUSIVE))
    assert next_target(inconclusive, analysed).startswith("H1 ")


def test_without_open_hypotheses_the_top_bottleneck_is_the_target() -> None:
    top = Bottleneck(1, "database in lookup", "database", 0.8, ("lookup",), (), "database")
    assert next_target(_driven(), Analysed(bottlenecks=(top,))) == (
        "database in lookup (80.0% of total latency): suggested optimization type database")
    assert next_target(_driven(), Analysed()) == ""


def test_the_review_is_a_week_after_a_pass_and_the_next_day_otherwise() -> None:
    start = 1.8e9  # 2027-01-15T08:00:00Z
    assert next_review(start, Status.PASS) == "2027-01-22"
    assert next_review(start, Status.FAIL) == "2027-01-16"
    assert next_review(start, Status.INCONCLUSIVE) == "2027-01-16"
