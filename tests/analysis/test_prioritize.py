"""engine.analysis.prioritize: impact sources, ROI, tiers, option matrix, hints."""

from __future__ import annotations

import pytest

from engine.analysis.prioritize import (
    PriorityError,
    prioritize,
    rank,
    tier_of,
    typical_impact,
)
from engine.spec.model import Expectation, Hypothesis, Target, Variant
from engine.units import parse_change

_V = Variant(Target("http://127.0.0.1:8080"))


def _h(id: str, kind: str = "database", effort: float = 4.0, risk: str = "low",
       impact: float | None = None, scores: dict[str, float] | None = None) -> Hypothesis:
    expect = Expectation("p95", None, change=parse_change("<= -50%"))
    return Hypothesis(id, f"title {id}", kind, expect, effort, _V, _V,  # type: ignore[arg-type]
                      risk=risk, estimated_impact=impact, scores=scores or {})  # type: ignore[arg-type]


def test_typical_impact_is_the_range_midpoint() -> None:
    assert typical_impact("database") == pytest.approx(0.70)
    assert typical_impact("caching") == pytest.approx(0.875)
    assert typical_impact("pooling") == pytest.approx(0.35)
    assert typical_impact("algorithm") == pytest.approx((0.9 + 0.999) / 2)


def test_tiers() -> None:
    assert tier_of(0.7, 4, "low") == "quick-win"
    assert tier_of(0.7, 4, "medium") == "standard"
    assert tier_of(0.2, 4, "low") == "standard"
    assert tier_of(0.7, 8, "low") == "standard"  # a full day is not "under a day"
    assert tier_of(0.7, 16, "low") == "strategic"
    assert tier_of(0.7, 40, "low") == "strategic"
    assert tier_of(0.7, 41, "low") == "major-refactoring"


def test_impact_sources_and_roi_ranking() -> None:
    hs = [_h("A", "pooling", 2.0), _h("B", "caching", 16.0, impact=0.9), _h("C", "database", 4)]
    ranked = rank(hs, measured={"C": 0.8})
    assert [p.id for p in ranked] == ["C", "A", "B"]
    by_id = {p.id: p for p in ranked}
    assert by_id["C"].impact_source == "measured" and by_id["C"].roi == pytest.approx(0.2)
    assert by_id["B"].impact_source == "estimate" and by_id["B"].tier == "strategic"
    assert by_id["A"].impact_source == "typical" and by_id["A"].impact == pytest.approx(0.35)
    assert [p.rank for p in ranked] == [1, 2, 3]
    assert by_id["C"].quick_win and not by_id["A"].quick_win  # pooling is not high impact


def test_top_marks_three_to_five() -> None:
    six = [_h(str(i), "database", 2.0 + i) for i in range(6)]
    assert [p.top for p in rank(six)] == [True] * 5 + [False]  # 5 quick wins
    risky = [_h(str(i), "database", 2.0 + i, risk="high") for i in range(6)]
    assert [p.top for p in rank(risky)] == [True] * 3 + [False] * 3


def test_option_matrix_orders_when_criteria_are_given() -> None:
    hs = [_h("A", scores={"speed": 1, "safety": 5}), _h("B", scores={"speed": 5, "safety": 1})]
    ranked = rank(hs, criteria={"speed": 0.8, "safety": 0.2})
    assert [p.id for p in ranked] == ["B", "A"]
    assert ranked[0].matrix_score == pytest.approx(4.2)


def test_matrix_is_validated() -> None:
    with pytest.raises(PriorityError, match="sum to 1"):
        rank([_h("A")], criteria={"speed": 0.5, "safety": 0.2})
    with pytest.raises(PriorityError, match="outside 0-5"):
        rank([_h("A", scores={"speed": 7})], criteria={"speed": 1.0})
    with pytest.raises(PriorityError, match="unknown criterion"):
        rank([_h("A", scores={"cost": 1})], criteria={"speed": 1.0})


def test_bottleneck_hints_boost_matching_types() -> None:
    hs = [_h("DB", "database", 4.0), _h("POOL", "pooling", 4.0)]
    assert rank(hs)[0].id == "DB"
    hinted = rank(hs, hints=["pooling"])
    # 0.35 * 1.5 < 0.70: a hint reorders only close calls
    assert hinted[0].id == "DB" and hinted[1].hinted
    close = [_h("DB", "database", 4.0), _h("CACHE", "caching", 4.0)]
    assert rank(close, hints=["database"])[0].id == "DB"


def test_prioritize_a_spec_uses_measured_verdicts() -> None:
    import numpy as np

    from engine.analysis.hypothesis import evaluate_hypothesis
    from engine.spec.model import Spec
    from tests.support.runs import drifted_runs

    hs = (_h("A", "pooling", 2.0), _h("B", "database", 2.0))
    spec = Spec("s", "c", "proactive", Target("http://127.0.0.1:1"), (), (), (), hypotheses=hs)
    rng = np.random.default_rng(1)
    verdict = evaluate_hypothesis(hs[0], drifted_runs(rng, 2, 3000),
                                  drifted_runs(rng, 2, 3000, median_s=0.002))
    ranked = prioritize(spec, [verdict], hints=[None, "pooling"])
    assert ranked[0].id == "A" and ranked[0].impact_source == "measured"
    assert ranked[0].impact == pytest.approx(0.9, abs=0.03)
    assert ranked[0].hinted and not ranked[1].hinted
    assert ranked[1].impact_source == "typical"


def test_to_doc_has_the_report_fields() -> None:
    doc = rank([_h("A")])[0].to_doc()
    assert {"rank", "id", "title", "type", "impact", "impact_source", "effort_hours", "risk",
            "roi", "tier", "top", "quick_win", "matrix_score"} <= set(doc)
