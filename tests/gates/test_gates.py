"""The gate stage fails closed: typos, missing data and nonsense statistics never pass."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.analysis import compare as stats
from engine.analysis import hypothesis, regression
from engine.analysis.compare import Effect
from engine.analysis.evidence import analysis_failure
from engine.analysis.intervals import interval_problem, practical
from engine.analysis.metrics import tail_samples_needed
from engine.analysis.regression import check_regressions
from engine.analysis.slo import MIN_TAIL_SAMPLES, check_slo
from engine.analysis.soak import SoakAnalysis, SoakWindow, TrendFit
from engine.analysis.spike import SpikeAnalysis
from engine.gates.evaluate import (
    Evidence,
    evaluate_gates,
    exit_code,
    load_gate,
    overall,
    spec_verdict,
    unknown_gate_error,
)
from engine.plan import SpecPlan
from engine.records import Analysed, Driven, GateResult
from engine.result import SEVERITY, ExitCode, RunResult, Status, worst
from engine.spec.lint import named_percentile, percentile_samples_needed, spec_warnings
from engine.spec.loader import load_paths, load_text
from engine.spec.model import Expectation, Gate, Hypothesis, Spec, Target, Variant
from engine.units import parse_change
from tests.support.runs import drifted_runs, make_run
from tests.support.specs import REPO, VALID, run_cli, write_spec


def _spec(text: str = VALID) -> Spec:
    specs, errors = load_text(text)
    assert not errors, errors
    return specs[0]


def test_known_gate_names_and_kinds_are_accepted() -> None:
    spec = _spec()
    assert unknown_gate_error([spec], ["slo", "validity", "error_budget"]) == ""


def test_unknown_gate_names_the_known_gates_and_kinds() -> None:
    message = unknown_gate_error([_spec()], ["slo", "slos"])
    assert message.startswith("unknown gate 'slos': known gates are ")
    assert "(kinds: " in message and "slo" in message and "validity" in message


def test_apply_with_an_unknown_gate_is_a_usage_error_before_any_load(tmp_path: Path) -> None:
    """--dry-run included: the check runs right after the specs load, before any plan."""
    spec = write_spec(tmp_path, VALID)
    for extra in (["--dry-run"], []):
        # The target URL is closed: reaching the driver would fail differently (exit 3).
        proc = run_cli("apply", str(spec), "--gate", "slos", "--no-history", *extra,
                       cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "unknown gate 'slos': known gates are" in proc.stderr
        assert "(kinds: " in proc.stderr
        assert not (tmp_path / "reports").exists()


def test_apply_dry_run_with_a_known_gate_kind_succeeds(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, VALID)
    proc = run_cli("apply", str(spec), "--gate", "slo", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# --- load gate: soak leak / degradation, spike recovery -------------------------------

def _outcome(spec: Spec | None = None) -> Driven:
    spec = spec or _spec()
    return Driven(spec, SpecPlan(spec, (), ()), 0.0)


def _fit(verdict: str) -> TrendFit:
    return TrendFit("rss_bytes", verdict, 100, 1e5, 5e4, 2e5, 50e6, 60.0, 6e6, 4e6)


def _soak(verdict: str = "NO_LEAK", p95_change: float | None = 0.02,
          tput_change: float | None = 0.0, p95_s: float = 0.02) -> SoakAnalysis:
    windows = tuple(SoakWindow(t, 10.0, p95_s, 50.0, 0.0, 50 << 20, 10.0, 4.0)
                    for t in (0.0, 10.0, 20.0, 30.0, 40.0, 50.0))
    return SoakAnalysis(60.0, windows, (_fit(verdict),), p95_change, tput_change, 0, 12.0)


def _spike(recovered: bool) -> SpikeAnalysis:
    return SpikeAnalysis(30.0, 300.0, 0.01, 0.0, 0.01, 0.2, 0.1, 2.0 if recovered else None,
                         recovered, 0.2, 8)


def _load(driven: Driven) -> GateResult:
    return load_gate(Evidence(driven, Analysed()), Gate("load", "load"))


def test_load_gate_is_a_default_gate() -> None:
    assert "load" in [g.kind for g in _spec().gates]


def test_load_gate_without_any_analysis_is_inconclusive_not_pass() -> None:
    result = _load(_outcome())
    assert result.status == Status.INCONCLUSIVE
    assert "no load-test analysis ran" in result.message


def test_load_gate_fails_on_a_leaking_soak() -> None:
    result = _load(replace(_outcome(), soak=_soak("LEAK")))
    assert result.status == Status.FAIL
    assert "rss_bytes leak" in result.message


def test_load_gate_fails_on_soak_degradation_but_not_on_sub_millisecond_noise() -> None:
    outcome = _outcome()
    assert _load(replace(outcome, soak=_soak(p95_change=0.8, p95_s=0.02))).status \
        == Status.FAIL  # 20 ms -> 36 ms
    assert _load(replace(outcome, soak=_soak(p95_change=0.8, p95_s=0.001))).status \
        == Status.PASS  # 1 ms -> 1.8 ms: jitter
    assert "throughput degraded" in _load(replace(outcome, soak=_soak(tput_change=-0.3))).message


def test_load_gate_soak_without_a_leak_verdict_is_inconclusive() -> None:
    assert _load(replace(_outcome(), soak=_soak("INCONCLUSIVE"))).status == Status.INCONCLUSIVE


def test_load_gate_fails_on_an_unrecovered_spike_and_passes_a_recovered_one() -> None:
    assert _load(replace(_outcome(), spike=_spike(recovered=True))).status == Status.PASS
    result = _load(replace(_outcome(), spike=_spike(recovered=False)))
    assert result.status == Status.FAIL and "did not recover" in result.message


def test_load_gate_inconclusive_does_not_block_the_exit_code() -> None:
    gates = [g for g in evaluate_gates(Evidence(_outcome(), Analysed())) if g.kind == "load"]
    assert gates[0].status == Status.INCONCLUSIVE and gates[0].decides_exit
    assert exit_code([spec_verdict(False, gates)]) == 0


# --- strictness: the slo gate fails closed by default ---------------------------------

P99_SHORT = VALID.replace("percentile: 95", "percentile: 99").replace(
    "{rate: 50/s, duration: 5s}", "{rate: 20/s, duration: 10s}").replace(
    "lookup-p95", "lookup-p99")


def _judged(text: str) -> Evidence:
    """Evidence whose SLOs were judged on a 200-request run (too few for a p99)."""
    spec = _spec(text)
    run = make_run(np.full(200, 5_000_000), duration_s=10.0)
    checks = tuple(check_slo(slo, run) for slo in spec.slos if slo.sli.kind == "latency")
    return Evidence(replace(_outcome(spec), primary=run), Analysed(slo_checks=checks))


def _gate_of(evidence: Evidence | Driven, kind: str) -> GateResult:
    if isinstance(evidence, Driven):
        evidence = Evidence(evidence, Analysed())
    return next(g for g in evaluate_gates(evidence) if g.kind == kind)


def test_slo_gate_is_strict_by_default_an_unevaluable_slo_fails() -> None:
    outcome = _judged(P99_SHORT.replace("journey: lookup, ", ""))
    result = _gate_of(outcome, "slo")
    assert result.status == Status.FAIL
    assert result.message == ("strict gate inconclusive: lookup-p99: too few requests for "
                              "p99: 200, need at least 1000")


def test_slo_gate_strict_false_keeps_inconclusive() -> None:
    text = P99_SHORT.replace("journey: lookup, ", "") + (
        "gates:\n  - {name: slo, kind: slo, strict: false}\n")
    evidence = _judged(text)
    assert evidence.driven.spec.gates[0].strict is False
    assert _gate_of(evidence, "slo").status == Status.INCONCLUSIVE


def test_other_kinds_default_non_strict_and_strict_true_fails() -> None:
    outcome = _outcome()
    assert _gate_of(outcome, "regression").status == Status.INCONCLUSIVE
    strict = _outcome(_spec(VALID + "gates:\n  - {name: reg, kind: regression, strict: true}\n"))
    result = _gate_of(strict, "regression")
    assert result.status == Status.FAIL
    assert result.message.startswith("strict gate inconclusive: no regression check")


def test_slo_gate_without_slos_or_runs_stays_inconclusive() -> None:
    """The default strictness applies once an SLO was checked, not to a spec that made
    no promise or a --profile stress run that judged nothing."""
    assert _gate_of(_outcome(), "slo").status == Status.INCONCLUSIVE


def test_gate_selection_by_name_or_kind_decides_the_exit() -> None:
    evidence = Evidence(_outcome(_spec(
        VALID + "gates:\n  - {name: reg, kind: regression, strict: true}\n"
                "  - {name: valid, kind: validity}\n")), Analysed())
    by_name = evaluate_gates(evidence, ["valid"])
    assert [g.decides_exit for g in by_name] == [False, True]
    by_kind = evaluate_gates(evidence, ["regression"])
    assert [g.decides_exit for g in by_kind] == [True, False]
    assert spec_verdict(False, by_name) == Status.INCONCLUSIVE
    assert spec_verdict(False, by_kind) == Status.FAIL


# --- plan-time warnings: too few requests for a percentile ----------------------------

def test_validate_warns_with_the_arithmetic_and_keeps_exit_0(tmp_path: Path) -> None:
    path = write_spec(tmp_path, P99_SHORT, "x.yaml")
    for args in (["validate", str(path)], ["apply", str(path), "--dry-run"]):
        proc = run_cli(*args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert (f"{path}:11: warning: slo 'lookup-p99': baseline sends about 20/s x 10s x "
                "80% (lookup) = 160 requests, a p99 needs at least 1000") in proc.stderr


def test_no_warning_when_the_profile_sends_enough() -> None:
    assert spec_warnings(_spec()) == []
    assert load_paths([str(REPO / "specs")]).warnings == []


def test_spike_profile_requests_are_summed() -> None:
    text = P99_SHORT.replace("baseline: {rate: 20/s, duration: 10s}",
                             "spike: {base: 10/s, peak: 100/s, before: 2s, spike: 3s, after: 5s}")
    (warning,) = spec_warnings(_spec(text))
    assert "spike sends about 10/s x 2s + 100/s x 3s + 10/s x 5s x 80% (lookup) = 296" in warning


def test_the_plan_time_need_matches_the_run_time_rule() -> None:
    for metric, pct in (("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9)):
        assert percentile_samples_needed(pct) == tail_samples_needed(metric, MIN_TAIL_SAMPLES)


def test_console_shows_why_an_slo_has_no_margin() -> None:
    from engine.report.console import _slo_reasons
    spec = {"slo_checks": [{"slo": "lookup-p99", "status": "INCONCLUSIVE",
                            "message": "too few requests for p99: 200, need at least 1000"},
                           {"slo": "errors", "status": "PASS", "message": ""}]}
    assert _slo_reasons(spec) == [
        "  lookup-p99: INCONCLUSIVE: too few requests for p99: 200, need at least 1000"]


# --- nonsense intervals: never PASS / CONFIRMED ---------------------------------------

def _widen(lo: float, hi: float) -> Callable[..., Effect]:
    """compare() as measured, with the relative-change interval replaced."""
    def widened(*args: Any, **kwargs: Any) -> Effect:
        return replace(stats.compare(*args, **kwargs), ci_low=lo, ci_high=hi)
    return widened


def _same_runs(seed: int) -> list[RunResult]:
    return drifted_runs(np.random.default_rng(seed), 3, 3000, 0.02, 0.02)


def test_interval_problem_wording() -> None:
    assert interval_problem(-1.0, 11015956.48) == \
        "interval -100%..+1101595648% is too wide to decide"
    assert "not finite" in interval_problem(-0.1, math.inf)
    assert "not finite" in interval_problem(math.nan, 0.1, sure_bad=True)
    assert interval_problem(0.5, 100.0, sure_bad=True) == ""  # a sure FAIL stands
    assert interval_problem(-0.2, 0.3) == ""
    assert interval_problem(-50.0, 50.0, "value") == ""


@pytest.mark.parametrize(("lo", "hi"), [(-1.0, 11015956.48), (-0.05, math.inf),
                                        (math.nan, 0.05)])
def test_regression_with_a_nonsense_interval_is_inconclusive(
        monkeypatch: pytest.MonkeyPatch, lo: float, hi: float) -> None:
    monkeypatch.setattr(regression, "compare", _widen(lo, hi))
    result = check_regressions(_same_runs(3), _same_runs(4), {"p95": 0.15})
    p95 = next(c for c in result.checks if c.metric == "p95")
    assert p95.status == Status.INCONCLUSIVE, p95.message
    assert p95.message.startswith("p95: interval ")
    assert p95.requests_needed is None
    assert result.status != Status.PASS


def test_regression_sane_interval_still_passes() -> None:
    result = check_regressions(_same_runs(3), _same_runs(4), {"p95": 0.15})
    p95 = next(c for c in result.checks if c.metric == "p95")
    assert p95.status == Status.PASS
    assert "000000" not in p95.message


def test_hypothesis_with_a_too_wide_interval_is_inconclusive(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hypothesis, "compare", _widen(-1.0, 11015956.48))
    h = Hypothesis("H1", "cache", "caching",
                   Expectation("p95", None, change=parse_change("< +100000000000%")), 1.0,
                   Variant(Target("http://127.0.0.1:1")), Variant(Target("http://127.0.0.1:2")))
    verdict = hypothesis.evaluate_hypothesis(h, _same_runs(5), _same_runs(6))
    assert str(verdict.verdict) == "INCONCLUSIVE"
    assert verdict.message == "H1: interval -100%..+1101595648% is too wide to decide"


def test_absurd_sample_needs_are_dropped() -> None:
    assert practical(10**12) is None and practical(5000) == 5000 and practical(None) is None


# --- verdict order and exit codes, defined once in engine.result ----------------------

def test_severity_order_is_written_once_and_worst_follows_it() -> None:
    assert SEVERITY == (Status.ABORTED, Status.INVALID, Status.FAIL, Status.INCONCLUSIVE,
                        Status.PASS)
    assert worst([Status.PASS, Status.INCONCLUSIVE, Status.FAIL]) == Status.FAIL
    assert worst([Status.FAIL, Status.INVALID]) == Status.INVALID
    assert worst([Status.PASS, Status.NOT_RUN, Status.MANUAL]) == Status.PASS
    assert worst([Status.NOT_RUN, Status.MANUAL]) == Status.INCONCLUSIVE  # nothing judged
    assert worst([]) == Status.INCONCLUSIVE
    assert worst([], Status.PASS) == Status.PASS


def test_overall_and_spec_verdict_use_the_order() -> None:
    assert overall([Status.PASS, Status.ABORTED, Status.INVALID]) == Status.ABORTED
    assert overall([Status.PASS, Status.INCONCLUSIVE]) == Status.INCONCLUSIVE
    assert overall([]) == Status.INCONCLUSIVE
    assert spec_verdict(False, []) == Status.INCONCLUSIVE  # no deciding gate: no evidence
    gates = [GateResult("a", "slo", Status.FAIL, ""),
             GateResult("b", "validity", Status.INVALID, "", decides_exit=False)]
    assert spec_verdict(False, gates) == Status.FAIL
    assert spec_verdict(True, gates) == Status.ABORTED


@pytest.mark.parametrize(("verdicts", "code"), [
    ([Status.PASS], ExitCode.PASS), ([Status.INCONCLUSIVE, Status.PASS], ExitCode.PASS),
    ([Status.FAIL, Status.INCONCLUSIVE], ExitCode.GATE_FAILED),
    ([Status.FAIL, Status.INVALID], ExitCode.RUN_INVALID),
    ([Status.INVALID, Status.ABORTED], ExitCode.INTERRUPTED), ([], ExitCode.PASS)])
def test_exit_codes(verdicts: list[Status], code: ExitCode) -> None:
    assert exit_code(verdicts) == code
    assert (int(ExitCode.PASS), int(ExitCode.GATE_FAILED), int(ExitCode.SPEC_INVALID),
            int(ExitCode.RUN_INVALID), int(ExitCode.INTERRUPTED)) == (0, 1, 2, 3, 130)


def test_soak_degradation_is_one_judgement_for_the_gate_and_the_flow_message() -> None:
    soak = _soak(p95_change=0.8, p95_s=0.02)
    gate = _load(replace(_outcome(), soak=soak))
    assert gate.status == Status.FAIL
    # the 'Load test failed' message the checklist reads says the same, from the same place
    assert analysis_failure("soak", soak, None) == gate.message
    jitter = _soak(p95_change=0.8, p95_s=0.001)  # neither fails
    assert _load(replace(_outcome(), soak=jitter)).status == Status.PASS
    assert analysis_failure("soak", jitter, None) == ""


def test_an_slo_named_for_another_percentile_is_a_warning() -> None:
    """The quick start shipped 'stats-p95' measuring p90: every report said 'stats-p95' beside
    'stats p90'. Its name states a percentile; validate says when it is not the one measured."""
    text = VALID.replace("percentile: 95", "percentile: 90", 1)
    assert text != VALID
    warnings = spec_warnings(_spec(text))
    (named,) = [w for w in warnings if "its name says" in w]
    assert ": warning: slo 'lookup-p95': its name says p95 but it measures p90 " in named
    assert named.split(":")[1].isdigit()  # file:line of the SLO
    assert not [w for w in spec_warnings(_spec()) if "its name says" in w]


@pytest.mark.parametrize(("name", "said"), [
    ("stats-p95", 95.0), ("api_p999", 99.9), ("P50-latency", 50.0), ("p99.9-checkout", 99.9),
    ("lookup-p9999", 99.99), ("latency", None), ("top95", None), ("sp95x", None),
    ("p100", 100.0), ("api-p100-ceiling", 100.0), ("p0", None), ("p120", None),
    ("api-v2-p95x", None), ("p1000", None)])
def test_the_percentile_an_slo_name_states(name: str, said: float | None) -> None:
    assert named_percentile(name) == said
