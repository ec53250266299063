"""The load gate and a stress profile's ``expected_peak``: a breaking point below the
peak production expects FAILs by default; a stress that never reached it is INCONCLUSIVE."""

from __future__ import annotations

from dataclasses import replace

from engine.analysis.spike import analyse_spike
from engine.analysis.stress import analyse_stress
from engine.pipeline import analyse, judge
from engine.plan import SpecPlan
from engine.records import Driven, GateResult
from engine.result import Status
from engine.spec.loader import load_text
from engine.spec.model import LoadProfile, RunSettings, Spec, StopWhen
from tests.support.analysis import J, interval, spread
from tests.support.analysis import make_run as make_step
from tests.support.specs import VALID

SPIKE = LoadProfile("spike", "spike", RunSettings(), base_rate=50.0, peak_rate=500.0,
                    before_s=5.0, spike_s=3.0, after_s=7.0, recovery_tolerance=0.2)
STRESS = "load:\n  stress: {start: 10/s, step: 10/s, step_duration: 5s%s}\n"


def _spec(extra: str = ", expected_peak: 25/s") -> Spec:
    text = VALID.replace("load:\n", STRESS % extra, 1)
    specs, errors = load_text(text)
    assert not errors, errors
    return specs[0]


def _load_gate(spec: Spec, rates_p95: list[tuple[float, float]],
               partial: str = "") -> GateResult:
    steps = [make_step([J("lookup", spread(p95 / 1.05, 200, rel=0.05, seed=int(rate)))],
                       duration_s=200 / rate, rate=rate, kind="stress") for rate, p95 in rates_p95]
    stress = analyse_stress(steps, stop_when=StopWhen(p95_s=0.050))
    if partial:
        stress = replace(stress, partial_reason=partial)
    driven = replace(Driven(spec, SpecPlan(spec, (), ()), 0.0), stress=stress)
    judgement = judge(driven, analyse(driven, None), ())
    return next(g for g in judgement.gates if g.kind == "load")


def test_a_breaking_point_below_the_expected_peak_fails() -> None:
    gate = _load_gate(_spec(), [(10, 0.010), (20, 0.011), (30, 0.200)])
    assert gate.status == Status.FAIL
    assert "breaking point at 20/s is below the expected peak 25/s" in gate.message


def test_a_target_that_breaks_at_the_first_step_fails_below_the_peak() -> None:
    gate = _load_gate(_spec(), [(10, 0.200)])
    assert gate.status == Status.FAIL and "below the first step" in gate.message


def test_holding_the_expected_peak_passes() -> None:
    gate = _load_gate(_spec(), [(10, 0.010), (20, 0.011), (30, 0.012), (40, 0.300)])
    assert gate.status == Status.PASS


def test_a_stress_that_never_reached_the_peak_is_inconclusive_not_pass() -> None:
    gate = _load_gate(_spec(", expected_peak: 45/s"), [(10, 0.010), (20, 0.011)])
    assert gate.status == Status.INCONCLUSIVE
    assert "expected peak 45/s not shown: no step reached it (tested up to 20/s)" in gate.message


def test_an_interrupted_stress_is_inconclusive_even_below_the_peak() -> None:
    gate = _load_gate(_spec(), [(10, 0.010)], partial="interrupted after 1 of 5 steps")
    assert gate.status == Status.INCONCLUSIVE


def test_without_an_expected_peak_a_breaking_point_alone_does_not_fail_the_gate() -> None:
    gate = _load_gate(_spec(""), [(10, 0.010), (20, 0.011), (30, 0.200)])
    assert gate.status == Status.PASS


def test_max_rate_below_the_expected_peak_is_a_spec_error() -> None:
    extra = ", max_rate: 20/s, expected_peak: 25/s"
    _, errors = load_text(VALID.replace("load:\n", STRESS % extra, 1), "s.yaml")
    assert any("expected max_rate >= expected_peak" in str(e) for e in errors), errors
    assert any(":" in str(e) and "s.yaml" in str(e) for e in errors)


def test_an_expected_peak_no_stress_run_tested_is_inconclusive_not_pass() -> None:
    """A recovered spike alone would PASS the load gate; the untested peak keeps it open."""
    spec = _spec()
    ivs = [interval(i, float(i), [spread(0.010, 100, rel=0.05, seed=i)]) for i in range(15)]
    run = make_step([J("a", spread(0.01, 10))], duration_s=15.0, intervals=ivs, kind="spike")
    spike = analyse_spike(run, SPIKE)
    assert spike.verdict == "RECOVERED"
    driven = replace(Driven(spec, SpecPlan(spec, (), ()), 0.0), spike=spike)
    gate = next(g for g in judge(driven, analyse(driven, None), ()).gates if g.kind == "load")
    assert gate.status == Status.INCONCLUSIVE
    assert "expected peak 25/s not tested (the stress profile did not run)" in gate.message
    without_peak = replace(driven, spec=_spec(""))
    gate = next(g for g in judge(without_peak, analyse(without_peak, None), ()).gates
                if g.kind == "load")
    assert gate.status == Status.PASS  # the same evidence passes when no peak is expected
