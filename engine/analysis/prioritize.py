"""Rank optimizations by ROI: impact / effort, tiers, an optional weighted option matrix.

Impact is a fraction of the metric improved (0.6 = 60% better), taken from the best
source available: the measured effect of a hypothesis verdict ('measured'), else the
spec's ``estimated_impact`` ('estimate'), else the midpoint of the typical range for
the optimization type ('typical', see TYPICAL_IMPACT). ROI = impact / effort hours.

Order: by option-matrix score when the spec declares criteria (the team's own
weighting), else by ROI; ties go to ROI, then lower effort. Bottleneck hints (types the
bottleneck analysis suggests) multiply the sort key of matching items by HINT_BOOST.
The top 3 ranks are marked ``top``, widened up to 5 when there are more quick wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.analysis.hypothesis import HypothesisVerdict, Verdict
from engine.spec.model import Hypothesis, Spec

__all__ = [
    "HIGH_IMPACT",
    "HINT_BOOST",
    "TYPICAL_IMPACT",
    "Priority",
    "PriorityError",
    "measured_impacts",
    "prioritize",
    "rank",
    "tier_of",
    "typical_impact",
]

HOURS_PER_DAY = 8.0
HIGH_IMPACT = 0.5
"""Impact at or above this counts as 'high' for the quick-win tier."""
HINT_BOOST = 1.5
"""Sort-key multiplier for items whose type a bottleneck hint names."""
TOP_MIN, TOP_MAX = 3, 5

TYPICAL_IMPACT: Mapping[str, tuple[float, float]] = {
    "database": (0.50, 0.90),
    "caching": (0.80, 0.95),
    "algorithm": (0.90, 0.999),  # 10x-1000x faster, as latency reduction 1 - 1/x
    "async": (0.90, 0.99),  # of the user-facing path
    "api": (0.50, 0.90),  # batching / parallel calls
    "pooling": (0.20, 0.50),
    "other": (0.10, 0.30),  # no published range: deliberately modest
}
"""Typical latency reduction by optimization type (fractions); the midpoint is used."""


class PriorityError(ValueError):
    """The option matrix is malformed (weights not summing to 1, scores outside 0-5)."""


@dataclass(frozen=True)
class Priority:
    """One ranked optimization. ``roi`` is impact per effort hour."""

    rank: int
    id: str
    title: str
    type: str
    impact: float
    impact_source: str
    """'measured', 'estimate' or 'typical'."""
    effort_hours: float
    risk: str
    roi: float
    tier: str
    """'quick-win', 'strategic', 'major-refactoring' or 'standard'."""
    top: bool
    quick_win: bool
    matrix_score: float | None
    """Weighted 0-5 score when the spec has criteria."""
    hinted: bool = False
    """A bottleneck hint named this item's type."""

    def to_doc(self) -> dict[str, Any]:
        """The REPORT_FORMAT ``Priority`` object (plus ``hinted``)."""
        return {
            "rank": self.rank, "id": self.id, "title": self.title, "type": self.type,
            "impact": self.impact, "impact_source": self.impact_source,
            "effort_hours": self.effort_hours, "risk": self.risk, "roi": self.roi,
            "tier": self.tier, "top": self.top, "quick_win": self.quick_win,
            "matrix_score": self.matrix_score, "hinted": self.hinted,
        }


def typical_impact(kind: str) -> float:
    """Midpoint of the typical range for an optimization type (unknown types: 'other')."""
    low, high = TYPICAL_IMPACT.get(kind, TYPICAL_IMPACT["other"])
    return (low + high) / 2.0


def tier_of(impact: float, effort_hours: float, risk: str) -> str:
    """quick-win: high impact, under a day, low risk; strategic: 2-5 days; major-refactoring:
    over 5 days; standard: everything else (e.g. 1-2 days, or quick but risky)."""
    if impact >= HIGH_IMPACT and effort_hours < HOURS_PER_DAY and risk == "low":
        return "quick-win"
    if effort_hours > 5 * HOURS_PER_DAY:
        return "major-refactoring"
    if effort_hours >= 2 * HOURS_PER_DAY:
        return "strategic"
    return "standard"


