"""The noise-aware regression gate: current runs against baseline runs, per SLI.

Rule (docs/STATISTICS.md): a check FAILS only when the change is significant -- the
whole confidence interval lies on the bad side of 0 -- AND the point change exceeds
the tolerance. It PASSES when there is enough data (the minimum sample sizes of
engine.analysis.compare) and the point change is within the tolerance; the message says when
the interval is still wider than the tolerance. No baseline, too little data, or a
change beyond the tolerance that is not significant is INCONCLUSIVE, never PASS.

In a spec of J >= 2 journeys a journey's FAIL must also hold at its share of the gate's
error, 1 - 0.02 / J (engine.analysis.regression_family); PASS is decided at 98% throughout.

Guards turn confirmed hypotheses into extra checks: the current value must keep
meeting the hypothesis's expectation (see ``Guard``, engine.analysis.regression_guard).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.analysis.compare import (
    Effect,
    StatsConfig,
    compare,
    higher_is_better,
    samples_to_decide,
)
from engine.analysis.disturbance import Disturbance, disturbance
from engine.analysis.drift import noise_groups
from engine.analysis.generator_lag import GeneratorLag
from engine.analysis.host_load import HostLoad, host_load
from engine.analysis.intervals import interval_problem, practical, span_problem
from engine.analysis.machine_speed import MachineSpeed, measured_again
from engine.analysis.metrics import is_latency
from engine.analysis.regression_check import (
    ABSOLUTE,
    RegressionCheck,
    bad_sign,
    label,
    mde_text,
    ms_text,
    regression_message,
    undecided,
)
from engine.analysis.regression_family import at_family_level, family_config
from engine.analysis.regression_guard import guard_check
from engine.analysis.regression_scope import between_journeys, holds_gate, not_judged
from engine.analysis.regression_settings import Guard, RegressionSettings, journeys_checked
from engine.result import InvalidCause, RunResult, Status, worst

__all__ = [
    "DEFAULT_TOLERANCES", "GATE_CONFIG", "RESOLUTION", "Guard", "RegressionCheck",
    "RegressionResult", "RegressionSettings", "check_regressions", "journeys_checked",
    "judge_regression", "label", "mde_text", "merge_tolerances",
]

DEFAULT_TOLERANCES: Mapping[str, float] = {
    "p50": 0.10, "p95": 0.15, "p99": 0.20, "max": 0.30, "throughput": 0.10, "error_rate": 0.001,
}
"""Latency metrics: allowed relative increase; throughput: allowed relative decrease;
error_rate (and availability): allowed absolute increase (decrease) in points, as a fraction."""

GATE_CONFIG = StatsConfig(confidence=0.98)
"""The gate tests ~6 metrics at once and FAILS on any of them: 98% intervals (1% per
metric and side) keep the family's A-vs-A false-alarm rate under 5% (docs/STATISTICS.md).
A spec's journeys share that 1% for a FAIL (engine.analysis.regression_family)."""

_NOTED = frozenset({Status.FAIL, Status.INCONCLUSIVE})
"""Verdicts the host, machine and lag notes are said beside: a PASS needs no excuse; an
INVALID gate says why itself (an invalid run judged nothing; a second measurement on a
machine still disturbed names the disturbance)."""
RESOLUTION = 0.001
"""A relative change whose whole interval is not beyond 0.1% is not significant (``_beyond``)."""


