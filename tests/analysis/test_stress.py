"""Stress analysis and the step driver on synthetic runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.analysis.capacity import analyse_capacity
from engine.analysis.ladder import RateRun, with_other_runs
from engine.analysis.resource_figures import resource_figures
from engine.analysis.stress import StressAnalysis, analyse_stress, run_stress, stress_rates
from engine.result import RunResult
from engine.spec.model import LoadProfile, RunSettings, StopWhen
from tests.support.analysis import (
    J,
    constant,
    drive,
    fixture_spec,
    make_run,
    sample,
    slo_ok,
    spec_demo,
    spread,
)

STOP = StopWhen(p95_s=0.050, error_rate=0.05)


def _step(rate: float, p95: float, *, cpu: float = 50.0, errors: dict[str, int] | None = None,
          valid: bool = True, gen_cpu: float = 20.0, db: float = 0.8) -> RunResult:
    n = 200
    lat = spread(p95 / 1.05, n, rel=0.05, seed=int(rate))
    timing = {"db": lat * db, "app": lat * 0.95}
    return make_run([J("lookup", lat, errors or {}, timing)], duration_s=n / rate, rate=rate,
                    kind="stress", resources=[sample(t * 0.1, cpu=cpu) for t in range(20)],
                    valid=valid, reasons=() if valid else ("achieved rate under target",),
                    generator_cpu=gen_cpu)


def test_latency_knee_breaking_point_and_database_limit() -> None:
    steps = [_step(10, 0.010, cpu=30), _step(20, 0.011, cpu=60), _step(30, 0.012, cpu=90),
             _step(40, 0.080, cpu=99)]
    s = analyse_stress(steps, stop_when=STOP)
    assert s.breaking_point_rate == 30 and s.max_rate_tested == 40
    assert s.failure_mode == "latency knee" and s.knee_rate == 30
    assert s.limiting_resource == "database"
    assert any("target CPU 99%" in e for e in s.evidence)
    assert [st.passed for st in s.steps] == [True, True, True, False]
    doc = s.to_doc()
    assert doc["breaking_point_rate"] == 30 and len(doc["steps"]) == 4  # type: ignore[arg-type]
    assert s.message == ("breaking point 30/s: latency knee at 40/s (p95 79.8ms > 50ms); "
                         "limited by database")


def test_a_saturated_thread_at_the_failed_step_is_said_beside_the_limit() -> None:
    """Issue #14: the quick start's checkout broke at 600/s 'limited by database' while its
    one thread was at 100% of a core (the in-process SQLite's work); the Resources row said
    so, the stress sentence did not. The failed step's busiest thread is said beside it."""
    hot = [replace(sample(t * 0.1, cpu=100.0), hot_thread_pct=100.0) for t in range(20)]
    steps = [_step(10, 0.010, cpu=30), _step(20, 0.011, cpu=60),
             replace(_step(30, 0.080, cpu=100), resources=tuple(hot))]
    s = analyse_stress(steps, stop_when=STOP)
    assert s.limiting_resource == "database"
    assert s.message.endswith("limited by database (busiest thread at 100% of a core: saturated)")
    assert [st.thread_note for st in s.steps] == ["", "", "busiest thread at 100% of a core: saturated"]
    assert s.to_doc()["steps"][2]["thread_note"] == s.steps[2].thread_note  # type: ignore[index]


def test_one_noisy_step_is_not_the_knee() -> None:
    steps = [_step(10, 0.010), _step(20, 0.030), _step(30, 0.011), _step(40, 0.012),
             _step(50, 0.200)]
    s = analyse_stress(steps, stop_when=STOP)
    assert s.knee_rate == 40 and s.breaking_point_rate == 40


def test_cpu_limit_when_handler_time_dominates() -> None:
    steps = [_step(10, 0.010, db=0.0), _step(20, 0.090, cpu=98, db=0.0)]
    s = analyse_stress(steps, stop_when=STOP)
    assert s.limiting_resource == "cpu" and s.breaking_point_rate == 10


@pytest.mark.parametrize(("errors", "mode"), [
    ({"connect": 30}, "refused connections"),
    ({"timeout": 30}, "timeouts"),
    ({"status_5xx": 30}, "server errors (5xx)"),
])
def test_failure_mode_named_by_dominant_error(errors: dict[str, int], mode: str) -> None:
    steps = [_step(10, 0.010), _step(20, 0.012, errors=errors)]
    s = analyse_stress(steps, stop_when=STOP)
    assert s.failure_mode == mode and s.breaking_point_rate == 10


def test_generator_saturated_is_invalid_not_a_server_failure() -> None:
    steps = [_step(10, 0.010), _step(20, 0.080, valid=False, gen_cpu=97)]
    s = analyse_stress(steps, stop_when=STOP)
    assert s.failure_mode == "invalid: generator could not reach the rate"


def test_a_target_answering_slower_than_offered_is_a_throughput_ceiling() -> None:
    short = _step(20, 0.012)
    note = "target did not keep up: answered 14.0/s of 20.0/s offered (30.0% short)"
    short = replace(short, validity=replace(short.validity, notes=(note,)))
    s = analyse_stress([_step(10, 0.010), short], stop_when=STOP)
    assert s.failure_mode == "throughput ceiling" and s.breaking_point_rate == 10
    assert s.steps[1].valid and note in s.steps[1].breaches


def test_no_break_and_break_at_first_step() -> None:
    ok = analyse_stress([_step(10, 0.010), _step(20, 0.011)], stop_when=STOP)
    # nothing failed a stop condition: no breaking point, however the sentence is built
    assert ok.failure_mode == "none" and ok.breaking_point_rate is None and not ok.broke
    assert ok.held_up_to_rate == 20 and ok.to_doc()["broke"] is False
    assert ok.message.startswith("no breaking point up to 20/s: every step stayed within")
    assert "p95 <= 50ms" in ok.message and "breaking point 20" not in ok.message
    bad = analyse_stress([_step(10, 0.2)], stop_when=STOP)
    assert bad.breaking_point_rate is None and "below the first step" in bad.message


def test_slo_check_breaks_the_step() -> None:
    steps = [_step(10, 0.010), _step(20, 0.030)]
    s = analyse_stress(steps, step_ok=lambda r: r.validity.target_rate == 10, stop_when=STOP)
    assert s.breaking_point_rate == 10 and s.failure_mode == "latency knee"  # 3x the p95


def _profile(**kw: float) -> LoadProfile:
    base = {"start_rate": 10.0, "step_rate": 10.0, "step_duration_s": 2.0, "max_rate": 50.0}
    base.update(kw)
    return LoadProfile("stress", "stress", RunSettings(), stop_when=STOP, **base)  # type: ignore[arg-type]


def test_run_stress_stops_at_the_first_failure() -> None:
    calls: list[tuple[float, float]] = []

    def run_step(rate: float, duration: float) -> RunResult:
        calls.append((rate, duration))
        return _step(rate, 0.010 if rate < 30 else 0.2)

    s = run_stress(_profile(), run_step, lambda r: True)
    assert calls == [(10, 2.0), (20, 2.0), (30, 2.0)]
    assert s.breaking_point_rate == 20


def test_run_stress_is_bounded_by_rates_steps_and_deadline() -> None:
    assert stress_rates(_profile()) == [10, 20, 30, 40, 50]
    assert len(stress_rates(_profile(max_rate=None), max_steps=7)) == 7  # type: ignore[arg-type]
    calls: list[float] = []

    def step(rate: float, duration: float) -> RunResult:
        calls.append(rate)
        return _step(rate, 0.01)

    run_stress(_profile(), step, lambda r: True, deadline_s=0.0)
    assert calls == []
    run_stress(_profile(), step, lambda r: True, max_steps=2)
    assert calls == [10, 20]
    with pytest.raises(ValueError, match="stress needs"):
        stress_rates(LoadProfile("s", "stress", RunSettings()))


# --- end to end against the demo service ----------------------------------------

def _demo_stress(fix: tuple[str, ...] | None, extra: tuple[str, ...] = ()) -> StressAnalysis:
    spec = fixture_spec("stress")
    profile = spec.profile("stress")
    assert profile is not None
    with spec_demo(spec, fix, extra=extra) as (url, pid):
        return run_stress(profile, lambda rate, d: drive(url, pid, spec, constant(profile, rate, d)),
                          slo_ok(spec), deadline_s=60.0)


@pytest.mark.slow
def test_demo_breaking_point_moves_up_with_the_fast_variant() -> None:
    slow = _demo_stress(None)  # O(n^2) recommendations
    assert slow.broke and slow.failure_mode == "latency knee"
    assert slow.limiting_resource == "cpu"
    fast = _demo_stress(("all",))
    # the fast variant breaks higher, or holds every step (then it has no breaking point,
    # only the rate it held); on a busy machine the slow one may break at the first step
    fast_limit = fast.breaking_point_rate if fast.broke else fast.held_up_to_rate
    assert fast_limit is not None and not fast.partial
    assert fast_limit > (slow.breaking_point_rate or 0.0)
    assert fast.max_rate_tested > (slow.first_failure_rate or 0.0)



def test_ctrl_c_between_steps_keeps_the_completed_steps_as_partial_evidence() -> None:
    """Issue #14: the KeyboardInterrupt from the step runner lost the whole analysis."""
    done: list[float] = []

    def run_step(rate: float, duration: float) -> RunResult:
        if rate >= 30:
            raise KeyboardInterrupt  # the pipeline's runner, stop flag set between steps
        done.append(rate)
        return _step(rate, 0.010)

    s = run_stress(_profile(), run_step, lambda r: True)
    assert done == [10, 20] and [st.rate for st in s.steps] == [10, 20]
    assert s.partial and s.partial_reason == "interrupted after 2 of 5 steps"
    assert s.breaking_point_rate is None and not s.broke and s.held_up_to_rate == 20
    assert s.message.startswith("INCONCLUSIVE: interrupted after 2 of 5 steps")
    status, text = s.criterion()
    assert str(status) == "INCONCLUSIVE" and "interrupted after 2 of 5 steps" in text
    assert s.lesson() == ""


def test_interrupt_before_any_step_is_partial_and_empty() -> None:
    def run_step(rate: float, duration: float) -> RunResult:
        raise KeyboardInterrupt

    s = run_stress(_profile(), run_step, lambda r: True)
    assert s.partial and not s.steps and s.breaking_point_rate is None


def test_every_step_passing_to_the_last_rate_is_whole_evidence_without_a_breaking_point() -> None:
    s = run_stress(_profile(), lambda rate, d: _step(rate, 0.010), lambda r: True)
    assert not s.partial and not s.broke and s.breaking_point_rate is None
    assert str(s.criterion()[0]) == "INCONCLUSIVE" and s.criterion()[1].startswith("not found")
    assert "no stop condition failed up to 50/s" in s.lesson()


def test_slo_not_a_stop_condition_does_not_break_the_run() -> None:
    stop = StopWhen(p95_s=0.050, slo_broken=False)
    s = analyse_stress([_step(10, 0.010), _step(20, 0.011)], step_ok=lambda r: False,
                       stop_when=stop)
    assert not s.broke and all(st.passed for st in s.steps)
    assert "SLOs hold" not in s.conditions


def test_the_failure_sentence_names_the_breach_that_stopped_the_run() -> None:
    s = analyse_stress([_step(10, 0.010), _step(20, 0.012, errors={"timeout": 30})],
                       stop_when=STOP)
    assert s.broke and s.breaking_point_rate == 10 and s.first_failure_rate == 20
    assert "timeouts at 20/s (error rate" in s.message
    assert "held its SLOs" not in s.lesson() and "up to 10/s" in s.lesson()


def test_a_steps_cpu_in_the_report_is_its_runs_resources_figure() -> None:
    """The quick start's stress table read CPU 25/70/95/99% (mean, % of one core) beside the
    Resources rows of the same runs at 16/37/48/50% (p95, % of the machine): one run, two
    CPU figures. The tables show the Resources figure; the mean stays the analysis' input."""
    runs = [make_run([J("a", spread(0.01, 200))], rate=rate, duration_s=2.0,
                     resources=[sample(t * 0.5, cpu=cpu) for t in range(5)])
            for rate, cpu in ((100.0, 30.0), (200.0, 60.0), (400.0, 99.0))]
    stress = analyse_stress(runs, rates=[100.0, 200.0, 400.0])
    for step, run in zip(stress.steps, runs, strict=True):
        figures = resource_figures(run)
        assert figures is not None and figures.cpu_p95_pct is not None
        assert step.cpu_p95_pct == figures.cpu_p95_pct != step.cpu_pct
    capacity = analyse_capacity(runs[:2], [1.0, 2.0], 100.0, lambda r: True)
    for point, run in zip(capacity.points, runs, strict=False):
        figures = resource_figures(run)
        assert figures is not None and point.cpu_p95_pct == figures.cpu_p95_pct


def _capacity(rate: float, p95: float, multiplier: float, ok: bool = True) -> RateRun:
    return RateRun(f"capacity {multiplier:g}x", rate, _step(rate, p95), ok)


def test_a_capacity_scenario_that_held_between_the_steps_is_the_breaking_point() -> None:
    """Issue #14: the quick start's stress said 'breaking point 350/s' (steps of 250/s: 350/s
    held, 600/s broke) beside 'capacity: 4x ok' at 400/s. Judged on the same stop
    conditions, the capacity run at 400/s holds the breaking point."""
    stress = analyse_stress([_step(100, 0.010), _step(350, 0.012), _step(600, 0.080)],
                            stop_when=STOP)
    assert stress.breaking_point_rate == 350
    s = with_other_runs(stress, [_capacity(200, 0.011, 2), _capacity(400, 0.013, 4)], STOP)
    assert s.breaking_point_rate == 400 and s.held_up_to_rate == 400
    assert s.first_failure_rate == 600 and s.failure_mode == "latency knee"
    assert s.message.startswith("breaking point 400/s (capacity 4x): latency knee at 600/s (p95")
    assert s.lesson() == ("Stress: every rate tested up to 400/s (capacity 4x) stayed within the "
                          "stop conditions; latency knee at 600/s.")
    assert s.against_peak(400)[0] is True and s.against_peak(450)[0] is False
    doc = s.to_doc()
    assert [o["source"] for o in doc["others"]] == ["capacity 2x", "capacity 4x"]  # type: ignore[attr-defined]
    assert len(doc["steps"]) == 3  # type: ignore[arg-type]  # the stress table stays its own


def test_a_capacity_scenario_that_failed_below_the_steps_lowers_the_breaking_point() -> None:
    stress = analyse_stress([_step(10, 0.010), _step(20, 0.011), _step(30, 0.012),
                             _step(40, 0.080)], stop_when=STOP)
    s = with_other_runs(stress, [_capacity(15, 0.011, 1.5, ok=False)], STOP)
    assert s.breaking_point_rate == 10 and s.first_failure_rate == 15
    assert s.failure_mode == "SLO broken"
    assert s.message.startswith("breaking point 10/s: SLO broken at 15/s in capacity 1.5x (")
    held = with_other_runs(stress, [_capacity(60, 0.011, 6)], STOP)  # above the failure
    assert held.breaking_point_rate == 30 and held.max_rate_tested == 60


def test_capacity_runs_leave_a_stress_run_that_never_broke_unbroken_or_extend_it() -> None:
    stress = analyse_stress([_step(10, 0.010), _step(20, 0.011)], stop_when=STOP)
    s = with_other_runs(stress, [_capacity(40, 0.012, 4)], STOP)
    assert not s.broke and s.breaking_point_rate is None
    assert s.max_rate_tested == 40 and s.held_up_to_rate == 40
    assert s.message.startswith("no breaking point up to 40/s")


def test_an_aborted_capacity_run_is_left_out_and_a_failing_one_names_its_own_limit() -> None:
    stress = analyse_stress([_step(10, 0.010), _step(20, 0.011)], stop_when=STOP)
    stopped = _capacity(30, 0.080, 3)
    stopped = replace(stopped, run=replace(stopped.run, aborted=True, abort_reason="interrupted"))
    assert with_other_runs(stress, [stopped], STOP) is stress  # Ctrl-C is no breaking point
    hot = RateRun("capacity 4x", 40, _step(40, 0.080, cpu=99, db=0.1), True)
    s = with_other_runs(stress, [hot], STOP)
    assert s.broke and s.breaking_point_rate == 20 and s.failure_mode == "latency knee"
    assert s.limiting_resource == "cpu" and any("target CPU 99%" in e for e in s.evidence)
    assert s.message.startswith("breaking point 20/s: latency knee at 40/s in capacity 4x (p95")
