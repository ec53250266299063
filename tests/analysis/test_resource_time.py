"""Resource figures are over time, not over samples: the sampler backs off while nothing
changes (engine.target.sampler), so its samples are dense after a change and sparse after,
and a reading weighs the seconds it stands for (engine.result.sample_seconds)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from engine.analysis.host_load import other_cores
from engine.analysis.money import cpu_per_request
from engine.analysis.resource_figures import resource_figures
from engine.analysis.resources import cpu_bins, headroom, run_headroom, summarize, summarize_run
from engine.analysis.soak import analyse_soak
from engine.result import ResourceSample, sample_seconds
from tests.support.analysis import J, interval, make_run, sample, spread
from tests.support.runs import drifted_runs

MB = 2**20


def test_a_cpu_reading_stands_for_the_window_before_it_and_a_gauge_for_the_time_after() -> None:
    times = [0.0, 1.0, 1.5, 3.5]
    assert sample_seconds(times, rate=True) == [1.0, 1.0, 0.5, 2.0]  # first: the first gap
    assert sample_seconds(times, rate=False) == [1.0, 0.5, 2.0, 2.0]  # last: the last gap
    # only the seconds of the span count: (-1, 0] (0, 1] (1, 1.5] (1.5, 3.5] against [0.5, 3]
    assert sample_seconds(times, rate=True, start_s=0.5, end_s=3.0) == [0.0, 0.5, 0.5, 1.5]
    assert sample_seconds(times, rate=False, start_s=0.5, end_s=3.0) == [0.5, 0.5, 1.5, 0.0]
    assert sample_seconds([0.0, 1.0, 1.0, 2.0], rate=False) == [1.0, 0.0, 1.0, 1.0]
    assert sample_seconds([2.0], rate=True) == [1.0]  # no time to share out: it counts 1
    assert sample_seconds([], rate=True) == []


def _spike(cpu: float = 10.0, high: float = 90.0) -> list[ResourceSample]:
    """9 s at ``cpu`` sampled once a second (backed off), then 0.3 s at ``high`` sampled
    every 0.1 s (a change resets the period): 3 of 12 samples, 3% of the time."""
    return ([sample(float(t), cpu=cpu, sys_mem=40.0) for t in range(1, 10)]
            + [sample(9.0 + k / 10, cpu=high, sys_mem=95.0) for k in (1, 2, 3)])


def test_the_cpu_mean_and_p90_are_over_time() -> None:
    s = summarize(_spike())
    assert s.cpu_pct_mean == pytest.approx((9 * 10.0 + 0.3 * 90.0) / 9.3)  # by count: 30%
    assert s.cpu_pct_p90 == 10.0  # by count, a quarter of the samples read 90%
    assert s.samples == 12


def test_headroom_p95_is_over_time() -> None:
    """A 0.3 s spike is 3% of the run's time, under the 5% a p95 leaves out."""
    assert headroom(_spike(), cores=1) == (10.0, 40.0)  # by count: (90.0, 95.0)


def _backed_off(load: tuple[float, float], start: float, stop: float) -> list[ResourceSample]:
    """What the backing-off sampler records of a target at 100% of a core during ``load``
    and idle outside it: each reading the CPU time since the one before over the time
    between; the period doubles (0.1 s up to 1 s) after a reading within 2 points of the
    one before and falls back to 0.1 s at a change."""
    out, t, period, last = [], start, 0.1, None
    while t + period <= stop + 1e-9:
        lo, t = t, round(t + period, 6)
        busy = max(0.0, min(t, load[1]) - max(lo, load[0]))
        reading = 100.0 * busy / (t - lo)
        same = last is not None and abs(reading - last) <= 2.0
        period, last = (min(period * 2, 1.0) if same else 0.1), reading
        out.append(sample(t, cpu=reading))
    return out


def test_a_short_step_sampled_with_back_off_reads_its_cpu() -> None:
    """A 3 s step at 100% of a core, the sampler started 0.6 s before it (idle, backing off)
    and stopped 1 s after: 13 samples, 4 of them of idle time and two straddling an edge.
    By count over every sample it read 52%; over the load's time, what the readings say
    of it (the straddling ones' mixed readings are all that is lost)."""
    samples = _backed_off((0.0, 3.0), -0.6, 4.0)
    assert len(samples) == 13 and samples[0].t_s < 0
    run = make_run([J("a", spread(0.01, 3000))], duration_s=3.0, resources=samples)
    assert summarize_run(run).cpu_pct_mean == pytest.approx(91.3, abs=0.1)
    assert cpu_per_request([run]) == pytest.approx(0.913 * 3.0 / 3000, rel=1e-3)


