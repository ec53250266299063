"""The flow's error handling (#19): each failure with its action and escalation, and a
regression's commit range in apply's judgement and in `compare`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine.analysis.bottlenecks import Bottleneck
from engine.analysis.hypothesis import HypothesisVerdict, Verdict
from engine.analysis.regression import RegressionResult
from engine.analysis.slo import Budget, SloCheck
from engine.cli import main
from engine.gates.actions import commit_range, flow_actions
from engine.history.baseline import BaselineSelection
from engine.history.fingerprint import GitInfo
from engine.plan import SpecPlan
from engine.records import Analysed, Driven
from engine.result import Status
from engine.spec.loader import load_text
from tests.support.history import HOST, SPEC, history_run, store_at
from tests.support.specs import VALID

A, B = "a" * 40, "b" * 40


def _driven(**kw: object) -> Driven:
    specs, errors = load_text(VALID)
    assert not errors
    return Driven(specs[0], SpecPlan(specs[0], (), ()), 0.0, **kw)  # type: ignore[arg-type]


def _check(slo: str, status: Status) -> SloCheck:
    return SloCheck(slo, "latency", "lookup", "lookup p95", 0.3, "< 200ms", "300 ms", status,
                    -0.5, 0.01, "SLO breached: lookup p95 300 ms exceeds target < 200ms"
                    if status is Status.FAIL else "met")


def _budget(slo: str, burn: float) -> Budget:
    return Budget(slo, 0.95, 0.05, 0.05 * burn, burn, 0.1, "tier", "policy", 1000, 100.0,
                  86400.0)


def test_no_failure_no_action() -> None:
    assert flow_actions(_driven(), Analysed(slo_checks=(_check("p95", Status.PASS),))) == ()


def test_an_slo_breach_names_the_top_bottleneck_and_escalates_when_the_budget_is_gone() -> None:
    top = Bottleneck(1, "database in lookup", "database", 0.81, ("lookup",), ("e",), "database")
    analysed = Analysed(slo_checks=(_check("p95", Status.FAIL),), budgets=(_budget("p95", 0.5),),
                        bottlenecks=(top,))
    (action,) = flow_actions(_driven(), analysed)
    assert action.kind == "slo-breach" and action.failure.startswith("SLO breached: lookup p95")
    assert action.action == ("Identify the bottleneck and implement an optimization (top "
                             "bottleneck: database in lookup, 81.0% of total latency)")
    assert action.escalation == "error budget left: fix it in the normal flow"
    (gone,) = flow_actions(_driven(), replace(analysed, budgets=(_budget("p95", 3.0),)))
    assert gone.escalation == "error budget exhausted: STOP feature work until it recovers"


def test_a_budget_exhausted_without_a_failed_slo_stops_feature_work() -> None:
    analysed = Analysed(slo_checks=(_check("errors", Status.PASS),),
                        budgets=(_budget("errors", 2.0),))
    (action,) = flow_actions(_driven(), analysed)
    assert action.kind == "budget-exhausted"
    assert action.action == "STOP feature work and prioritise reliability"
    assert "failures allowed" in action.escalation


def test_a_regression_names_the_commit_range_from_the_baseline_to_now() -> None:
    reg = RegressionResult(Status.FAIL, (), ("Performance regression detected: p95 +40%",))
    selection = BaselineSelection((1, 2), (), "window", 1.0, 2, None, 0, 2e9, commits=(A, B))
    analysed = Analysed(regression=reg, baseline_selection=selection)
    (action,) = flow_actions(_driven(), analysed, head=lambda: "c" * 40)
    assert action.failure == "Performance regression detected: p95 +40%"
    assert action.action == ("Roll back the change and investigate the root cause: "
                             f"git log {'b' * 12}..{'c' * 12}")
    assert action.escalation == "Block the release until the regression is explained"
    (same,) = flow_actions(_driven(), analysed, head=lambda: B)
    assert "same commit as the baseline" in same.action
    (unknown,) = flow_actions(_driven(), analysed, head=lambda: None)
    assert unknown.action == "Roll back the change and investigate the root cause"


def test_commit_range_needs_both_ends() -> None:
    assert commit_range(None, A) == "" and commit_range(A, None) == ""
    assert commit_range(A, B) == f"git log {'a' * 12}..{'b' * 12}"


def test_a_refuted_optimization_is_re_profiled_and_kept_as_a_lesson() -> None:
    refuted = HypothesisVerdict("H1", "t", "database", "", "<= -50%", "p95", "lookup", 2.0,
                                "low", Verdict.REFUTED, 0.02, 0.02, 0.0, -0.05, 0.05, 0.0, 1.0,
                                2, None, None, "p95 changed -1%, expected <= -50%")
    (action,) = flow_actions(_driven(hypotheses=(refuted,)), Analysed())
    assert action.kind == "not-effective"
    assert action.action == "Re-profile to identify the actual bottleneck"
    assert action.escalation == "Document the failed optimization as a lesson learned"


def test_compare_prints_the_regression_action_with_the_commit_range(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = store_at(tmp_path)
    base = store.record(SPEC, "h", history_run(1, started_at=1.7e9), "PASS", HOST,
                        GitInfo(A, "main"))
    slow = history_run(2, started_at=1.7e9 + 60, scale=3.0)
    current = store.record(SPEC, "h", slow, "FAIL", HOST, GitInfo(B, "main"))
    store.close()
    code = main(["compare", str(base), str(current), "--db", str(tmp_path / "history.db")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "regression gate verdict: FAIL" in out
    assert (f"action: Roll back the change and investigate the root cause: git log "
            f"{'a' * 12}..{'b' * 12}; Block the release until the regression is explained") in out
