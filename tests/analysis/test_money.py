"""ROI in money (#19): a measured capacity model, monthly savings and payback, each
figure with its inputs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.analysis.hypothesis import HypothesisVerdict, Verdict
from engine.analysis.money import (
    HOURS_PER_MONTH,
    cpu_per_request,
    fleet,
    money,
    peak_rate,
    thread_capacity,
)
from engine.records import RunEntry, RunRole
from engine.result import ResourceSample, RunResult
from engine.spec.cost import CostSettings
from engine.spec.loader import load_text
from engine.spec.model import Spec
from tests.support.runs import make_run
from tests.support.specs import VALID

COST = CostSettings(per_hour=0.5, currency="EUR", cores=2, peak_rate=1000.0,
                    engineer_hour=100.0, value_per_ms=20.0)


def _sample(t: float, cpu: float) -> ResourceSample:
    return ResourceSample(t, cpu, 1 << 20, 1, 1, 1, 0, 0, 0, 0.0, 10.0, 0, 0)


def _run(cpu_pct: float, ok: int = 1000, duration_s: float = 10.0) -> RunResult:
    """``ok`` successful requests over ``duration_s`` with the target at ``cpu_pct``."""
    run = make_run(np.full(ok, 5_000_000), duration_s=duration_s)
    return replace(run, resources=tuple(_sample(t, cpu_pct) for t in range(10)))


def _verdict(before: float, after: float, metric: str = "p95") -> HypothesisVerdict:
    return HypothesisVerdict("H1", "t", "database", "", "<= -50%", metric, None, 4.0, "low",
                             Verdict.CONFIRMED, before, after, after / before - 1, -0.6, -0.4,
                             50.0, 2.0, 2, None, None, "m")


def test_cpu_per_request_is_mean_cpu_times_length_over_successes() -> None:
    # 50% of a core for 10 s = 5 CPU-s over 1000 requests = 5 ms each
    assert cpu_per_request([_run(50.0)]) == 0.005
    assert cpu_per_request([replace(_run(50.0), resources=())]) is None


def test_the_fleet_keeps_every_instance_under_70_percent_cpu() -> None:
    f = fleet(COST, 1000.0, [_run(50.0)])
    assert f is not None
    # 1000/s x 5 ms = 5 cores busy; 70% of 2 cores = 1.4 per instance -> ceil(3.57) = 4
    assert f.instances == 4
    assert f.monthly_cost == 4 * 0.5 * HOURS_PER_MONTH
    assert f.inputs.startswith("peak 1,000/s x 5 ms CPU per request / (70% of 2 cores) = "
                               "4 instance(s)")
    assert "1,460.00 EUR/month" in f.inputs


def _single_threaded(hot_pct: float) -> RunResult:
    """1000 ok over 10 s with the tree and its busiest thread at ``hot_pct`` of a core."""
    run = _run(hot_pct)
    return replace(run, resources=tuple(replace(r, hot_thread_pct=hot_pct)
                                        for r in run.resources))


def test_a_saturated_thread_bounds_the_fleet_beside_the_cores() -> None:
    # 100 ok/s with the thread at 95%: 100 x 70 / 95 = 73.7/s per instance at 70% of it
    assert thread_capacity([_single_threaded(95.0)]) == pytest.approx(100 * 70 / 95)
    assert thread_capacity([_single_threaded(80.0)]) is None  # not saturated: no bound
    assert thread_capacity([_run(50.0)]) is None  # not read (an older record)
    f = fleet(COST, 1000.0, [_single_threaded(95.0)])
    assert f is not None
    # the cores say ceil(1000/s x 9.5 ms / 1.4) = 7; the thread says ceil(1000 / 73.7) = 14
    assert f.instances == 14
    assert ("(70% of 2 cores), and a saturated thread: peak / 74/s per instance with its "
            "busiest thread at 70% of a core = 14 instance(s)") in f.inputs


def test_cpu_per_request_counts_the_answers_to_the_load_not_the_backlog() -> None:
    run = _run(50.0)  # 1000 ok; the workers could answer only 400 by the load's stop
    short = replace(run, extra={**run.extra, "answerable": 400})
    assert cpu_per_request([short]) == pytest.approx(5.0 / 400)


def _spec(cost: CostSettings | None) -> Spec:
    specs, errors = load_text(VALID)
    assert not errors
    return replace(specs[0], cost=cost)


def _entries(before_cpu: float, after_cpu: float) -> tuple[RunEntry, ...]:
    def side(name: str, cpu: float) -> RunEntry:
        role = RunRole("hypothesis", "baseline", name, 0, hypothesis="H1")  # type: ignore[arg-type]
        return RunEntry(f"H1-{name}", role, _run(cpu))
    return side("baseline", before_cpu), side("candidate", after_cpu)


HYPOTHESIS = """\
hypotheses:
  - id: H1
    title: Index users.email
    type: database
    expect: {slo: lookup-p95, change: "<= -50%"}
    effort: 11.3h
    baseline: {target: {url: "http://127.0.0.1:18998"}}
    candidate: {target: {url: "http://127.0.0.1:18997"}}
"""


def test_a_measured_optimization_saves_instances_and_value_and_pays_back() -> None:
    specs, errors = load_text(VALID + HYPOTHESIS)
    assert not errors, errors
    spec = replace(specs[0], cost=COST)
    f, (saving,) = money(spec, _entries(50.0, 20.0), _run(50.0), [_verdict(0.030, 0.010)])
    assert f is not None and f.instances == 4
    assert (saving.before.instances, saving.after.instances) == (4, 2)  # 2 ms: ceil(1.43)
    assert saving.infra_monthly == 2 * 0.5 * HOURS_PER_MONTH
    assert saving.value_monthly == pytest.approx(20.0 * 20.0)  # 20 ms saved x 20 EUR per ms
    assert saving.monthly == pytest.approx(730.0 + 400.0)
    assert saving.payback_months == pytest.approx(11.3 * 100.0 / 1130.0)
    assert "before: peak 1,000/s" in saving.inputs and "20 ms of p95 saved" in saving.inputs
    assert "effort 11.3 h x 100 EUR/h" in saving.inputs


def test_no_cost_block_no_money_and_no_samples_no_saving() -> None:
    assert money(_spec(None), _entries(50.0, 20.0), _run(50.0), [_verdict(0.03, 0.01)]) == (
        None, ())
    flat = tuple(replace(e, run=replace(e.run, resources=())) for e in _entries(50.0, 20.0))
    f, found = money(_spec(COST), flat, _run(50.0), [_verdict(0.03, 0.01)])
    assert f is not None and found == ()


def test_peak_rate_comes_from_cost_then_expected_peak_then_the_run() -> None:
    spec = _spec(COST)
    assert peak_rate(spec, None) == 1000.0
    no_peak = _spec(replace(COST, peak_rate=None))
    run = _run(50.0)
    assert peak_rate(no_peak, run) == run.validity.target_rate
    stress = replace(no_peak.profiles[0], expected_peak=900.0)
    assert peak_rate(replace(no_peak, profiles=(stress,)), run) == 900.0


def test_the_cost_block_loads_from_a_spec() -> None:
    text = VALID + ("cost: {per_hour: 0.2, currency: EUR, cores: 4, peak_rate: 2000/s, "
                    "engineer_hour: 90, value_per_ms: 12}\n")
    specs, errors = load_text(text)
    assert not errors, errors
    assert specs[0].cost == CostSettings(0.2, "EUR", 4, 2000.0, 90.0, 12.0, None)
    _, errors = load_text(VALID + "cost: {cores: 0}\n")
    assert errors and "cores" in str(errors[0])
