"""Hypothesis verdicts: did the optimization change the metric as the team expected?

``run_experiment`` runs the baseline and candidate variants interleaved (A B A B ...)
so machine drift hits both alike; ``evaluate_hypothesis`` compares the two groups with
engine.analysis.compare and decides:

- CONFIRMED: the whole confidence interval meets the expectation;
- REFUTED: the whole interval misses it ("Optimization did not improve {metric} as
  expected");
- INCONCLUSIVE: the interval straddles it (the message says how many more requests
  per variant, or rounds, would decide), or there is too little data;
- INVALID: a run was invalid (the measurement cannot be trusted).

``regression_checks_from_confirmed`` turns confirmed verdicts into regression-gate
guards so a gain cannot silently erode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.analysis.compare import Effect, StatsConfig, compare, higher_is_better, samples_to_decide
from engine.analysis.intervals import interval_problem, practical
from engine.analysis.metrics import is_latency
from engine.analysis.regression import Guard, label, mde_text
from engine.analysis.sequential import look_confidence
from engine.result import RunResult
from engine.spec.model import Hypothesis, Slo, Spec, Variant
from engine.units import Comparison, format_duration, format_level

__all__ = [
    "HypothesisVerdict",
    "RunVariant",
    "Verdict",
    "evaluate_hypothesis",
    "format_value",
    "guards_from_verdicts",
    "planned_looks",
    "regression_checks_from_confirmed",
    "run_experiment",
    "sequential_config",
]


class Verdict(StrEnum):
    CONFIRMED = "CONFIRMED"
    REFUTED = "REFUTED"
    INCONCLUSIVE = "INCONCLUSIVE"
    INVALID = "INVALID"


_STATUS = {Verdict.CONFIRMED: "IMPLEMENTED", Verdict.REFUTED: "REJECTED",
           Verdict.INCONCLUSIVE: "IN_PROGRESS", Verdict.INVALID: "IN_PROGRESS"}


@dataclass(frozen=True)
class HypothesisVerdict:
    """The measured outcome of one hypothesis. ``before``/``after`` are each side's value
    in base units (engine.analysis.groups.centre: a latency metric of 2+ rounds is their
    geometric mean); ``ci_low``/``ci_high`` bound the relative change (after-before)
    / before; ``improvement_pct`` is positive when the metric got better."""

    id: str
    title: str
    type: str
    change_text: str
    expectation: str
    metric: str
    journey: str | None
    effort_hours: float
    risk: str
    verdict: Verdict
    before: float | None
    after: float | None
    change: float | None
    ci_low: float | None
    ci_high: float | None
    improvement_pct: float | None
    improvement_x: float | None
    rounds: int
    requests_needed: int | None
    runs_needed: int | None
    message: str
    detail: str = ""
    """The numbers behind the verdict, in words."""
    limit: Comparison | None = None
    """The expectation as an absolute limit on the metric (relative ones resolved against
    ``before``): what a regression guard enforces once the hypothesis is confirmed."""
    effect: Effect | None = None

    @property
    def status(self) -> str:
        """The flow template's status: IMPLEMENTED, REJECTED or IN_PROGRESS."""
        return _STATUS[self.verdict]

    @property
    def impact(self) -> float | None:
        """Measured improvement as a fraction (0.6 = 60% better), floored at 0."""
        return None if self.improvement_pct is None else max(0.0, self.improvement_pct / 100)

    def to_doc(self) -> dict[str, Any]:
        """The REPORT_FORMAT ``Hypothesis`` object."""
        return {
            "id": self.id, "title": self.title, "type": self.type,
            "change_text": self.change_text, "expectation": self.expectation,
            "metric": self.metric, "journey": self.journey, "effort_hours": self.effort_hours,
            "risk": self.risk, "status": self.status, "verdict": str(self.verdict),
            "before": self.before, "after": self.after,
            "improvement_pct": self.improvement_pct, "improvement_x": self.improvement_x,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "rounds": self.rounds,
            "confidence": self.effect.confidence if self.effect else None,
            "requests_needed": self.requests_needed, "runs_needed": self.runs_needed,
            "mde": self.effect.mde if self.effect else None,
            "message": self.message, "detail": self.detail,
        }


