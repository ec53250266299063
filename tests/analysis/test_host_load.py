"""Other work on the machine during a run, said beside the regression verdict (issue #14).

A CI runner that got busier between the baseline and the current run slows every request:
the gate cannot tell that from slower code, so it says how busy the host was.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.analysis.host_load import BUSIER_CORES, host_load, other_cores
from engine.analysis.regression import RegressionResult, judge_regression
from engine.analysis.regression_settings import RegressionSettings
from engine.result import RunResult, Status
from tests.support.analysis import sample
from tests.support.runs import drifted_runs


def _sampled(run: RunResult, machine_pct: float, target_pct: float,
             generator_cpu_s: float) -> RunResult:
    """``run`` with machine-wide and target CPU samples (psutil's units: percent of all
    CPUs, percent of one core) and the generator's CPU seconds."""
    samples = tuple(sample(t, cpu=target_pct, sys_cpu=machine_pct) for t in (1.0, 2.0, 3.0))
    return dataclasses.replace(run, resources=samples,
                               extra={**run.extra, "generator_cpu_s": generator_cpu_s})


def test_other_cores_are_the_machine_less_the_target_and_the_generator() -> None:
    run = drifted_runs(np.random.default_rng(1), 1, 500)[0]  # 10 s
    # 4 CPUs at 75% = 3 cores; the target used 0.5 of a core, the generator 5 s / 10 s.
    assert other_cores(_sampled(run, 75.0, 50.0, 5.0), 4) == 2.0
    assert other_cores(_sampled(run, 10.0, 50.0, 5.0), 4) == 0.0  # never negative
    assert other_cores(run, 4) is None  # an unmanaged target has no machine samples


def _slower_on_a_busier_host() -> RegressionResult:
    """A 50% slower current run while the machine ran at 90% instead of 40%."""
    rng = np.random.default_rng(5)
    base = [_sampled(r, 40.0, 50.0, 3.0) for r in drifted_runs(rng, 3, 4000, drift=0.01)]
    slow = [_sampled(r, 90.0, 50.0, 3.0)
            for r in drifted_runs(rng, 1, 4000, median_s=0.03, drift=0.0)]
    return judge_regression(slow, base, RegressionSettings(), ())


def test_a_slowdown_on_a_busier_host_says_so_and_still_fails() -> None:
    result = _slower_on_a_busier_host()
    assert result.status is Status.FAIL  # a regression seen on a busy machine is no pass
    assert result.host is not None and result.host.busier
    assert result.host.current - result.host.baseline >= BUSIER_CORES
    assert "the host was busier" in result.host_note
    assert result.to_doc({})["host_load"]["busier"] is True


def test_an_equally_busy_host_adds_no_note() -> None:
    rng = np.random.default_rng(6)
    runs = [_sampled(r, 60.0, 50.0, 3.0) for r in drifted_runs(rng, 4, 4000, drift=0.01)]
    result = judge_regression(runs[:1], runs[1:], RegressionSettings(), ())
    assert result.host is not None and not result.host.busier and result.host_note == ""
    assert host_load(runs[:1], runs[1:], cpus=2) is not None


def test_the_markdown_says_the_host_was_busier_beside_the_verdict() -> None:
    from engine.report.md_loadtests import monitoring

    result = _slower_on_a_busier_host()
    doc = result.to_doc({"mode": "last", "runs": 3, "days": 0.1, "pinned": None,
                         "hosts_excluded": 0, "noise_runs": 0})
    text = monitoring({}, {"regression": doc})
    assert "Regression check vs history: **FAIL**" in text
    assert f"Note: {result.host_note}." in text


def test_a_remote_targets_machine_is_not_this_hosts_load() -> None:
    """Samples read from a remote target's Prometheus carry that machine's cores: its CPU
    says nothing about the generator's host."""
    run = _sampled(drifted_runs(np.random.default_rng(2), 1, 500)[0], 75.0, 50.0, 5.0)
    remote = dataclasses.replace(run, resources=tuple(
        dataclasses.replace(s, cores=8) for s in run.resources))
    assert other_cores(run, 4) == 2.0 and other_cores(remote, 4) is None


def test_a_figure_no_sample_measured_is_not_shown_as_zero() -> None:
    """One reading for the checklist row and the report's resource table: a remote
    target's Prometheus without node metrics leaves memory unknown, not 0%."""
    from engine.analysis.resource_figures import resource_figures
    from engine.analysis.resources import headroom_of
    from engine.report.md_resources import resources_table

    run = _sampled(drifted_runs(np.random.default_rng(3), 1, 500)[0], 75.0, 50.0, 5.0)
    remote = dataclasses.replace(run, resources=tuple(
        dataclasses.replace(s, cores=4, unknown=("sys_mem_pct", "sys_cpu_pct"))
        for s in run.resources))
    h = headroom_of(remote.resources)
    assert h.memory_pct is None and h.cpu_pct == 12.5  # 50% of one core over 4 cores
    fig = resource_figures(remote)
    assert fig is not None and fig.memory_p95_pct is None and fig.cpu_p95_pct == h.cpu_pct
    table = resources_table([{"id": "baseline", "resource_summary": fig.to_doc()}])
    assert "not measured" in table and "| 0% " not in table


def test_a_summary_leaves_out_what_a_sample_did_not_measure() -> None:
    """A scrape gap in a remote series is an unknown point, not a 0 in the mean."""
    from engine.analysis.resources import summarize
    from tests.support.analysis import sample

    gap = dataclasses.replace(sample(2.0, cpu=0.0, sys_cpu=0.0, sys_mem=0.0),
                              unknown=("cpu_pct", "sys_cpu_pct", "sys_mem_pct"))
    s = summarize([sample(1.0, cpu=80.0, sys_cpu=60.0), gap, sample(3.0, cpu=40.0, sys_cpu=20.0)])
    assert s.cpu_pct_mean == 60.0 and s.sys_cpu_pct_mean == 40.0 and s.samples == 3
    none = summarize([dataclasses.replace(sample(1.0), unknown=("sys_mem_pct",))])
    assert none.sys_mem_pct_max is None
