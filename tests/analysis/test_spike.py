"""Spike analysis on synthetic timelines."""

from __future__ import annotations

import pytest

from engine.analysis.spike import analyse_spike, phases_of
from engine.result import RunResult
from engine.spec.model import LoadProfile, RunSettings
from tests.support.analysis import J, drive, fixture_spec, interval, make_run, spec_demo, spread

PROFILE = LoadProfile("spike", "spike", RunSettings(), base_rate=50.0, peak_rate=500.0,
                      before_s=5.0, spike_s=3.0, after_s=7.0, recovery_tolerance=0.2)


def _run(levels: list[float], errors: list[int] | None = None) -> RunResult:
    errors = errors or [0] * len(levels)
    ivs = [interval(i, float(i), [spread(lvl, 100, rel=0.05, seed=i)],
                    [{"timeout": e} if e else {}])
           for i, (lvl, e) in enumerate(zip(levels, errors, strict=True))]
    return make_run([J("a", spread(0.01, 10))], duration_s=float(len(levels)), intervals=ivs,
                    kind="spike")


def test_recovery_time_after_the_spike() -> None:
    levels = [0.010] * 5 + [0.200] * 3 + [0.100, 0.050] + [0.010] * 5
    errs = [0] * 5 + [10, 20, 10] + [0] * 7
    s = analyse_spike(_run(levels, errs), PROFILE)
    assert s.p95_before_s == pytest.approx(0.0105, rel=0.05)
    assert s.error_rate_during == pytest.approx(40 / 300)
    assert s.p99_during_s is not None and s.p99_during_s > 0.19
    assert s.recovered and s.recovery_time_s == pytest.approx(2.0)
    doc = s.to_doc()
    assert doc["recovered"] is True and doc["recovery_time_s"] == pytest.approx(2.0)
    assert "recovered in 2.0 s" in s.message


def test_errors_after_the_spike_delay_recovery() -> None:
    levels = [0.010] * 5 + [0.200] * 3 + [0.010] * 7
    errs = [0] * 5 + [10, 10, 10] + [30, 0, 0, 0, 0, 0, 0]
    s = analyse_spike(_run(levels, errs), PROFILE)
    assert s.recovery_time_s == pytest.approx(1.0)


def test_immediate_recovery_is_zero_and_never_is_none() -> None:
    quick = analyse_spike(_run([0.010] * 5 + [0.020] * 3 + [0.010] * 7), PROFILE)
    assert quick.recovery_time_s == 0.0
    stuck = analyse_spike(_run([0.010] * 5 + [0.200] * 10), PROFILE)
    assert not stuck.recovered and stuck.recovery_time_s is None
    assert "did not recover" in stuck.message


def test_a_single_bad_interval_inside_the_window_restarts_the_count() -> None:
    levels = [0.010] * 5 + [0.200] * 3 + [0.010, 0.200] + [0.010] * 5
    s = analyse_spike(_run(levels), PROFILE)
    assert s.recovery_time_s == pytest.approx(2.0)


def test_phases_need_base_peak_and_spike() -> None:
    ph = phases_of(PROFILE)
    assert (ph.spike_start_s, ph.spike_end_s, ph.end_s) == (5.0, 8.0, 15.0)
    with pytest.raises(ValueError, match="needs base, peak and spike"):
        phases_of(LoadProfile("x", "spike", RunSettings()))


# --- end to end against the demo service ----------------------------------------

@pytest.mark.slow
def test_demo_recovery_time_is_measured_after_a_spike() -> None:
    spec = fixture_spec("spike")
    profile = spec.profile("spike")
    assert profile is not None
    with spec_demo(spec) as (url, pid):
        run = drive(url, pid, spec, profile)
    s = analyse_spike(run, profile)
    assert s.p95_before_s is not None and s.p99_during_s is not None
    assert s.p99_during_s > 2 * s.p95_before_s  # the spike overloads the O(n^2) route
    assert s.recovered and s.recovery_time_s is not None
    # how long depends on how busy the machine is: only that it was measured in the run
    assert 0.0 <= s.recovery_time_s < (profile.after_s or 0.0)