RunVariant = Callable[[Variant, str, int], RunResult]

AUTO = "auto"
MIN_AUTO_ROUNDS = 2
"""``rounds: auto`` looks at the interval after every round from this one on."""


def planned_looks(h: Hypothesis) -> int:
    """How many times ``rounds: auto`` may look at the interval (rounds 2..max_rounds)."""
    return max(1, h.max_rounds - MIN_AUTO_ROUNDS + 1)


def sequential_config(h: Hypothesis) -> StatsConfig | None:
    """The per-look interval of ``rounds: auto``: one level for every look, from the
    group-sequential boundary over the planned looks (engine.analysis.sequential; 96.2% for
    looks at rounds 2..6), so repeated looks cannot raise the chance of a wrong verdict above
    about 5% per direction (measured up to 10% drift between runs; more drift than that with
    few runs makes each look's own interval cover less: docs/STATISTICS.md). None for a fixed
    number of rounds (one look at 95%)."""
    if h.rounds != AUTO:
        return None
    return StatsConfig(confidence=look_confidence(MIN_AUTO_ROUNDS,
                                                  MIN_AUTO_ROUNDS + planned_looks(h) - 1))


def run_experiment(h: Hypothesis, run_variant: RunVariant, rounds: int | str | None = None,
                   slo: Slo | None = None, config: StatsConfig | None = None,
                   ) -> tuple[list[RunResult], list[RunResult]]:
    """Run baseline and candidate interleaved, ``rounds`` pairs (default ``h.rounds``).

    ``run_variant(variant, "baseline"|"candidate", round_index)`` drives one run. Stops
    after a round that produced an invalid run: the verdict is INVALID either way. With
    ``"auto"`` the interval is looked at after each round from MIN_AUTO_ROUNDS on and the
    experiment stops once it decides (CONFIRMED or REFUTED) or after ``h.max_rounds``.
    ``config``: the looks' interval settings (default ``sequential_config``; the bench
    compares boundaries with it).
    """
    planned = rounds if rounds is not None else h.rounds
    auto = planned == AUTO
    limit = max(1, h.max_rounds if auto else int(planned))
    baseline: list[RunResult] = []
    candidate: list[RunResult] = []
    for i in range(limit):
        baseline.append(run_variant(h.baseline, "baseline", i))
        candidate.append(run_variant(h.candidate, "candidate", i))
        if not (baseline[-1].validity.valid and candidate[-1].validity.valid):
            break
        if auto and i + 1 >= MIN_AUTO_ROUNDS and _decided(h, baseline, candidate, slo, config):
            break
    return baseline, candidate


def _decided(h: Hypothesis, baseline: Sequence[RunResult], candidate: Sequence[RunResult],
             slo: Slo | None, config: StatsConfig | None = None) -> bool:
    verdict = evaluate_hypothesis(h, baseline, candidate, slo, config).verdict
    return verdict in (Verdict.CONFIRMED, Verdict.REFUTED)


def _expectation_text(h: Hypothesis, value: Comparison | None) -> str:
    name = label(h.expect.metric, h.expect.journey)
    if h.expect.change is not None:
        return f"{name} {h.expect.change.text}"
    return f"{name} {value.text}" if value is not None else name


def _improvement(metric: str, before: float | None,
                 after: float | None) -> tuple[float | None, float | None]:
    """(% better, x better): lower-better metrics improve as they fall."""
    if before is None or after is None:
        return None, None
    if higher_is_better(metric):
        pct = (after - before) / before * 100 if before else None
        return pct, (after / before if before else None)
    pct = (before - after) / before * 100 if before else None
    return pct, (before / after if after else None)


def format_value(metric: str, value: float | None) -> str:
    """'12.3ms', '512/s' or '0.12%' by metric kind."""
    if value is None:
        return "n/a"
    if is_latency(metric):
        return format_duration(value)
    if metric == "throughput":
        return f"{value:.4g}/s"
    return f"{value * 100:.3g}%"


