"""The advisor's failure-mode rules: a spec that trips each one, and one that trips none."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.advisor.model import CODES, Advice
from engine.advisor.rules import REUSE_LIMIT, advise, key_space
from engine.analysis.bottlenecks import Bottleneck
from engine.analysis.hypothesis import HypothesisVerdict, Verdict
from engine.gates.evaluate import Evidence, evaluate_gates
from engine.history.baseline import BaselineSelection
from engine.plan import SpecPlan
from engine.records import Analysed, Driven, RunEntry, RunRole
from engine.result import RunResult, Status
from engine.spec.loader import load_text
from engine.spec.model import Spec

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {name: svc, component: svc-api}
trigger: slo-breach
target: {url: "http://127.0.0.1:18999"}
journeys:
  - {name: lookup, weight: 90, request: {method: GET, path: "/users?id={rand:1-100000}"}}
  - {name: admin, weight: 10, request: {method: GET, path: /admin}}
slos:
  - {name: lookup-p95, sli: latency, journey: lookup, percentile: 95, objective: "< 200ms"}
load:
  baseline: {rate: 50/s, duration: 20min}
hypotheses:
  - id: H1
    title: Index users.id
    type: database
    expect: {slo: lookup-p95, change: "<= -50%"}
    effort: 2h
    baseline: {target: {url: "http://127.0.0.1:18998"}}
    candidate: {target: {url: "http://127.0.0.1:18997"}}
"""


def _spec(text: str = SPEC) -> Spec:
    specs, errors = load_text(text)
    assert not errors, errors
    return specs[0]


def _run(duration_s: float = 1200.0, requests: int = 1000, model: str = "open") -> RunResult:
    from tests.support.runs import make_run

    run = make_run({"lookup": np.full(requests, 20_000_000), "admin": np.full(10, 5_000_000)},
                   duration_s=duration_s)
    return replace(run, model=model)


def _verdict(hid: str = "H1", verdict: Verdict = Verdict.CONFIRMED) -> HypothesisVerdict:
    return HypothesisVerdict(hid, "t", "database", "", "<= -50%", "p95", "lookup", 2.0, "low",
                             verdict, 0.02, 0.01, -0.5, -0.6, -0.4, 50.0, 2.0, 2, None, None,
                             "measured")


def _db(journey: str = "lookup", kind: str = "database") -> Bottleneck:
    return Bottleneck(1, f"{kind} in {journey}", kind, 0.8, (journey,), ("evidence",),
                      "database" if kind == "database" else "algorithm")


def _driven(spec: Spec, run: RunResult | None = None,
            verdicts: tuple[HypothesisVerdict, ...] = (),) -> Driven:
    run = run if run is not None else _run()
    entry = RunEntry("baseline", RunRole("baseline", "baseline"), run)
    return Driven(spec, SpecPlan(spec, (), ()), 0.0, runs=(entry,), primary=run,
                  hypotheses=verdicts or (_verdict(),))


def _history(runs: int = 3) -> BaselineSelection:
    return BaselineSelection(tuple(range(runs)), tuple(_run() for _ in range(runs)), "window",
                             1.0, runs, None, 0, 2e9)


def _healthy() -> tuple[Driven, Analysed]:
    return _driven(_spec()), Analysed(bottlenecks=(_db(),), baseline_selection=_history())


def _codes(advice: tuple[Advice, ...]) -> list[tuple[str, str]]:
    return [(a.code, a.subject) for a in advice]


def test_a_profiled_measured_production_like_spec_gets_no_advice() -> None:
    driven, analysed = _healthy()
    assert advise(driven, analysed) == ()


def test_a_hypothesis_without_any_ranked_bottleneck_is_premature() -> None:
    driven, analysed = _healthy()
    advice = advise(driven, replace(analysed, bottlenecks=()))
    assert _codes(advice) == [("premature-optimization", "H1")]
    assert "no bottleneck was ranked" in advice[0].evidence


def test_a_hypothesis_aimed_at_a_journey_outside_the_top_bottlenecks_is_premature() -> None:
    driven, analysed = _healthy()
    advice = advise(driven, replace(analysed, bottlenecks=(_db("admin"),)))
    assert _codes(advice) == [("premature-optimization", "H1")]
    assert "journey 'lookup'" in advice[0].evidence and "database in admin" in advice[0].evidence


def test_a_database_change_where_the_time_is_cpu_is_premature() -> None:
    driven, analysed = _healthy()
    advice = advise(driven, replace(analysed, bottlenecks=(_db("lookup", "cpu"),)))
    assert _codes(advice) == [("premature-optimization", "H1")]
    assert "a database change relieves database time" in advice[0].evidence


