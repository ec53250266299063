"""Soak analysis on synthetic runs: leak verdicts and degradation."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.soak import SoakAnalysis, analyse_soak, fit_trend, leak_verdict, timeline
from engine.result import ResourceSample, RunResult
from tests.support.analysis import (
    J,
    drive,
    fixture_spec,
    interval,
    make_run,
    sample,
    spec_demo,
    spread,
)

MB = 2**20


def _resources(rss: np.ndarray, dt: float = 0.1, fds: int = 20) -> list[ResourceSample]:
    return [sample(i * dt, rss=int(v), fds=fds) for i, v in enumerate(rss)]


def _noise(n: int, sd: float, seed: int = 7) -> np.ndarray:
    # AR(1) noise like real RSS readings: neighbours are correlated
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for i in range(1, n):
        out[i] = 0.9 * out[i - 1] + rng.normal(0, sd)
    return out


def _long_run(slope_per_s: float, hours: float, dt: float = 10.0) -> RunResult:
    n = int(hours * 3600 / dt)
    t = np.arange(n) * dt
    rss = 200 * MB + slope_per_s * t + _noise(n, 0.3 * MB)
    return make_run([], duration_s=hours * 3600, kind="soak",
                    resources=[sample(float(a), rss=int(v)) for a, v in zip(t, rss, strict=True)])


def _run(rss: np.ndarray, p95s: list[float] | None = None, per_s: list[int] | None = None,
         generator_growth: int = 0) -> RunResult:
    n_s = int(len(rss) / 10)
    p95s = p95s or [0.010] * n_s
    per_s = per_s or [50] * n_s
    ivs = [interval(i, float(i), [spread(p, k, seed=i)]) for i, (p, k) in
           enumerate(zip(p95s, per_s, strict=True))]
    return make_run([J("a", spread(0.01, 100))], duration_s=float(n_s), intervals=ivs,
                    resources=_resources(rss), generator_rss_growth=generator_growth)


def test_growing_rss_is_a_leak() -> None:
    t = np.arange(600) * 0.1
    run = _run(50 * MB + 1 * MB * t + _noise(600, 0.3 * MB))
    assert analyse_soak(run).leak.verdict == "INCONCLUSIVE"  # a minute says nothing of a day
    soak = analyse_soak(run, horizon_s=3600.0)
    assert soak.leak.verdict == "LEAK" and soak.leak.metric == "rss_bytes"
    assert soak.leak.ci_low is not None and soak.leak.ci_high is not None
    assert soak.leak.ci_low < 1 * MB < soak.leak.ci_high
    doc = soak.to_doc()
    assert doc["leak"]["verdict"] == "LEAK"  # type: ignore[index]
    assert len(doc["windows"]) == 10  # type: ignore[arg-type]


def test_flat_noisy_rss_is_no_leak_only_when_long_enough() -> None:
    short = analyse_soak(_run(50 * MB + _noise(600, 0.3 * MB)))  # a minute cannot rule out 24 h
    assert short.leak.verdict == "INCONCLUSIVE" and short.leak.needed_span_s is not None
    assert all(f.verdict == "INCONCLUSIVE" for f in short.fits)  # even constant fds
    soak = analyse_soak(_long_run(0.0, hours=8))
    assert soak.leak.verdict == "NO_LEAK"
    assert all(f.verdict == "NO_LEAK" for f in soak.fits)


def test_warmup_that_flattens_is_not_a_leak() -> None:
    t = np.arange(600) * 0.1
    rss = 50 * MB + 20 * MB * np.minimum(t, 25.0) / 25.0 + _noise(600, 0.1 * MB)
    soak = analyse_soak(_run(rss))
    assert soak.leak.verdict != "LEAK"


def test_growth_is_material_by_its_projection_to_the_horizon() -> None:
    t = np.arange(600) * 0.1
    run = _run(200 * MB + 0.01 * MB * t)  # +0.6 MB over a minute, +36 MB/h
    assert analyse_soak(run, horizon_s=3600.0).leak.verdict == "LEAK"  # +36 MB > 10 MB
    assert analyse_soak(run, horizon_s=600.0).leak.verdict == "NO_LEAK"  # +6 MB < 10 MB
    tiny = _run(200 * MB + 1e-5 * MB * t)  # 0.036 MB an hour
    assert analyse_soak(tiny, horizon_s=3600.0).leak.verdict == "NO_LEAK"


def test_long_growing_run_is_a_leak() -> None:
    soak = analyse_soak(_long_run(1000.0, hours=4))  # 3.4 MiB/h: 82 MiB in 24 h
    assert soak.leak.verdict == "LEAK"
    assert "leak: slope +3.5" in soak.leak.message and "MiB in 24 h" in soak.leak.message


def test_short_steep_run_is_never_no_leak_and_says_how_long_would_decide() -> None:
    t = np.arange(150) * 0.1  # a 15 s soak at 10 Hz, 238 MiB/h
    for sd in (0.05, 0.3, 1.0, 3.0):
        rss = 50 * MB + 238 * MB / 3600 * t + _noise(150, sd * MB)
        soak = analyse_soak(make_run([J("a", [0.01])], duration_s=15.0, resources=_resources(rss)))
        assert soak.leak.verdict in ("LEAK", "INCONCLUSIVE"), soak.leak.message
        if soak.leak.verdict == "INCONCLUSIVE":
            assert soak.leak.needed_span_s is not None and soak.leak.needed_span_s >= 864.0
            assert "cannot tell a warm-up from a leak over 24 h" in soak.leak.message


def test_too_few_samples_is_inconclusive() -> None:
    assert leak_verdict("rss_bytes", [0.0, 1.0], [1.0, 2.0]).verdict == "INCONCLUSIVE"
    assert fit_trend([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None


def test_autocorrelation_widens_the_interval() -> None:
    t = list(np.arange(300) * 0.1)
    noise = _noise(300, 1.0)
    fit = fit_trend(t, list(noise))
    white = fit_trend(t, list(np.random.default_rng(3).normal(0, noise.std(), 300)))
    assert fit is not None and white is not None
    assert (fit[2] - fit[1]) > 2 * (white[2] - white[1])


def test_degradation_first_vs_last_windows_and_generator() -> None:
    p95s = [0.010] * 30 + [0.020] * 30
    per_s = [50] * 30 + [40] * 30
    run = _run(50 * MB + _noise(600, 0.1 * MB), p95s, per_s, generator_growth=2 * MB)
    soak = analyse_soak(run, window_s=6.0)
    assert soak.p95_change == pytest.approx(1.0, abs=0.15)
    assert soak.throughput_change == pytest.approx(-0.2, abs=0.02)
    assert soak.generator_flat and soak.to_doc()["generator_rss_growth_bytes"] == 2 * MB


def test_timeline_points() -> None:
    iv = interval(0, 0.0, [spread(0.01, 90), spread(0.02, 10)], [{"timeout": 9}, {}])
    run = make_run([J("a", [0.01])], duration_s=1.0, intervals=[iv])
    (p,) = timeline(run)
    assert p.requests == 100 and p.errors == 9 and p.error_rate == pytest.approx(0.09)
    assert p.p95_s is not None and 0.015 < p.p95_s < 0.025


# --- end to end against the demo service ----------------------------------------

def _demo_soak(without: tuple[str, ...] = ()) -> SoakAnalysis:
    spec = fixture_spec("soak")
    profile = spec.profile("soak")
    assert profile is not None
    with spec_demo(spec, without=without) as (url, pid):
        run = drive(url, pid, spec, profile)
    assert run.validity.valid, run.validity.reasons
    return analyse_soak(run, profile.window_s, horizon_s=profile.leak_horizon_s)


@pytest.mark.slow
def test_demo_planted_leak_is_detected_and_absent_without_it() -> None:
    leaking = _demo_soak()  # --leak-kb 64 at 40/s: about 2.5 MB/s
    assert leaking.leak.verdict == "LEAK" and leaking.leak.metric == "rss_bytes"
    assert leaking.leak.slope_per_s is not None and leaking.leak.slope_per_s > 1 * MB
    clean = _demo_soak(without=("--leak-kb",))
    assert clean.leak.verdict == "NO_LEAK", clean.fits
    assert clean.generator_flat


def test_the_soak_profile_states_its_leak_horizon() -> None:
    profile = fixture_spec("soak").profile("soak")
    assert profile is not None and profile.leak_horizon_s == 600.0