def _holds(op: str, observed: float, threshold: float) -> bool:
    return Comparison(op, threshold, "").holds(observed)


def evaluate_hypothesis(h: Hypothesis, baseline_runs: Sequence[RunResult],
                        candidate_runs: Sequence[RunResult], slo: Slo | None = None,
                        config: StatsConfig | None = None) -> HypothesisVerdict:
    """Verdict on ``h`` from its baseline (before) and candidate (after) runs.

    The expectation is ``h.expect.change`` (relative, e.g. ``<= -50%``), else
    ``h.expect.value`` (absolute, on the candidate), else ``slo.objective`` when the
    hypothesis expects an SLO to be met.
    """
    config = config or sequential_config(h)
    value = h.expect.value
    if h.expect.change is None and value is None and slo is not None:
        value = slo.objective
    ctx = _Ctx(h, _expectation_text(h, value), min(len(baseline_runs), len(candidate_runs)))
    invalid = [r for r in (*baseline_runs, *candidate_runs) if not r.validity.valid]
    if invalid or not baseline_runs or not candidate_runs:
        why = "; ".join(invalid[0].validity.reasons) if invalid else "no runs"
        return ctx.verdict(Verdict.INVALID, None, f"{h.id}: run invalid ({why}): no verdict")
    if h.expect.change is None and value is None:
        return ctx.verdict(Verdict.INCONCLUSIVE, None, f"{h.id}: no expectation to test")
    effect = compare(baseline_runs, candidate_runs, h.expect.metric, h.expect.journey, config)
    if effect.insufficient:
        return ctx.verdict(Verdict.INCONCLUSIVE, effect, f"{h.id}: {effect.reason}",
                           needed=(practical(effect.requests_needed), None))
    if h.expect.change is not None:
        return ctx.decide(effect, "relative", h.expect.change.op, h.expect.change.ratio)
    assert value is not None
    return ctx.decide(effect, "value", value.op, value.value)


@dataclass(frozen=True)
class _Ctx:
    """What every verdict of one hypothesis shares."""

    h: Hypothesis
    expectation: str
    rounds: int

    @property
    def name(self) -> str:
        return label(self.h.expect.metric, self.h.expect.journey)

    def decide(self, effect: Effect, space: str, op: str, threshold: float) -> HypothesisVerdict:
        point, lo, hi = ((effect.change, effect.ci_low, effect.ci_high) if space == "relative"
                         else (effect.b_value, effect.b_ci_low, effect.b_ci_high))
        if point is None or lo is None or hi is None:
            why = "relative change undefined (before is 0)" if space == "relative" else \
                f"no interval for the value of {self.name} ({effect.method})"
            return self.verdict(Verdict.INCONCLUSIVE, effect, f"{self.h.id}: {why}")
        limit = _limit(effect, space, op, threshold)
        detail = self._detail(effect, space, point, lo, hi)
        refuted = not _holds(op, lo, threshold) and not _holds(op, hi, threshold)
        problem = interval_problem(lo, hi, space, sure_bad=refuted)
        if problem:
            return self.verdict(Verdict.INCONCLUSIVE, effect, f"{self.h.id}: {problem}",
                                detail, limit)
        if _holds(op, lo, threshold) and _holds(op, hi, threshold):
            return self.verdict(Verdict.CONFIRMED, effect,
                                f"{self.h.id} confirmed: {self.expectation}", detail, limit)
        if refuted:
            return self.verdict(Verdict.REFUTED, effect,
                                f"Optimization did not improve {self.name} as expected",
                                detail, limit)
        requests, runs = samples_to_decide(effect, threshold, space)
        needed = (practical(requests), practical(runs))
        return self.verdict(Verdict.INCONCLUSIVE, effect,
                            f"{self.h.id}: inconclusive, {_need_text(needed)}", detail, limit,
                            needed)

    def _detail(self, effect: Effect, space: str, point: float, lo: float, hi: float) -> str:
        m = effect.metric
        before, after = format_value(m, effect.a_value), format_value(m, effect.b_value)
        ci = f"{format_level(effect.confidence)} CI"
        if space == "relative":
            measured = f"{point:+.1%} ({ci} {lo:+.1%}..{hi:+.1%})"
        else:
            measured = f"{format_value(m, point)} ({ci} {format_value(m, lo)}.." \
                       f"{format_value(m, hi)})"
        looks = (f" (rounds: auto, look {max(1, self.rounds - MIN_AUTO_ROUNDS + 1)} of up to "
                 f"{planned_looks(self.h)})") if self.h.rounds == AUTO else ""
        return f"{self.name} {before} -> {after}: measured {measured}{looks}; expected " \
               f"{self.expectation}; {effect.runs_a}+{effect.runs_b} runs, " \
               f"{effect.n_a}+{effect.n_b} requests{mde_text(effect)}"

    def verdict(self, verdict: Verdict, effect: Effect | None, message: str,
                detail: str = "", limit: Comparison | None = None,
                needed: tuple[int | None, int | None] = (None, None)) -> HypothesisVerdict:
        h = self.h
        before = effect.a_value if effect else None
        after = effect.b_value if effect else None
        pct, times = _improvement(h.expect.metric, before, after)
        return HypothesisVerdict(
            h.id, h.title, h.type, h.change, self.expectation, h.expect.metric,
            h.expect.journey, h.effort_hours, h.risk, verdict, before, after,
            effect.change if effect else None, effect.ci_low if effect else None,
            effect.ci_high if effect else None, pct, times, self.rounds, needed[0], needed[1],
            message, detail or (effect.reason if effect else ""), limit, effect)


