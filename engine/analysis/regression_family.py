"""The journeys' checks share the gate's error rate: a journey's FAIL must hold at its share.

The gate FAILs when any judged check does, so every check it runs adds its own chance of a
false alarm. Its 98% intervals (1% per metric and side) were set for one journey selection,
~6 metrics (engine.analysis.regression.GATE_CONFIG). A spec with J journeys adds J more
selections: simulated A-vs-A histories of three journeys shaped like user-lookup's (1000
experiments each, every run drifting by a shared and a journey's own lognormal factor)
FAILed 7.4% of the time at 15% drift with five baseline runs, against 4.2% for the pooled
checks alone (2.8% against 1.1% at 7.5% drift). On 2026-12-02 an identical 60 s run of
user-lookup FAILed its gate on profile p95 +58.6% (98% interval +2.9%..+139.2%) against
five baseline runs whose pooled p95 passed.

So a journey's check FAILs only when its interval at ``1 - (1 - confidence) / J`` (Bonferroni
over the journeys: 99.33% for three) excludes no change too; otherwise it is INCONCLUSIVE,
shown at that level, with why. PASS and INCONCLUSIVE are decided at the gate's 98% as
before: a gate PASSes only when every check does (an intersection-union test, which needs no
such share), so only FAIL, the claim that blocks a release, pays for the journeys' number.
The pooled checks keep the full 98%: a slower service shows in them first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from engine.analysis.compare import StatsConfig
from engine.analysis.regression_check import RegressionCheck
from engine.result import Status
from engine.units import format_level

__all__ = ["at_family_level", "family_config", "journey_count"]


def journey_count(journeys: Sequence[str | None]) -> int:
    """How many single journeys the gate checks (None, the pooled selection, is not one)."""
    return sum(1 for j in journeys if j is not None)


def family_config(config: StatsConfig, journeys: Sequence[str | None]) -> StatsConfig | None:
    """The settings a journey's FAIL is confirmed at, or None with fewer than two journeys."""
    n = journey_count(journeys)
    return replace(config, confidence=1.0 - (1.0 - config.confidence) / n) if n >= 2 else None


def at_family_level(strict: RegressionCheck, config: StatsConfig,
                    journeys: Sequence[str | None]) -> RegressionCheck:
    """A journey's check that FAILed at the gate's level, as judged at the family's: a FAIL
    that holds stands (shown at that level), anything else says why it is not one. Never a
    PASS: the point does not depend on the level, and the same seeded resamples give a wider
    interval that holds the narrower one, so only FAIL or INCONCLUSIVE can come back."""
    assert strict.status is not Status.PASS, "a wider interval cannot PASS what a narrower FAILed"
    if strict.status is Status.FAIL or strict.effect is None:
        return strict
    return replace(strict, message=(
        f"{strict.message}; at the gate's {format_level(config.confidence)} its interval lay "
        f"wholly on the bad side, but a journey's check FAILs only at "
        f"{format_level(strict.effect.confidence)} (its share of the gate's "
        f"{format_level((1.0 - config.confidence) / 2)} per side among "
        f"{journey_count(journeys)} journeys)"))