def merge_tolerances(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults overridden per metric; signs are ignored (throughput's -10% == 0.10)."""
    merged = dict(DEFAULT_TOLERANCES)
    merged.update({k: abs(float(v)) for k, v in (overrides or {}).items()})
    return merged


@dataclass(frozen=True)
class RegressionResult:
    """All checks and the worst status (INVALID > FAIL > INCONCLUSIVE > PASS)."""

    status: Status
    checks: tuple[RegressionCheck, ...]
    messages: tuple[str, ...]
    """Verbatim 'Performance regression detected: ...' lines, one per failed check."""
    note: str = ""
    settings: RegressionSettings | None = None
    """What ``judge_regression`` judged with (None from a bare ``check_regressions``)."""
    host: HostLoad | None = None
    """Other work on the machine during the current run vs the baseline (None unsampled)."""
    speed: MachineSpeed | None = None
    """The machine's own speed (a fixed probe) now vs the baseline's (None unprobed)."""
    lag: GeneratorLag | None = None
    """Our generator's schedule lag now vs the baseline's (None: closed model, no baseline)."""
    cause: InvalidCause | None = None
    """Why an INVALID gate is INVALID, for a tool to branch on; None otherwise. The report's
    ``invalid_cause``."""

    @property
    def host_note(self) -> str:
        """'the host was busier: ...' beside a FAIL or INCONCLUSIVE verdict, else '' (one sentence
        for the gate's message and every report format)."""
        return self.host.note if self.host and self.status in _NOTED else ""

    @property
    def machine_note(self) -> str:
        """'the machine was slower: ...' beside a FAIL or INCONCLUSIVE verdict, else '' (like
        ``host_note``: said, never judged)."""
        return self.speed.note if self.speed and self.status in _NOTED else ""

    @property
    def lag_note(self) -> str:
        """'our load generator ran late ...' beside a FAIL or INCONCLUSIVE verdict, else ''."""
        return self.lag.note if self.lag and self.status in _NOTED else ""

    @property
    def disturbance(self) -> str:
        """Why the machine may be behind it, not the code: a slower probe, a late generator."""
        return Disturbance(self.speed, self.lag).why

    @property
    def invalid_reason(self) -> str:
        """Why the gate is INVALID ('' unless it is): an invalid current run, or a second
        measurement on a machine still disturbed (``_slow_twice``)."""
        return self.note if self.status is Status.INVALID else ""

    @property
    def said(self) -> tuple[str, ...]:
        """What the spec's messages say of the gate: the FAIL lines, or why it is INVALID."""
        return (self.invalid_reason,) if self.invalid_reason else self.messages

    @property
    def notes(self) -> tuple[str, ...]:
        """The notes said beside the verdict, in order (the gate's message, ``compare``):
        first why the gate is INVALID, when it is."""
        return tuple(n for n in (self.invalid_reason, self.host_note, self.machine_note,
                                 self.lag_note) if n)

    def to_doc(self, baseline: Mapping[str, Any],
               changepoints: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """The REPORT_FORMAT ``Regression`` object; ``baseline`` ({mode, runs, days,
        pinned, hosts_excluded}) and ``changepoints`` come from the history store."""
        return {"status": str(self.status), "baseline": dict(baseline),
                "checks": [c.to_doc() for c in self.checks],
                "changepoints": [dict(c) for c in changepoints],
                "host_load": self.host.to_doc() if self.host is not None else None,
                "host_note": self.host_note,
                "machine_speed": self.speed.to_doc() if self.speed is not None else None,
                "machine_note": self.machine_note,
                "generator_lag": self.lag.to_doc() if self.lag is not None else None,
                "lag_note": self.lag_note,
                "notes": list(self.notes),
                "invalid_cause": str(self.cause)
                if self.status is Status.INVALID and self.cause else None}


def judge_regression(current: Sequence[RunResult], baseline: Sequence[RunResult],
                     settings: RegressionSettings,
                     noise_runs: Sequence[RunResult] = ()) -> RegressionResult:
    """The regression gate. apply (engine/history/record.py, on the history's baseline) and
    ``compare`` (on the stored runs and the settings stored with them) both call this, so
    they cannot disagree on the same runs. ``noise_runs``: earlier runs of the spec beyond
    the baseline, newest first (engine.history.baseline), for the drift estimate only."""
    result = check_regressions(current, baseline, settings.tolerances, settings.journeys,
                               settings.guards, min_effect_s=settings.min_effect_s,
                               noise_runs=noise_runs)
    valid = [r for r in baseline if r.validity.valid]  # the runs the checks compared with
    machine = disturbance(current, baseline)
    return _slow_twice(replace(result, settings=settings, host=host_load(current, valid),
                               speed=machine.speed, lag=machine.lag), current)


def _slow_twice(result: RegressionResult, current: Sequence[RunResult]) -> RegressionResult:
    """A latency FAIL of a second measurement (``measured_again``: the first met a slower
    machine or a late generator) on a machine still so (``disturbance``) is INVALID: twice the
    code and the machine could not be told apart. It blocks as a FAIL does (exit 3), and
    says to re-run on a quieter machine, not to roll back; its checks keep what they
    measured, and the FAIL lines ('Performance regression detected') are not said. A FAIL
    of errors or throughput stands (a slower machine does not explain them), and so does a
    PASS or INCONCLUSIVE: the machine cannot have hidden a slowdown the gate would otherwise
    have seen passing."""
    if result.status is not Status.FAIL or not result.disturbance or not measured_again(current):
        return result
    if not all(is_latency(c.metric) for c in result.checks
               if c.judged and c.status is Status.FAIL):
        return result
    return replace(result, status=Status.INVALID, messages=(),
                   cause=InvalidCause.MACHINE_SLOWER, note=(
        f"cannot tell the code from the machine: measured twice, the second run would FAIL "
        f"too while {result.disturbance}; re-run when the machine is at its usual speed"))


def check_regressions(current: Sequence[RunResult], baseline: Sequence[RunResult],
                      tolerances: Mapping[str, float] | None = None,
                      journeys: Sequence[str | None] = (None,),
                      guards: Sequence[Guard] = (),
                      config: StatsConfig | None = None,
                      min_effect_s: float = 0.0,
                      noise_runs: Sequence[RunResult] = ()) -> RegressionResult:
    """Compare ``current`` runs with ``baseline`` runs for every tolerated metric and
    journey (None = all journeys pooled), plus each guard. Invalid baseline runs are
    left out; an invalid current run makes the result INVALID. ``config`` defaults to
    GATE_CONFIG; a journey's FAIL among two or more journeys is re-judged at its share of
    ``config``'s error (engine.analysis.regression_family.family_config)."""
    config = config or GATE_CONFIG
    if any(not r.validity.valid for r in current):
        return RegressionResult(Status.INVALID, (), (), cause=InvalidCause.RUN_INVALID,
                                note="a current run is invalid: its numbers cannot be trusted")
    base = [r for r in baseline if r.validity.valid]
    tol = merge_tolerances(tolerances)
    earlier = noise_groups(noise_runs)
    def check(metric: str, journey: str | None, limit: float, cfg: StatsConfig) -> RegressionCheck:
        return _sane(_check(current, base, metric, journey, limit, cfg, min_effect_s, earlier),
                     "absolute" if metric in ABSOLUTE else "relative")

    checks = [check(metric, journey, limit, config)
              for journey in journeys for metric, limit in tol.items()]
    family = family_config(config, journeys)
    checks = [c if family is None or c.journey is None or c.status is not Status.FAIL
              else at_family_level(check(c.metric, c.journey, c.tolerance, family), config, journeys)
              for c in checks]
    named = set(tolerances or {})
    checks = between_journeys(checks, named)
    checks += [guard_check(current, g, config) for g in guards]  # finiteness checked inside
    checks = [c if holds_gate(c, named, config)
              else replace(not_judged(c, config), judged=False) for c in checks]
    status = worst((c.status for c in checks if c.judged), Status.PASS)
    messages = tuple(c.message for c in checks if c.status is Status.FAIL)
    note = "" if base else "no valid baseline runs"
    return RegressionResult(status, tuple(checks), messages, note)


def _sane(check: RegressionCheck, space: str) -> RegressionCheck:
    """A check whose interval is not finite or absurdly wide (engine.analysis.intervals)
    is INCONCLUSIVE with that reason, never PASS. A FAIL stands (its whole interval is on
    the bad side, however wide), unless a bound is NaN."""
    lo, hi = check.ci_low, check.ci_high
    if lo is None or hi is None:
        return check
    problem = interval_problem(lo, hi, space, sure_bad=check.status is Status.FAIL)
    if not problem:
        return check
    return replace(check, status=Status.INCONCLUSIVE, requests_needed=None,
                   message=f"{label(check.metric, check.journey)}: {problem}")


def _check(current: Sequence[RunResult], base: Sequence[RunResult], metric: str,
           journey: str | None, tolerance: float, config: StatsConfig | None,
           min_effect_s: float = 0.0,
           earlier: Sequence[Sequence[RunResult]] = ()) -> RegressionCheck:
    name = label(metric, journey)
    if not base:
        return undecided(metric, journey, tolerance, f"{name}: no baseline to compare with")
    effect = compare(base, current, metric, journey, config, earlier)
    space = "absolute" if metric in ABSOLUTE else "relative"
    point, lo, hi = _triple(effect, space)
    if effect.insufficient or point is None or lo is None or hi is None:
        why = effect.reason or "no interval (baseline value is 0)"
        return undecided(metric, journey, tolerance, f"{name}: {why}", effect)
    unbounded = interval_problem(lo, hi, space, sure_bad=True)  # non-finite; _sane: width
    if unbounded:
        return undecided(metric, journey, tolerance, f"{name}: {unbounded}", effect)
    sign = bad_sign(metric)
    bad_point = sign * point
    bad_near, bad_far = sorted((sign * lo, sign * hi))
    significant = _beyond(bad_near, lo, hi, space)
    if bad_point > tolerance and _immaterial(effect, min_effect_s, surely=not significant):
        return _result(effect, space, tolerance, significant, Status.PASS, (
            f"{name}: {_fmt(point, space)} but only {ms_text(effect.diff)} slower, under the "
            f"minimum effect {ms_text(min_effect_s)} (loopback jitter territory)"
            + ("" if significant else
               f"; at most {ms_text(effect.diff_ci_high)} at the interval's far end")))
    if significant and bad_point > tolerance:
        return _result(effect, space, tolerance, True, Status.FAIL,
                       regression_message(name, bad_point))
    tol_text = _tol_text(metric, tolerance)
    if bad_point <= tolerance:
        return _within(name, effect, space, tolerance, significant, bad_far - bad_point,
                       wide=bad_far > tolerance and space == "relative"
                       and not _immaterial(effect, min_effect_s, surely=True))
    needed = practical(samples_to_decide(effect, 0.0, space)[0])
    return _result(effect, space, tolerance, significant, Status.INCONCLUSIVE,
                   f"{name}: {_fmt(point, space)} exceeds tolerance {tol_text} but is not "
                   f"significant (CI {_fmt(lo, space)}..{_fmt(hi, space)})", needed)


def _within(name: str, effect: Effect, space: str, tolerance: float, significant: bool,
            reach: float, wide: bool) -> RegressionCheck:
    """A point within the tolerance: PASS, unless its interval reaches past the tolerance
    (``wide``) and its ends span MAX_SPAN or more (``span_problem``): INCONCLUSIVE then, as
    such an interval says nothing about a change of the tolerance's size. A latency whose
    interval's far end is under the minimum effect is not ``wide``: its PASS is sure."""
    point, lo, hi = _triple(effect, space)
    problem = span_problem(lo, hi) if wide and lo is not None and hi is not None else ""
    if problem:
        return _result(effect, space, tolerance, significant, Status.INCONCLUSIVE,
                       f"{name}: {_fmt(point or 0.0, space)}, but its {problem}")
    return _result(effect, space, tolerance, significant, Status.PASS,
                   f"{name}: {_fmt(point or 0.0, space)} within tolerance "
                   f"{_tol_text(effect.metric, tolerance)}"
                   + _resolution_note(effect, space, reach, tolerance))


def _beyond(near: float, lo: float, hi: float, space: str) -> bool:
    """Is the interval's near end (bad-side sign applied) beyond 0 by more than the
    measurement's resolution, on an interval that measured some noise? An open model's
    throughput without errors has an interval of no width (the schedule fixed the request
    count: every resample is the point), so a run 4 ms longer read '-0.0% significant'
    (issue #14); no noise is no evidence. A relative change inside RESOLUTION is not
    evidence either: the histograms keep 3 significant digits."""
    width = hi - lo > 1e-12 * max(1.0, abs(lo), abs(hi))
    return width and near > (RESOLUTION if space == "relative" else 0.0)


def _immaterial(effect: Effect, min_effect_s: float, surely: bool = False) -> bool:
    """A latency shift smaller than the gate's minimum effect (absolute seconds) is not a
    regression however significant: sub-millisecond latencies on a shared machine move by
    their own size between runs, and no user notices 0.3 ms. ``surely``: for a shift that
    is not significant, the interval's far end must be under it too (a +35% of 1 ms whose
    interval allows +1.01 ms is no evidence of a small shift)."""
    if not is_latency(effect.metric) or effect.diff is None or abs(effect.diff) >= min_effect_s:
        return False
    return not surely or (effect.diff_ci_high is not None
                          and effect.diff_ci_high < min_effect_s)


def _resolution_note(effect: Effect, space: str, width: float, tolerance: float) -> str:
    """Say so when the interval is wider than the tolerance: a regression of about the
    tolerance's size could have gone unseen."""
    if width <= tolerance:
        return ""
    point = _triple(effect, space)[0] or 0.0
    sign = bad_sign(effect.metric)
    needed, runs = map(practical, samples_to_decide(effect, point + sign * tolerance, space))
    more = f" (~{needed} more requests would resolve it)" if needed is not None else ""
    if needed is None and runs is not None:
        more = f" (~{runs} more runs would resolve it)"
    return f"; the interval is wider than the tolerance{more}"


def _triple(effect: Effect, space: str) -> tuple[float | None, float | None, float | None]:
    if space == "absolute":
        return effect.diff, effect.diff_ci_low, effect.diff_ci_high
    return effect.change, effect.ci_low, effect.ci_high


def _fmt(x: float, space: str) -> str:
    return f"{x * 100:+.1f} points" if space == "absolute" else f"{x * 100:+.1f}%"


def _tol_text(metric: str, tolerance: float) -> str:
    sign = "-" if higher_is_better(metric) else "+"
    unit = " points" if metric in ABSOLUTE else "%"
    return f"{sign}{tolerance * 100:g}{unit}"


def _result(effect: Effect, space: str, tolerance: float, significant: bool, status: Status,
            message: str, needed: int | None = None) -> RegressionCheck:
    point, lo, hi = _triple(effect, space)
    if status is not Status.FAIL:  # the FAIL message is the flow's verbatim text
        message += mde_text(effect)
    sign = bad_sign(effect.metric)
    improved = lo is not None and hi is not None and _beyond(min(-sign * lo, -sign * hi),
                                                             lo, hi, space)
    return RegressionCheck(effect.metric, effect.journey, effect.a_value, effect.b_value,
                           point, lo, hi, tolerance, significant, status, message, needed,
                           effect, improved)
