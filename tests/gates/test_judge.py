"""The judge stage on the typed records: gates, checklist, verdict, exit code, narrative,
abort-on-fail, and the analyse/record stages around it."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.bottlenecks import Bottleneck
from engine.analysis.hypothesis import HypothesisVerdict, Verdict
from engine.analysis.soak import analyse_soak
from engine.analysis.stress import analyse_stress
from engine.gates.abort import abort_check
from engine.gates.evaluate import exit_code, overall, spec_verdict
from engine.gates.narrative import lessons
from engine.history import record as history_record
from engine.history.record import open_store, run_verdict
from engine.history.store import HistoryStore
from engine.hotpath.native import OK, STATUS_5XX, Recorder
from engine.pipeline import analyse, judge, record, render
from engine.plan import SpecPlan
from engine.records import (
    Analysed,
    Driven,
    GateResult,
    Judgement,
    Recorded,
    RunEntry,
    RunRole,
    SpecResult,
)
from engine.result import SEVERITY, ExitCode, RunResult, Status, worst
from engine.spec.loader import load_text
from engine.spec.model import Spec, StopWhen
from engine.units import format_improvement
from tests.support.analysis import J, interval, sample, spread
from tests.support.analysis import make_run as make_step
from tests.support.runs import make_run
from tests.support.specs import VALID

MS = 1_000_000
GATES = "gates:\n" + "\n".join(f"  - {{name: {k}, kind: {k}}}" for k in (
    "slo", "validity", "regression", "hypothesis", "error_budget", "checklist", "load"))


def _spec(text: str = VALID) -> Spec:
    specs, errors = load_text(text)
    assert not errors, errors
    return specs[0]


def _run(p95_ms: float, n: int = 2000, errors: int = 0) -> RunResult:
    return make_run({"lookup": np.full(n, int(p95_ms * MS))}, duration_s=10.0, errors=errors)


def _driven(spec: Spec | None = None, runs: tuple[RunResult, ...] = (), **kw: object) -> Driven:
    spec = spec or _spec()
    entries = tuple(RunEntry(r.profile, RunRole("baseline", r.profile), r) for r in runs)
    primary = runs[0] if runs else None
    return replace(Driven(spec, SpecPlan(spec, (), ()), 0.0, entries, primary), **kw)


def _judged(driven: Driven, selected: tuple[str, ...] = ()) -> Judgement:
    return judge(driven, analyse(driven, None), selected)


def _gate(judgement: Judgement, kind: str) -> GateResult:
    return next(g for g in judgement.gates if g.kind == kind)


# --- the slo gate: strict by default, INCONCLUSIVE -> FAIL ---------------------------

def test_judge_passes_a_run_that_meets_every_slo() -> None:
    j = _judged(_driven(runs=(_run(50),)))
    assert _gate(j, "slo").status == Status.PASS
    assert _gate(j, "validity").status == Status.PASS


def test_judge_fails_a_breached_slo_and_says_so_once() -> None:
    driven = _driven(runs=(_run(300),))
    analysed = analyse(driven, None)
    breached = [m for m in analysed.messages if m.startswith("SLO breached")]
    assert len(breached) == 1
    j = judge(driven, analysed)
    assert _gate(j, "slo").status == Status.FAIL and j.verdict == Status.FAIL
    assert j.messages.count(breached[0]) == 1


def test_strict_slo_gate_turns_inconclusive_into_fail() -> None:
    text = VALID.replace("percentile: 95", "percentile: 99")
    j = _judged(_driven(_spec(text), runs=(_run(50, n=200),)))  # 200 requests: no p99
    slo = _gate(j, "slo")
    assert slo.status == Status.FAIL
    assert slo.message.startswith("strict gate inconclusive: ")
    lax = _judged(_driven(_spec(text + "gates:\n  - {name: slo, kind: slo, strict: false}\n"),
                          runs=(_run(50, n=200),)))
    assert _gate(lax, "slo").status == Status.INCONCLUSIVE
    assert lax.verdict == Status.INCONCLUSIVE
    assert exit_code([lax.verdict]) == ExitCode.PASS  # INCONCLUSIVE alone does not block


# --- --gate selection ----------------------------------------------------------------

def test_gate_selection_decides_the_verdict_and_keeps_every_gate_reported() -> None:
    driven = _driven(_spec(VALID + GATES), runs=(_run(300),))
    everything = _judged(driven)
    assert everything.verdict == Status.FAIL
    only_validity = _judged(driven, ("validity",))
    assert [g.kind for g in only_validity.gates] == [g.kind for g in everything.gates]
    assert [g.name for g in only_validity.gates if g.decides_exit] == ["validity"]
    assert _gate(only_validity, "slo").status == Status.FAIL  # still reported
    assert only_validity.verdict == Status.PASS


def test_gate_selection_by_kind_selects_every_gate_of_the_kind() -> None:
    text = VALID + "gates:\n  - {name: a, kind: slo}\n  - {name: b, kind: slo}\n" \
                   "  - {name: c, kind: validity}\n"
    j = _judged(_driven(_spec(text), runs=(_run(50),)), ("slo",))
    assert [g.name for g in j.gates if g.decides_exit] == ["a", "b"]


# --- verdict order and exit codes: one order, in engine.result ------------------------

@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(SEVERITY, 2)))
def test_every_verdict_pair_follows_severity(a: Status, b: Status) -> None:
    assert SEVERITY.index(a) < SEVERITY.index(b)  # combinations keep the order: a is worse
    assert worst([b, a]) == a == overall([a, b])
    gates = [GateResult("x", "slo", a, ""), GateResult("y", "validity", b, "")]
    assert spec_verdict(False, gates) == a


def test_exit_code_follows_the_worst_verdict() -> None:
    expected = {Status.ABORTED: ExitCode.INTERRUPTED, Status.INVALID: ExitCode.RUN_INVALID,
                Status.FAIL: ExitCode.GATE_FAILED, Status.INCONCLUSIVE: ExitCode.PASS,
                Status.PASS: ExitCode.PASS}
    for a, b in itertools.product(SEVERITY, repeat=2):
        assert exit_code([a, b]) == expected[worst([a, b])]


def test_the_document_carries_the_worst_spec_verdict_and_its_exit_code() -> None:
    passed = _result(_driven(runs=(_run(50),)))
    failed = _result(_driven(runs=(_run(300),)))
    doc = render([passed, failed])
    assert doc["verdict"] == "FAIL" and doc["exit_code"] == ExitCode.GATE_FAILED
    # the default regression and load gates have nothing to judge: INCONCLUSIVE
    assert [s["verdict"] for s in doc["specs"]] == ["INCONCLUSIVE", "FAIL"]
    interrupted = _result(_driven(runs=(_run(50),), interrupted=True))
    assert render([failed, interrupted])["exit_code"] == ExitCode.INTERRUPTED


def _result(driven: Driven) -> SpecResult:
    analysed = analyse(driven, None)
    return SpecResult(driven, analysed, judge(driven, analysed), Recorded(), finished_at=1.0)


def test_an_unreachable_target_is_invalid_and_blocked() -> None:
    driven = _driven(target_error="target unreachable: http://127.0.0.1:18999 (refused)",
                     messages=("Load test failed: target unreachable",))
    result = _result(driven)
    assert result.verdict == Status.INVALID
    assert result.analysed.slo_checks == () and result.analysed.regression is None
    doc = render([result])
    assert doc["exit_code"] == ExitCode.RUN_INVALID and doc["specs"][0]["status"] == "BLOCKED"
    assert doc["specs"][0]["messages"] == ["Load test failed: target unreachable"]


# --- abort-on-fail -------------------------------------------------------------------

ABORTING = VALID + "gates:\n  - {name: slo, kind: slo, abort_on_fail: true, abort_delay: 2s}\n"


def _recorder(latency_ms: float, n: int, outcome: int = OK) -> Recorder:
    rec = Recorder(["lookup", "signup"], 0)
    for i in range(n):
        start = i * 100_000  # 0.1 ms apart: all in the first interval
        rec.record(0, start, start, start + int(latency_ms * MS), outcome)
    return rec


def test_no_abort_check_without_an_abort_on_fail_slo_gate() -> None:
    assert abort_check(_spec()) is None


def test_abort_on_fail_waits_for_its_delay_then_names_the_broken_slo() -> None:
    check = abort_check(_spec(ABORTING))
    assert check is not None
    slow = _recorder(300, 2000)
    assert check(slow, 1.0) == ""  # before abort_delay
    reason = check(slow, 2.5)
    assert reason.startswith("abort_on_fail: ") and "200ms" in reason


def test_abort_on_fail_needs_enough_samples_and_a_real_breach() -> None:
    check = abort_check(_spec(ABORTING))
    assert check is not None
    assert check(_recorder(300, 10), 5.0) == ""  # 10 requests cannot judge a p95
    assert check(_recorder(50, 2000), 5.0) == ""  # within every objective
    assert "error" in check(_recorder(5, 2000, STATUS_5XX), 5.0)


# --- narrative: never an SLO claim the slo gate does not back -------------------------

def _stress(rates_p95: list[tuple[float, float]]) -> Driven:
    steps = [make_step([J("lookup", spread(p95 / 1.05, 200, rel=0.05, seed=int(rate)))],
                       duration_s=200 / rate, rate=rate, kind="stress") for rate, p95 in rates_p95]
    stress = analyse_stress(steps, stop_when=StopWhen(p95_s=0.050))
    return _driven(runs=(_run(300),), stress=stress)


@pytest.mark.parametrize("shape", [[(10, 0.010), (20, 0.011), (30, 0.200)],
                                   [(10, 0.010), (20, 0.011)], [(10, 0.200)]])
def test_lessons_never_claim_an_slo_held_when_the_slo_gate_did_not_pass(
        shape: list[tuple[float, float]]) -> None:
    j = _judged(_stress(shape))
    assert _gate(j, "slo").status != Status.PASS
    assert any(lesson.startswith("Stress") for lesson in j.lessons)
    for lesson in j.lessons:
        text = lesson.lower()
        assert "slo" not in text or not any(w in text for w in ("held", "met", "within"))


# --- run roles are typed, never parsed from labels ------------------------------------

def test_roles_come_from_the_typed_field_not_the_variant_label() -> None:
    misleading = make_run({"lookup": np.full(100, MS)}, variant="stress@10/s")
    own = replace(make_run({"lookup": np.full(100, MS)}, variant="H1-baseline-1"),
                  kind="soak")
    entries = (RunEntry("H1-candidate-1", RunRole("hypothesis", "baseline", side="candidate",
                                                  round_index=0, hypothesis="H1"), misleading),
               RunEntry("soak", RunRole("soak", "soak"), own))
    driven = replace(_driven(), runs=entries)
    assert driven.own_runs() == [own] and driven.runs_of("soak") == [own]
    assert driven.side_runs("candidate") == [misleading] and driven.side_runs("baseline") == []
    assert driven.side_runs("candidate", "H1") == [misleading]
    assert driven.side_runs("candidate", "H2") == []
    assert driven.runs_of("stress") == []


# --- record: after judging, with the judged verdict -----------------------------------

def test_run_verdict_keeps_inconclusive_runs_eligible_as_baselines() -> None:
    run = _run(50)
    inconclusive = (GateResult("r", "regression", Status.INCONCLUSIVE, ""),)
    assert run_verdict(run, inconclusive) == "PASS"
    assert run_verdict(run, (GateResult("s", "slo", Status.FAIL, ""),)) == "FAIL"
    assert run_verdict(replace(run, aborted=True), ()) == "ABORTED"


def _history_spec(tmp_path: Path) -> Spec:
    return _spec(VALID + f"history: {{path: {tmp_path / 'h.db'}}}\n")


def test_record_stores_every_run_with_the_judged_verdict(tmp_path: Path) -> None:
    spec = _history_spec(tmp_path)
    driven = _driven(spec, runs=(_run(300),))
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    try:
        analysed = analyse(driven, store)
        judgement = judge(driven, analysed)
        recorded = record(driven, judgement, store)
        assert len(recorded.history_ids) == 1 and recorded.messages == ()
        assert store.get(recorded.history_ids[0]).verdict == "FAIL"
        assert record(driven, judgement, None) == Recorded()
    finally:
        store.close()


def test_a_history_read_fault_is_said_and_nothing_is_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(history_record, "select_baseline", broken)
    spec = _history_spec(tmp_path)
    driven = _driven(spec, runs=(_run(50),))
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    try:
        analysed = analyse(driven, store)
    finally:
        store.close()
    assert analysed.history_failed and analysed.regression is None
    assert "history not updated: database is locked" in analysed.messages
    assert _gate(judge(driven, analysed), "regression").status == Status.INCONCLUSIVE


def test_an_unopenable_history_is_a_message_not_a_crash() -> None:
    driven = _driven(runs=(_run(50),))
    analysed = analyse(driven, "history unavailable at /nope: denied")
    assert analysed.messages == ("history unavailable at /nope: denied",)
    assert judge(driven, analysed).verdict != Status.FAIL


# --- error budgets and the load gate never pass on runs their checks cannot judge ------

def test_the_error_budget_gate_does_not_pass_on_a_run_too_small_for_its_slo() -> None:
    small = _judged(_driven(runs=(_run(5, n=20),)))
    budgets = _gate(small, "error_budget")
    assert budgets.status is not Status.PASS, budgets.message
    whole = _gate(_judged(_driven(runs=(_run(5),))), "error_budget")
    assert whole.status is Status.PASS  # the same SLOs on enough requests do pass


def test_the_error_budget_gate_is_invalid_when_the_target_was_unreachable() -> None:
    gate = _gate(_judged(_driven(target_error="target unreachable")), "error_budget")
    assert gate.status is Status.INVALID


def test_the_load_gate_is_invalid_when_its_soak_run_was_invalid() -> None:
    ivs = [interval(i, float(i), [spread(0.010, 50, rel=0.05, seed=i)]) for i in range(20)]
    res = [sample(float(t)) for t in range(20)]
    soak_run = make_step([J("lookup", spread(0.01, 10))], duration_s=20.0, intervals=ivs,
                         resources=res, kind="soak", valid=False, reasons=("worker saturated",))
    driven = _driven(runs=(_run(5),), soak=analyse_soak(soak_run))
    driven = replace(driven, runs=(*driven.runs, RunEntry("soak", RunRole("soak", "soak"),
                                                          soak_run)))
    gate = _gate(_judged(driven), "load")
    assert gate.status is Status.INVALID and "worker saturated" in gate.message


def test_the_lessons_name_the_first_bottleneck_to_change_with_the_queueing_behind_it() -> None:
    """The quick start's lessons said 'The largest bottleneck was db time in stats, 14%'
    beside a 68% queueing item: the first-ranked is the cause to change, not the largest."""
    ranked = (Bottleneck(1, "db time in stats", "database", 0.143, ("stats",), (), "database"),
              Bottleneck(2, "queueing outside the handlers", "queueing", 0.68, ("lookup",), (),
                         "database", behind="db time in stats"))
    said = lessons(_driven(), Analysed(bottlenecks=ranked))
    assert said == ("The first bottleneck to change was db time in stats, 14% of total "
                    "latency; the queueing behind it was another 68%.",)
    only = ("The first bottleneck to change was db time in stats, 14% of total latency.",)
    assert lessons(_driven(), Analysed(bottlenecks=ranked[:1])) == only
    # platform-proactive: ext time (off the CPU) first, then queueing behind something else
    elsewhere = (ranked[0], replace(ranked[1], behind="app time in profile"))
    assert lessons(_driven(), Analysed(bottlenecks=elsewhere)) == only


@pytest.mark.parametrize(("pct", "digits", "text"), [
    (91.3, 1, "91.3% better"), (-12.04, 1, "12.0% worse"), (91.3, 0, "91% better"),
    (0.0, 1, "0.0% better")])
def test_an_improvement_reads_without_a_sign(pct: float, digits: int, text: str) -> None:
    """Lessons said 'H1 delivered p95 +91%' of a p95 that fell 91%."""
    assert format_improvement(pct, digits) == text


def test_a_hypothesis_context_is_the_bottlenecks_of_its_own_before_runs() -> None:
    """The ADR of the /stats cache cited 'db time in stats' from the spec's own runs, which
    ran with the cache on: its context is the analysis of its before (baseline) runs."""
    slow = make_step([J("stats", spread(0.060, 200), server_timing={"db": spread(0.055, 200)})])
    fast = make_step([J("stats", spread(0.001, 200), server_timing={"db": spread(0.0002, 200)})])
    own = make_step([J("lookup", spread(0.004, 200), server_timing={"app": spread(0.003, 200)})])
    verdict = HypothesisVerdict("H2", "cache", "caching", "", "<= -60%", "p50", "stats", 8.0,
                                "medium", Verdict.CONFIRMED, 1.0, 0.06, 0.001, -0.98, -0.99,
                                98.0, 60.0, 1, None, None, "m")
    entries = (RunEntry("baseline", RunRole("baseline", "baseline"), own),
               RunEntry("H2-baseline-1", RunRole("hypothesis", "baseline", side="baseline",
                                                 round_index=0, hypothesis="H2"), slow),
               RunEntry("H2-candidate-1", RunRole("hypothesis", "baseline", side="candidate",
                                                  round_index=0, hypothesis="H2"), fast))
    driven = replace(_driven(runs=(own,)), runs=entries, hypotheses=(verdict,))
    analysed = analyse(driven, None)
    before = analysed.before_bottlenecks["H2"]
    assert before[0].name == "db time in stats" and before[0].share > 0.8
    assert all("stats" not in b.journeys for b in analysed.bottlenecks)  # the own runs' list