def test_no_baseline_in_history_and_an_unmeasured_hypothesis_are_unmeasured() -> None:
    driven, analysed = _healthy()
    first = advise(driven, replace(analysed, baseline_selection=None))
    assert _codes(first) == [("unmeasured-optimization", "svc")]
    invalid = _verdict(verdict=Verdict.INVALID)
    advice = advise(replace(driven, hypotheses=(invalid,)), analysed)
    assert _codes(advice) == [("unmeasured-optimization", "H1")]
    assert "A/B runs were invalid" in advice[0].evidence
    assert "not measured" in advise(replace(driven, hypotheses=()), analysed)[0].evidence


def test_history_disabled_keeps_no_regression_check() -> None:
    driven, analysed = _healthy()
    spec = replace(driven.spec, history=replace(driven.spec.history, enabled=False))
    advice = advise(replace(driven, spec=spec), analysed)
    assert _codes(advice) == [("unmeasured-optimization", "svc")]
    assert "history is disabled" in advice[0].evidence


def test_a_run_shorter_than_the_flow_guidance_is_unlike_production() -> None:
    driven, analysed = _healthy()
    short = _run(duration_s=10.0)
    advice = advise(_driven(driven.spec, short), analysed)
    assert _codes(advice) == [("load-unlike-production", "baseline")]
    assert "the flow's guidance is 15-30 min" in advice[0].evidence


def test_keys_reused_far_more_often_than_production_would_are_unlike_production() -> None:
    spec = _spec(SPEC.replace("{rand:1-100000}", "{rand:1-50}"))
    assert key_space(spec.journeys[0], spec) == 50
    many = _run(requests=REUSE_LIMIT * 50 + 1)
    advice = advise(_driven(spec, many), _healthy()[1])
    assert _codes(advice) == [("load-unlike-production", "lookup")]
    assert "50 distinct values" in advice[0].evidence
    assert advise(_driven(spec, _run(requests=REUSE_LIMIT * 50)), _healthy()[1]) == ()


def test_csv_rows_are_the_key_space(tmp_path: Path) -> None:
    data = tmp_path / "ids.csv"
    data.write_text("id\n1\n2\n3\n", encoding="utf-8")
    text = SPEC.replace("{rand:1-100000}", "{csv:ids.id}") + (
        f"data:\n  - {{name: ids, file: {data}}}\n")
    spec = _spec(text)
    assert key_space(spec.journeys[0], spec) == 3


def test_wrong_metrics_throughput_at_fixed_rate_rare_journey_and_mean() -> None:
    text = SPEC.replace("weight: 90", "weight: 99").replace("weight: 10", "weight: 1").replace(
        "slos:\n", "slos:\n  - {name: tput, sli: throughput, objective: \">= 10/s\"}\n"
        "  - {name: admin-p99, sli: latency, journey: admin, percentile: 99, "
        "objective: \"< 1s\"}\n").replace("expect: {slo: lookup-p95, change: \"<= -50%\"}",
                                          "expect: {metric: mean, journey: lookup, "
                                          "change: \"<= -50%\"}")
    analysed = _healthy()[1]
    advice = advise(_driven(_spec(text)), analysed)
    assert _codes(advice) == [("wrong-metric", "tput"), ("wrong-metric", "admin-p99"),
                              ("wrong-metric", "H1")]
    assert "fixed arrival rate" in advice[0].evidence
    assert "1.0% of the traffic mix" in advice[1].evidence
    closed = advise(_driven(_spec(text), _run(model="closed")), analysed)
    assert ("wrong-metric", "tput") not in _codes(closed)


def test_every_advice_has_a_known_code_title_and_remediation() -> None:
    driven = _healthy()[0]
    advice = advise(_driven(driven.spec, _run(duration_s=5.0)), Analysed())
    assert {a.code for a in advice} <= set(CODES)
    doc = advice[0].to_doc()
    assert set(doc) == {"code", "title", "subject", "evidence", "remediation"}
    assert doc["remediation"] == CODES[doc["code"]].remediation


def test_an_advice_gate_fails_only_on_the_codes_it_names() -> None:
    text = SPEC + ("gates:\n  - {name: no-guessing, kind: advice, "
                   "fail_on: [premature-optimization]}\n")
    spec = _spec(text)
    driven, analysed = _healthy()
    driven = replace(driven, spec=spec)
    found = replace(analysed, advice=(Advice("premature-optimization", "H1", "why"),))
    (gate,) = evaluate_gates(Evidence(driven, found, ()))
    assert gate.status is Status.FAIL and "Premature optimization (H1): why" in gate.message
    other = replace(analysed, advice=(Advice("wrong-metric", "x", "y"),))
    (gate,) = evaluate_gates(Evidence(driven, other, ()))
    assert gate.status is Status.PASS and "1 other warning" in gate.message


def test_an_advice_gate_without_fail_on_or_with_an_unknown_code_is_invalid() -> None:
    _, errors = load_text(SPEC + "gates:\n  - {name: a, kind: advice}\n")
    assert any("advice gate needs fail_on" in e.message for e in errors)
    _, errors = load_text(SPEC + "gates:\n  - {name: a, kind: advice, fail_on: [nope]}\n")
    assert errors and "nope" in str(errors[0])
