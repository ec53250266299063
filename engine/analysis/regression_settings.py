"""What the regression gate judges with besides the runs, kept so it can be repeated.

``RegressionSettings`` (tolerances, minimum effect, journeys, guards) is built from the spec
by apply (engine/history/record.py) and stored with the judged run; ``compare`` reads it
back and calls the same ``engine.analysis.regression.judge_regression``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from engine.spec.model import DEFAULT_MIN_EFFECT_S
from engine.units import Comparison

__all__ = ["Guard", "RegressionSettings", "journeys_checked"]


@dataclass(frozen=True)
class Guard:
    """A confirmed hypothesis kept as a check: ``metric`` must stay ``op limit``.

    ``limit`` is in the metric's base unit (seconds, requests/s, fraction). FAILS when
    the whole interval of the current value violates it and the point does too.
    """

    metric: str
    journey: str | None
    comparison: Comparison
    source: str
    """What it guards, e.g. 'H1: p95 <= -50% (confirmed 0.021s -> 0.008s)'."""

    def to_doc(self) -> dict[str, Any]:
        """JSON-ready (the guards file, and the settings stored with a judged run)."""
        c = self.comparison
        return {"metric": self.metric, "journey": self.journey, "op": c.op, "value": c.value,
                "text": c.text, "source": self.source}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Guard:
        """The inverse of ``to_doc``; KeyError/TypeError/ValueError on a malformed entry."""
        comparison = Comparison(str(doc["op"]), float(doc["value"]), str(doc["text"]))
        journey = doc.get("journey")
        return cls(str(doc["metric"]), None if journey is None else str(journey), comparison,
                   str(doc["source"]))


@dataclass(frozen=True)
class RegressionSettings:
    """What the regression gate judges with besides the runs: the spec's tolerance
    overrides, its minimum effect, the journeys checked (None = all pooled) and the kept
    guards. apply stores them with the run it judged (engine/history/record.py) so
    ``compare`` repeats that judgement exactly."""

    tolerances: Mapping[str, float] = field(default_factory=dict)
    """Overrides of DEFAULT_TOLERANCES by metric (the spec's ``tolerances``)."""
    min_effect_s: float = DEFAULT_MIN_EFFECT_S
    journeys: tuple[str | None, ...] = (None,)
    guards: tuple[Guard, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        return {"tolerances": dict(self.tolerances), "min_effect_s": self.min_effect_s,
                "journeys": list(self.journeys), "guards": [g.to_doc() for g in self.guards]}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> RegressionSettings:
        """The inverse of ``to_doc``; KeyError/TypeError/ValueError when malformed."""
        return cls({str(k): float(v) for k, v in dict(doc["tolerances"]).items()},
                   float(doc["min_effect_s"]),
                   tuple(None if j is None else str(j) for j in doc["journeys"]),
                   tuple(Guard.from_doc(g) for g in doc["guards"]))

    def overridden(self, tolerances: Mapping[str, float]) -> RegressionSettings:
        """These settings with some tolerances replaced (``compare --tolerance``)."""
        return replace(self, tolerances={**self.tolerances, **tolerances})


def journeys_checked(names: Sequence[str]) -> tuple[str | None, ...]:
    """The pooled run (None), and each journey on its own when there are several."""
    return (None, *names) if len(names) > 1 else (None,)
