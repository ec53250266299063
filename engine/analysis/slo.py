"""SLO checks and error budgets for one run: pure functions, no printing.

A check is PASS or FAIL only with enough data: a percentile needs at least
``MIN_TAIL_SAMPLES`` requests expected beyond it, otherwise INCONCLUSIVE. An
invalid run makes every check INVALID. Latency values carry the histogram's
relative error bound so the report can put it beside the margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.analysis.metrics import (
    is_latency,
    latency_value,
    merged_response,
    metric_value,
    percentile_of,
    tail_samples_needed,
)
from engine.hotpath.native import Histogram, count_above
from engine.result import RunResult, Status
from engine.spec import lint
from engine.spec.build_flow import metric_name
from engine.spec.model import Slo
from engine.units import format_value, human_duration

MIN_TAIL_SAMPLES = lint.MIN_TAIL_SAMPLES
"""Requests expected beyond a percentile before it may decide a gate (p99 -> 1000 requests)."""
MIN_REQUESTS = 20
"""Requests before a ratio SLI (error rate, availability, throughput) may decide a gate."""
BURN_TIERS = ((14.4, "14.4x fast burn: page (2% of a 30-day budget in 1 h)"),
              (6.0, "6x burn: page (5% of a 30-day budget in 6 h)"),
              (1.0, "1x burn: ticket (budget exhausted by the end of the window)"))


@dataclass(frozen=True)
class SloCheck:
    """One objective judged on one run."""

    slo: str
    sli: str
    journey: str | None
    metric: str
    value: float | None
    target: str
    value_text: str
    status: Status
    margin: float | None
    error_bound: float
    message: str

    def to_doc(self) -> dict[str, Any]:
        return {"slo": self.slo, "sli": self.sli, "journey": self.journey, "metric": self.metric,
                "value": self.value, "target": self.target, "value_text": self.value_text,
                "status": str(self.status), "margin": self.margin, "error_bound": self.error_bound,
                "message": self.message}


@dataclass(frozen=True)
class Budget:
    """Error budget of one SLO as this run would burn it."""

    slo: str
    target: float
    budget: float
    bad_ratio: float
    burn_rate: float
    consumed: float
    tier: str
    policy: str
    requests: int = 0
    """Requests of the SLO's journey(s) in this run."""
    rate: float = 0.0
    """Those requests per second of the run."""
    window_s: float = 0.0
    """The SLO's window (the budget's period)."""

    @property
    def window_requests(self) -> float:
        """Requests the window would see at this run's rate."""
        return self.rate * self.window_s

    @property
    def allowed_failures(self) -> float:
        """The budget as a count: the bad events the window allows at this run's rate."""
        return self.window_requests * self.budget

    @property
    def count_text(self) -> str:
        """'4,320,000 requests per 1d at this rate -> 4,320 failures allowed'."""
        return (f"{self.window_requests:,.0f} requests per {human_duration(self.window_s)} at "
                f"this rate -> {self.allowed_failures:,.0f} failures allowed")

    def to_doc(self) -> dict[str, Any]:
        return dict(self.__dict__, window_requests=self.window_requests,
                    allowed_failures=self.allowed_failures)


def metric_label(slo: Slo) -> str:
    """'lookup p95', 'error_rate', 'checkout throughput'."""
    name = metric_name(slo.sli)
    return f"{slo.sli.journey} {name}" if slo.sli.journey else name


def check_slo(slo: Slo, run: RunResult) -> SloCheck:
    """Judge one SLO on one run (a latency SLI's histogram is merged once)."""
    metric, journey = metric_name(slo.sli), slo.sli.journey
    label = metric_label(slo)
    hist = merged_response(run, journey) if is_latency(metric) and run.journeys else None
    value = latency_value(hist, metric) if hist is not None else metric_value(run, metric, journey)
    bound = float(hist.relative_error) if hist is not None else 0.0
    base: dict[str, Any] = dict(slo=slo.name, sli=slo.sli.kind, journey=journey, metric=label,
                                value=value, target=slo.objective.text, error_bound=bound)
    if not run.validity.valid:
        reasons = "; ".join(run.validity.reasons)
        return SloCheck(**base, value_text=_text(slo, value), status=Status.INVALID, margin=None,
                        message=f"run invalid: {reasons}")
    short = _too_little(run, metric, journey, hist)
    if value is None or short:
        return SloCheck(**base, value_text=_text(slo, value), status=Status.INCONCLUSIVE,
                        margin=None, message=short or "no data for this SLI")
    unanswered = _unanswered_breach(run, metric, journey, hist)
    if unanswered:
        return SloCheck(**base, value_text=_text(slo, value), status=Status.FAIL, margin=None,
                        message=f"SLO breached: {label} {unanswered}")
    return _judged(slo, label, value, base)