def test_samples_before_and_after_the_load_do_not_dilute_it() -> None:
    """The sampler starts before the load and stops after it: those idle readings (t_s < 0,
    t_s > duration) are not the run's, and a reading at 0 stands for the time before."""
    samples = [sample(-1.0, cpu=0.0), sample(0.0, cpu=0.0), sample(1.0, cpu=100.0),
               sample(2.0, cpu=100.0), sample(3.0, cpu=0.0)]
    run = make_run([J("a", spread(0.01, 1000))], duration_s=2.0, resources=samples)
    assert summarize_run(run).cpu_pct_mean == 100.0  # every sample: 40%
    assert cpu_per_request([run]) == pytest.approx(2.0 / 1000)


def test_cpu_per_request_counts_the_readings_by_their_windows() -> None:
    """2 s at 80% read once a second, then 1 s at 20% read every 0.1 s: 1.8 CPU-s."""
    samples = ([sample(1.0, cpu=80.0), sample(2.0, cpu=80.0)]
               + [sample(2.0 + k / 10, cpu=20.0) for k in range(1, 11)])
    run = make_run([J("a", spread(0.01, 1000))], duration_s=3.0, resources=samples)
    assert cpu_per_request([run]) == pytest.approx(1.8 / 1000)  # by count: 0.9 CPU-s


def test_other_cores_average_the_machine_over_time() -> None:
    """4 CPUs at 75% for 9 s read once a second, then at 25% for 1 s read every 0.1 s:
    70% over the load's time (2.8 cores), less the target's 0.5 and the generator's 0.5;
    the quiet machine read before the load (t_s < 0) is not the run's."""
    run = drifted_runs(np.random.default_rng(1), 1, 500)[0]  # 10 s
    samples = ([sample(-1.0, cpu=0.0, sys_cpu=5.0)]
               + [sample(float(t), cpu=50.0, sys_cpu=75.0) for t in range(1, 10)]
               + [sample(9.0 + k / 10, cpu=50.0, sys_cpu=25.0) for k in range(1, 11)])
    run = dataclasses.replace(run, resources=tuple(samples),
                              extra={**run.extra, "generator_cpu_s": 5.0})
    assert other_cores(run, 4) == pytest.approx(1.8)  # by count: 0.89


def test_a_soak_windows_gauges_are_means_over_time() -> None:
    """RSS held at 100 MiB for 9 s (one reading), then 200 MiB read ten times in the last
    second: the window's mean is 110 MiB, not 191."""
    samples = ([sample(0.0, rss=100 * MB)]
               + [sample(9.0 + k / 10, rss=200 * MB) for k in range(10)])
    ivs = [interval(i, float(i), [spread(0.01, 50, seed=i)]) for i in range(10)]
    run = make_run([J("a", spread(0.01, 100))], duration_s=10.0, intervals=ivs,
                   resources=samples)
    (window,) = analyse_soak(run, window_s=10.0).windows
    assert window.rss_bytes == pytest.approx(110 * MB, abs=1)  # by count: 191 MiB
    assert window.fds == 20.0


def _bursts(hz: int, seconds: int = 10) -> list[ResourceSample]:
    """A process busy the first 0.3 s of every second (30% of a core), read at ``hz``: each
    reading is the CPU time used in the 1/hz s before it, over that time."""
    out = []
    for k in range(seconds * hz):
        lo, hi = k / hz, (k + 1) / hz
        busy = max(0.0, min(hi, math.floor(lo) + 0.3) - lo)
        out.append(sample(hi, cpu=round(100.0 * busy * hz, 9)))
    return out