def check_matrix(criteria: Mapping[str, float], hypotheses: Sequence[Hypothesis]) -> None:
    """Raise PriorityError unless weights are >= 0 and sum to 1 and scores are in 0-5."""
    if not criteria:
        return
    if any(w < 0 for w in criteria.values()) or not math.isclose(sum(criteria.values()), 1.0,
                                                                   abs_tol=0.01):
        total = sum(criteria.values())
        raise PriorityError(f"criteria weights must be >= 0 and sum to 1, got {total:g}")
    for h in hypotheses:
        for name, score in h.scores.items():
            if name not in criteria:
                raise PriorityError(f"{h.id}: score for unknown criterion {name!r}")
            if not 0.0 <= score <= 5.0:
                raise PriorityError(f"{h.id}: score {name}={score:g} is outside 0-5")


def _matrix_score(h: Hypothesis, criteria: Mapping[str, float]) -> float | None:
    """Weighted score 0-5; a criterion the hypothesis does not score counts 0."""
    if not criteria:
        return None
    return sum(w * h.scores.get(name, 0.0) for name, w in criteria.items())


def _impact(h: Hypothesis, measured: Mapping[str, float]) -> tuple[float, str]:
    if h.id in measured:
        return max(0.0, measured[h.id]), "measured"
    if h.estimated_impact is not None:
        return h.estimated_impact, "estimate"
    return typical_impact(h.type), "typical"


def rank(hypotheses: Sequence[Hypothesis], criteria: Mapping[str, float] | None = None,
         measured: Mapping[str, float] | None = None,
         hints: Sequence[str] = ()) -> tuple[Priority, ...]:
    """Rank ``hypotheses``. ``measured`` maps hypothesis id -> measured impact fraction
    (e.g. HypothesisVerdict.impact); ``hints`` are hypothesis types the bottleneck
    analysis suggests. Raises PriorityError for a malformed option matrix."""
    crit = dict(criteria or {})
    check_matrix(crit, hypotheses)
    rows = [_row(h, crit, measured or {}, set(hints)) for h in hypotheses]
    rows.sort(key=lambda r: (-r[0], -r[1].roi, r[1].effort_hours, r[1].id))
    quick = sum(1 for _, p in rows if p.quick_win)
    top_n = min(TOP_MAX, max(TOP_MIN, quick))
    return tuple(_ranked(p, i + 1, i < top_n) for i, (_, p) in enumerate(rows))


def _row(h: Hypothesis, criteria: Mapping[str, float], measured: Mapping[str, float],
         hints: set[str]) -> tuple[float, Priority]:
    impact, source = _impact(h, measured)
    effort = max(h.effort_hours, 0.1)  # zero-effort specs would divide by zero
    roi = impact / effort
    tier = tier_of(impact, h.effort_hours, h.risk)
    matrix = _matrix_score(h, criteria)
    hinted = h.type in hints
    key = (matrix if matrix is not None else roi) * (HINT_BOOST if hinted else 1.0)
    return key, Priority(0, h.id, h.title, h.type, impact, source, h.effort_hours, h.risk,
                         roi, tier, False, tier == "quick-win", matrix, hinted)


def _ranked(p: Priority, rank: int, top: bool) -> Priority:
    return replace(p, rank=rank, top=top)


def measured_impacts(verdicts: Sequence[HypothesisVerdict]) -> dict[str, float]:
    """Hypothesis id -> measured improvement fraction, for verdicts that measured one
    (an INVALID run or a too-small sample measured nothing)."""
    return {v.id: v.impact for v in verdicts
            if v.impact is not None and v.verdict is not Verdict.INVALID
            and not (v.effect is not None and v.effect.insufficient)}


def prioritize(spec: Spec, verdicts: Sequence[HypothesisVerdict] = (),
               hints: Sequence[str | None] = ()) -> tuple[Priority, ...]:
    """Rank a spec's hypotheses with its option-matrix criteria, using the measured impact
    of any ``verdicts`` and boosting the hypothesis types named in ``hints``."""
    return rank(spec.hypotheses, spec.criteria, measured_impacts(verdicts),
                tuple(h for h in hints if h))