_PRACTICAL_ROUNDS = 50


def _need_text(needed: tuple[int | None, int | None]) -> str:
    requests, runs = needed
    if requests is None and runs is None:
        return ("no practical sample size decides it (the effect sits on the expectation, "
                "or the runs are too unstable)")
    parts = []
    if requests is not None:
        parts.append(f"about {requests} more requests per variant")
    if runs is not None:
        parts.append(f"about {runs} more rounds")
    text = " or ".join(parts) + " would decide it"
    if runs is not None and runs > _PRACTICAL_ROUNDS and requests is None:
        return f"the effect is too close to the expectation, or the runs too unstable, for a " \
               f"practical experiment to decide ({text})"
    return text


def _limit(effect: Effect, space: str, op: str, threshold: float) -> Comparison | None:
    """The expectation as an absolute limit on the metric."""
    if space == "relative":
        if effect.a_value is None:
            return None
        threshold = effect.a_value * (1.0 + threshold)
    return Comparison(op, threshold, f"{op} {format_value(effect.metric, threshold)}")


def regression_checks_from_confirmed(verdicts: Sequence[HypothesisVerdict]) -> tuple[Guard, ...]:
    """Guards for the regression gate from CONFIRMED verdicts.

    A relative expectation (``p95 <= -50%``) becomes the absolute limit it implied
    against the measured before-value (``p95 <= 0.5 x before``); an absolute one is
    kept as is. ``check_regressions(..., guards=...)`` then fails a later run whose
    whole interval breaks the limit, so the promised gain cannot silently erode. The
    measured after-value is recorded in the guard's source text; smaller erosion from
    it is what the ordinary tolerance check against the history baseline catches.
    """
    guards = []
    for v in verdicts:
        if v.verdict is Verdict.CONFIRMED and v.limit is not None:
            source = f"{v.id}: {v.expectation} (confirmed {format_value(v.metric, v.before)}" \
                     f" -> {format_value(v.metric, v.after)})"
            guards.append(Guard(v.metric, v.journey, v.limit, source))
    return tuple(guards)


def guards_from_verdicts(spec: Spec, verdicts: Sequence[HypothesisVerdict]) -> tuple[Guard, ...]:
    """``regression_checks_from_confirmed`` for the verdicts of ``spec``'s hypotheses
    (verdicts of hypotheses the spec no longer declares are dropped)."""
    declared = {h.id for h in spec.hypotheses}
    return regression_checks_from_confirmed([v for v in verdicts if v.id in declared])
