"""Checklist rows that mean what they say (#19): all four SLIs, three bottlenecks, the
flow's resource targets checked on the samples, and the error budget as a count."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from engine.analysis.bottlenecks import Bottleneck
from engine.analysis.resource_figures import resource_figures
from engine.analysis.resources import headroom
from engine.analysis.slo import error_budget
from engine.gates.checklist import evaluate_checklist
from engine.plan import SpecPlan
from engine.records import Analysed, CheckItem, Driven, RunEntry, RunRole
from engine.report.md_resources import resources_table
from engine.result import ResourceSample, RunResult, Status
from engine.spec.loader import load_text
from engine.spec.model import Spec
from tests.support.runs import make_run, run_doc
from tests.support.specs import VALID


def _spec(text: str = VALID) -> Spec:
    specs, errors = load_text(text)
    assert not errors, errors
    return specs[0]


def _sample(t: float, cpu: float, mem: float) -> ResourceSample:
    return ResourceSample(t, cpu, 50 << 20, 4, 10, 5, 0, 0, 0, 10.0, mem, 0, 0)


def _run(samples: tuple[ResourceSample, ...] = ()) -> RunResult:
    run = make_run({"lookup": np.full(1000, 10_000_000)}, duration_s=10.0)
    return replace(run, resources=samples)


def _row(spec: Spec, criterion: str, run: RunResult | None = None,
         analysed: Analysed | None = None) -> CheckItem:
    run = run if run is not None else _run()
    entry = RunEntry("baseline", RunRole("baseline", "baseline"), run)
    driven = Driven(spec, SpecPlan(spec, (), ()), 0.0, runs=(entry,), primary=run)
    items = evaluate_checklist(driven, analysed or Analysed())
    return next(i for i in items if i.criterion.startswith(criterion))


def _bottleneck(rank: int) -> Bottleneck:
    return Bottleneck(rank, f"b{rank}", "database", 0.2, ("lookup",), ("e",), "database")


def test_slis_need_availability_too() -> None:
    row = _row(_spec(), "SLIs defined")
    assert row.status is Status.FAIL and row.evidence == "no SLI on availability"
    text = VALID.replace("slos:\n", "slos:\n  - {name: up, sli: availability, "
                                    "objective: \">= 99.9%\"}\n")
    row = _row(_spec(text), "SLIs defined")
    assert row.status is Status.PASS
    assert row.evidence == "SLIs on latency, throughput, error_rate, availability"


def test_top_bottlenecks_need_three() -> None:
    spec = _spec()
    one = _row(spec, "Top 3-5", analysed=Analysed(bottlenecks=(_bottleneck(1),)))
    assert one.status is Status.INCONCLUSIVE and one.evidence.startswith("1 of the 3-5")
    three = Analysed(bottlenecks=tuple(_bottleneck(i) for i in (1, 2, 3)))
    assert _row(spec, "Top 3-5", analysed=three).status is Status.PASS


def test_resource_targets_are_checked_against_the_samples() -> None:
    spec = _spec()
    assert _row(spec, "Resource targets").status is Status.NOT_RUN
    calm = tuple(_sample(t, 20.0, 30.0) for t in range(20))
    row = _row(spec, "Resource targets", _run(calm))
    # the run's load is [0, 10 s]: the samples counted are those of the window judged
    assert row.status is Status.PASS and "11 samples over the load" in row.evidence
    cores = os.cpu_count() or 1  # the check divides by this machine's cores
    hot = tuple(_sample(t, 95.0 * cores, 30.0) for t in range(20))
    assert _row(spec, "Resource targets", _run(hot)).status is Status.FAIL
    full = tuple(_sample(t, 10.0, 85.0) for t in range(20))
    row = _row(spec, "Resource targets", _run(full))
    assert row.status is Status.FAIL and "memory p95 85%" in row.evidence


def test_a_saturated_thread_fails_the_resource_row_whatever_the_machine_share() -> None:
    """Issue #14: a single-threaded server at 100% of its core read 'CPU p95 50% (under 70%)'
    on a 2-core machine: the row passed while the target had no room. Its busiest thread
    (``hot_thread_pct``) now fails the row and the resource table says so."""
    spec = _spec()
    cores = os.cpu_count() or 1
    one_core = tuple(replace(_sample(t, 100.0, 30.0), hot_thread_pct=99.0) for t in range(20))
    row = _row(spec, "Resource targets", _run(one_core))
    assert row.status is Status.FAIL
    assert "busiest thread at 99% of a core: saturated" in row.evidence
    assert f"target CPU p95 {100 / cores:.0f}% of the machine" in row.evidence
    figures = resource_figures(_run(one_core))
    assert figures is not None
    doc = figures.to_doc()
    assert doc["thread_saturated"] and doc["hot_thread_p95_pct"] == 99.0
    table = resources_table([{"id": "baseline", "resource_summary": doc}])
    row_md = next(line for line in table.splitlines() if line.startswith("| `baseline`"))
    assert (f"| {100 / cores:.0f}% of the machine, but its busiest thread at 99% of a core: "
            "saturated |") in row_md
    assert "under 70%" not in row_md  # no room said beside a thread without any
    assert doc["thread_note"] in row.evidence  # the table shows the row's own words
    # the JSON's samples carry the readings the summary's p95 is taken over
    samples = run_doc(_run(one_core), "baseline")["resources"]
    assert [s["hot_thread_pct"] for s in samples] == [99.0] * 20
    unread = replace(_sample(0, 10.0, 30.0), unknown=("hot_thread_pct",))
    (held,) = run_doc(_run((unread,)), "baseline")["resources"]
    assert held["hot_thread_pct"] == 0 and held["unknown"] == ["hot_thread_pct"]
    # below the bar, or not read (0: a remote target, an older record): nothing said
    for hot in (60.0, 0.0):
        calm = tuple(replace(_sample(t, 20.0, 30.0), hot_thread_pct=hot) for t in range(20))
        row = _row(spec, "Resource targets", _run(calm))
        assert row.status is Status.PASS and "thread" not in row.evidence
        quiet = resource_figures(_run(calm))
        assert quiet is not None and not quiet.thread_saturated
        assert quiet.hot_thread_p95_pct == (60.0 if hot else None)


def test_headroom_is_the_95th_percentile_not_the_peak() -> None:
    """Samples a second apart: one second in twenty at the peak (5% of the time) is what a
    p95 leaves out, two seconds are not; a sample repeated at the same instant adds no time
    (by count, its copy would make the peak 10% of the samples)."""
    calm = [_sample(t, 10.0, 50.0) for t in range(19)]
    assert headroom([*calm, _sample(19, 400.0, 99.0)], cores=2) == (5.0, 50.0)
    assert headroom([*calm, *[_sample(19, 400.0, 99.0)] * 2], cores=2) == (5.0, 50.0)
    two = [*calm[:18], _sample(18, 400.0, 99.0), _sample(19, 400.0, 99.0)]
    assert headroom(two, cores=2) == (200.0, 99.0)


def test_error_budget_as_a_count_of_allowed_failures() -> None:
    spec = _spec(VALID.replace('objective: "< 0.1%"}', 'objective: "< 0.1%", window: 1d}'))
    slo = next(s for s in spec.slos if s.name == "errors")
    budget = error_budget(slo, _run())
    assert budget is not None
    assert budget.rate == 100.0 and budget.window_s == 86400.0
    assert budget.window_requests == 8_640_000.0
    assert round(budget.allowed_failures) == 8_640
    assert budget.count_text == ("8,640,000 requests per 24 h at this rate -> "
                                 "8,640 failures allowed")
    row = _row(spec, "Error budget and burn rate", analysed=Analysed(budgets=(budget,)))
    assert "8,640 failures allowed" in row.evidence
    assert budget.to_doc()["allowed_failures"] == budget.allowed_failures
