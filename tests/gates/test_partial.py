"""Partial runs (Ctrl-C, an abort) are not judged as whole: their soak, stress and spike
analyses are INCONCLUSIVE and partial, and the checklist never says PASS from them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import numpy as np

from engine.analysis.soak import analyse_soak
from engine.analysis.spike import analyse_spike
from engine.analysis.stress import analyse_stress
from engine.gates.checklist import evaluate_checklist
from engine.gates.evaluate import Evidence, load_gate
from engine.plan import SpecPlan
from engine.records import Analysed, Driven, RoleKind, RunEntry, RunRole
from engine.result import RunResult, Status
from engine.spec.loader import load_text
from engine.spec.model import Gate, LoadProfile, RunSettings, StopWhen
from tests.support.analysis import J, interval, make_run, sample, spread
from tests.support.specs import VALID

MB = 2**20
SPIKE = LoadProfile("spike", "spike", RunSettings(), base_rate=50.0, peak_rate=500.0,
                    before_s=5.0, spike_s=3.0, after_s=7.0, recovery_tolerance=0.2)


def _stopped(run: RunResult, after_s: float, reason: str = "interrupted") -> RunResult:
    return replace(run, aborted=True, abort_reason=reason, duration_s=after_s)


def _flat_soak(seconds: int) -> RunResult:
    return make_run([J("a", spread(0.01, 100))], duration_s=float(seconds), kind="soak",
                    resources=[sample(i * 0.1, rss=50 * MB) for i in range(seconds * 10)])


def _step(rate: float, p95: float) -> RunResult:
    lat = spread(p95 / 1.05, 200, rel=0.05, seed=int(rate))
    return make_run([J("lookup", lat)], duration_s=200 / rate, rate=rate, kind="stress")


def _outcome(runs: list[tuple[str, RunResult]], **kw: Any) -> Driven:
    specs, errors = load_text(VALID)
    assert not errors
    entries = tuple(RunEntry(rid, RunRole(cast(RoleKind, r.kind), r.profile), r)
                    for rid, r in runs)
    return Driven(specs[0], SpecPlan(specs[0], (), ()), 0.0, entries, **kw)


def _item(driven: Driven, start: str) -> Status:
    return next(i.status for i in evaluate_checklist(driven, Analysed())
                if i.criterion.startswith(start))


def _load(driven: Driven) -> Status:
    return load_gate(Evidence(driven, Analysed()), Gate("load", "load")).status


def test_an_interrupted_soak_is_inconclusive_and_partial() -> None:
    run = _stopped(_flat_soak(4), 4.0)  # a flat soak would be NO_LEAK, but it stopped at 4 s
    soak = analyse_soak(run, planned_s=15.0)
    assert soak.partial and soak.partial_reason == "interrupted after 4 s of 15 s"
    assert {f.verdict for f in soak.fits} == {"INCONCLUSIVE"}
    assert "interrupted after 4 s of 15 s" in soak.leak.message
    doc = soak.to_doc()
    assert doc["partial"] is True and doc["partial_reason"] == "interrupted after 4 s of 15 s"
    outcome = _outcome([("soak", run)], soak=soak)
    assert _item(outcome, "Soak test passed") == Status.INCONCLUSIVE
    assert _load(outcome) == Status.INCONCLUSIVE
    whole = _flat_soak(15)
    assert not analyse_soak(whole, planned_s=15.0).partial


def test_an_interrupted_stress_claims_no_breaking_point() -> None:
    steps = [_step(10, 0.010), _step(20, 0.011), _stopped(_step(30, 0.012), 2.0)]
    s = analyse_stress(steps, stop_when=StopWhen(p95_s=0.050))
    assert s.partial and s.breaking_point_rate is None and not s.broke
    assert s.partial_reason == "interrupted after 2 s at the 30/s step"
    assert s.message.startswith("INCONCLUSIVE: interrupted") and "up to 20/s passed" in s.message
    assert s.to_doc()["partial"] is True
    outcome = _outcome([(f"stress-{i}", r) for i, r in enumerate(steps)], stress=s)
    assert _item(outcome, "Capacity limit found") == Status.INCONCLUSIVE
    assert _item(outcome, "Stress test run") == Status.INCONCLUSIVE
    assert _load(outcome) == Status.INCONCLUSIVE
    # a real failure before the stop is whole evidence
    broke = analyse_stress([_step(10, 0.010), _step(20, 0.200)], stop_when=StopWhen(p95_s=0.05))
    assert not broke.partial and broke.breaking_point_rate == 10


def _spike_run(levels: list[float]) -> RunResult:
    ivs = [interval(i, float(i), [spread(lvl, 100, rel=0.05, seed=i)])
           for i, lvl in enumerate(levels)]
    return make_run([J("a", spread(0.01, 10))], duration_s=float(len(levels)), intervals=ivs,
                    kind="spike")


def test_an_interrupted_spike_is_inconclusive_not_a_failure() -> None:
    run = _stopped(_spike_run([0.010] * 5 + [0.200] * 2), 7.0)
    s = analyse_spike(run, SPIKE)
    assert s.partial and s.verdict == "INCONCLUSIVE"
    assert s.partial_reason == "interrupted after 7 s of 15 s"
    assert s.message.startswith("INCONCLUSIVE") and s.to_doc()["verdict"] == "INCONCLUSIVE"
    outcome = _outcome([("spike", run)], spike=s)
    assert _item(outcome, "Spike test passed") == Status.INCONCLUSIVE
    assert _load(outcome) == Status.INCONCLUSIVE
    whole = analyse_spike(_spike_run([0.010] * 5 + [0.200] * 3 + [0.010] * 7), SPIKE)
    assert whole.verdict == "RECOVERED" and not whole.partial


def test_an_undecided_leak_never_passes_the_soak_item() -> None:
    t = np.arange(600) * 0.1
    rss = 50 * MB + 0.5 * MB * np.sin(t)  # a minute of wobble cannot rule out a 24 h leak
    run = make_run([J("a", [0.01])], duration_s=60.0, kind="soak",
                   resources=[sample(float(a), rss=int(v)) for a, v in zip(t, rss, strict=True)])
    soak = analyse_soak(run)
    assert soak.leak.verdict == "INCONCLUSIVE"
    assert _item(_outcome([("soak", run)], soak=soak), "Soak test passed") == \
        Status.INCONCLUSIVE