def test_cpu_quantiles_do_not_move_with_the_sampling_rate() -> None:
    """Read at 10 Hz the bursts are 30% of the readings at 100% (p95 100% over readings),
    read at 1 Hz every reading is 30%: over 1 s bins of CPU time both are 30%."""
    fast, slow = _bursts(10), _bursts(1)
    assert sorted({s.cpu_pct for s in fast}) == [0.0, 100.0]
    assert {s.cpu_pct for s in slow} == {30.0}
    for samples in (fast, slow):
        run = make_run([J("a", spread(0.01, 1000))], duration_s=10.0, resources=samples)
        assert headroom(samples, cores=1)[0] == pytest.approx(30.0)
        assert summarize_run(run).cpu_pct_p90 == pytest.approx(30.0)
        assert summarize_run(run).cpu_pct_mean == pytest.approx(30.0)
        assert [v for v, _ in cpu_bins(samples, "cpu_pct", 0.0, 10.0)] == [pytest.approx(30.0)] * 10


def test_evenly_spaced_samples_give_the_count_based_figures() -> None:
    """Samples a second apart on whole seconds: each 1 s bin is one reading, so the mean,
    p90 (``values[int(0.9 n)]``) and p95 (``values[ceil(0.95 n) - 1]``) are the unweighted
    ones; at any even spacing the mean is the unweighted mean."""
    cpu = [float((7 * k) % 23) * 4.0 for k in range(20)]
    mem = [40.0 + (5 * k) % 11 for k in range(20)]
    samples = [sample(float(t + 1), cpu=c, sys_mem=m) for t, (c, m) in enumerate(zip(cpu, mem, strict=True))]
    run = make_run([J("a", spread(0.01, 1000))], duration_s=20.0, resources=samples)
    n, ranked = len(cpu), sorted(cpu)
    for s in (summarize(samples), summarize_run(run)):
        assert s.cpu_pct_mean == pytest.approx(sum(cpu) / n, rel=1e-12)
        assert s.cpu_pct_p90 == ranked[int(0.9 * n)]
    assert headroom(samples, cores=1) == (ranked[math.ceil(0.95 * n) - 1],
                                          sorted(mem)[math.ceil(0.95 * n) - 1])
    tenth = [dataclasses.replace(s, t_s=s.t_s / 10) for s in samples]
    assert summarize(tenth).cpu_pct_mean == pytest.approx(sum(cpu) / n, rel=1e-12)


def test_a_reading_whose_window_covers_a_short_run_is_its_cpu() -> None:
    """A 0.5 s run read at -0.3 s and 0.8 s: no sample falls in [0, 0.5], but the reading at
    0.8 s is the CPU time since -0.3 s, which covers the whole run."""
    samples = [sample(-0.3, cpu=5.0), sample(0.8, cpu=60.0)]
    run = make_run([J("a", spread(0.01, 100))], duration_s=0.5, resources=samples)
    s = summarize_run(run)
    assert (s.samples, s.cpu_pct_mean, s.cpu_pct_p90) == (0, 60.0, 60.0)


def test_the_run_headroom_is_over_its_load() -> None:
    """The sampler reads the target's workers starting (4 s at 100% of a core, memory 70%)
    before the load (10 s at 40%, memory 50%): the checklist row and the resource table judge
    the load, as every other CPU figure of the run does (over every sample: 100% and 70%)."""
    start = [sample(float(t), cpu=100.0, sys_mem=70.0 if t < 0 else 50.0) for t in range(-3, 1)]
    load = [sample(float(t), cpu=40.0, sys_mem=50.0) for t in range(1, 11)]
    one_core = [dataclasses.replace(s, cores=1) for s in (*start, *load)]
    run = make_run([J("a", spread(0.01, 1000))], duration_s=10.0, resources=one_core)
    assert (run_headroom(run).cpu_pct, run_headroom(run).memory_pct) == (40.0, 50.0)
    figures = resource_figures(run)
    assert figures is not None and figures.cpu_p95_pct == 40.0


def test_a_cpu_read_only_before_the_load_is_no_0_during_it() -> None:
    """CPU read at -0.5 s, then unknown (a remote target's scrape gap): the load's CPU p95 is
    unknown, not 0% (review of fb50e78); memory read throughout still has its p95."""
    read = dataclasses.replace(sample(-0.5, cpu=30.0, sys_mem=50.0), cores=1)
    gaps = [dataclasses.replace(sample(float(t), cpu=0.0, sys_mem=50.0), cores=1,
                                unknown=("cpu_pct",)) for t in range(1, 11)]
    run = make_run([J("a", spread(0.01, 1000))], duration_s=10.0, resources=[read, *gaps])
    assert run_headroom(run).cpu_pct is None
    assert run_headroom(run).memory_pct == 50.0