def unanswered(run: RunResult, journey: str | None) -> int:
    """Requests that never got an answer or a timing: dropped, or failed to connect. They
    count as slower than any latency objective."""
    return sum(j.outcomes.get("dropped", 0) + j.outcomes.get("connect", 0)
               for j in run.journeys if journey is None or j.name == journey)


def _unanswered_breach(run: RunResult, metric: str, journey: str | None,
                       hist: Histogram | None) -> str:
    """'' unless more requests went unanswered than the percentile's tail allows."""
    if hist is None or not metric.startswith("p"):
        return ""
    lost = unanswered(run, journey)
    total = int(hist.total_count) + lost
    allowed = 1.0 - percentile_of(metric) / 100.0
    if not lost or lost / total <= allowed:
        return ""
    return (f"not met: {lost / total:.1%} of requests were never answered ({lost:,} dropped "
            f"or failed to connect), more than the {allowed * 100:.3g}% a {metric} allows")


def _judged(slo: Slo, label: str, value: float, base: dict[str, Any]) -> SloCheck:
    passed = slo.objective.holds(value)
    target = slo.objective.value
    margin = (target - value) / target if slo.objective.upper_bound else (value - target) / target
    margin = margin if target else 0.0
    text = _text(slo, value)
    if passed:
        note = f"{text} vs {slo.objective.text}"
        if abs(margin) < base["error_bound"]:
            note += " (margin within the histogram's error bound)"
        return SloCheck(**base, value_text=text, status=Status.PASS, margin=margin, message=note)
    message = f"SLO breached: {label} {text} exceeds target {slo.objective.text}"
    return SloCheck(**base, value_text=text, status=Status.FAIL, margin=margin, message=message)


def _text(slo: Slo, value: float | None) -> str:
    return "n/a" if value is None else format_value(slo.sli.kind, value)


def _too_little(run: RunResult, metric: str, journey: str | None, hist: Histogram | None) -> str:
    """A reason the run cannot decide this metric, or ''."""
    if hist is not None and metric.startswith("p"):
        need = tail_samples_needed(metric, MIN_TAIL_SAMPLES)
        if hist.total_count < need:
            return f"too few requests for {metric}: {hist.total_count}, need at least {need}"
        return ""
    requests = sum(j.requests for j in run.journeys if journey is None or j.name == journey)
    if requests < MIN_REQUESTS:
        return f"too few requests: {requests}, need at least {MIN_REQUESTS}"
    return ""


def error_budget(slo: Slo, run: RunResult) -> Budget | None:
    """Budget = 1 - target; burn rate = bad ratio / budget; None for SLIs without a budget."""
    budget = slo.error_budget
    if budget is None or budget <= 0 or slo.target is None or run.requests == 0:
        return None
    bad = _bad_ratio(slo, run)
    burn = bad / budget
    consumed = burn * run.duration_s / slo.window_s if slo.window_s else 0.0
    requests = sum(j.requests for j in run.journeys
                   if slo.sli.journey is None or j.name == slo.sli.journey)
    rate = requests / run.duration_s if run.duration_s > 0 else 0.0
    return Budget(slo.name, slo.target, budget, bad, burn, consumed, _tier(burn), _policy(burn),
                  requests, rate, slo.window_s)


def _bad_ratio(slo: Slo, run: RunResult) -> float:
    if slo.sli.kind == "latency":
        hist = merged_response(run, slo.sli.journey)
        lost = unanswered(run, slo.sli.journey)
        total = int(hist.total_count) + lost
        return (count_above(hist, slo.objective.value * 1e9) + lost) / total if total else 0.0
    selected = [j for j in run.journeys if slo.sli.journey is None or j.name == slo.sli.journey]
    requests = sum(j.requests for j in selected)
    return sum(j.errors for j in selected) / requests if requests else 0.0


def _tier(burn: float) -> str:
    return next((label for limit, label in BURN_TIERS if burn >= limit), "under 1x: within budget")


def _policy(burn: float) -> str:
    if burn >= 1.0:
        return "budget exhausted at this burn rate: stop feature work, prioritise reliability"
    return "budget healthy: OK to take risks (ship features, run experiments)"
