"""One 'Load test failed: ...' sentence (engine.gates.failures): the drive stage's message,
the flow action and the checklist row say a failure the same way."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.analysis.spike import SpikeAnalysis
from engine.drive import _Driving, _note_run_failures
from engine.gates.actions import flow_actions
from engine.gates.checklist import evaluate_checklist
from engine.plan import SpecPlan
from engine.records import Analysed, Driven, RoleKind, RunRole
from engine.result import RunResult, Status
from engine.spec.loader import load_text
from tests.support.runs import make_run
from tests.support.specs import VALID

ROW = {"baseline": "Baseline load test passed", "capacity": "Capacity test run",
       "spike": "Spike test passed (recovered)"}
GATE_REASON = "abort_on_fail: lookup p95 900 ms breaks < 200ms"


def _run(valid: bool = True) -> RunResult:
    return make_run(np.full(200, 10_000_000, dtype=np.int64), valid=valid)


def _not_recovered() -> SpikeAnalysis:
    return SpikeAnalysis(30.0, 300.0, 0.01, 0.0, 0.01, 0.2, 0.1, None, False, 0.2, 8)


def _driven(kind: RoleKind, run: RunResult, spike: SpikeAnalysis | None = None) -> Driven:
    specs, errors = load_text(VALID)
    assert not errors
    d = _Driving(SpecPlan(specs[0], (), ()), 0.0)
    d.add_run(kind, RunRole(kind, kind), run)
    d.spike = spike
    _note_run_failures(d, kind)
    return d.freeze()


def _three_places(d: Driven, kind: str) -> tuple[list[str], list[str], tuple[Status, str]]:
    messages = [m for m in d.messages if m.startswith("Load test failed")]
    actions = [a.failure for a in flow_actions(d, Analysed()) if a.kind == "load-test-failure"]
    (row,) = [i for i in evaluate_checklist(d, Analysed()) if i.criterion == ROW[kind]]
    return messages, actions, (row.status, row.evidence)


@pytest.mark.parametrize(("kind", "run", "spike", "status", "sentence"), [
    ("baseline", replace(_run(), aborted=True, abort_reason=GATE_REASON), None, Status.FAIL,
     f"Load test failed: baseline aborted: {GATE_REASON}"),
    ("capacity", _run(valid=False), None, Status.INVALID,
     "Load test failed: capacity run invalid: "),
    ("spike", _run(), _not_recovered(), Status.FAIL, "Load test failed: spike: "),
])
def test_the_drive_message_the_action_and_the_checklist_say_the_same_failure(
        kind: RoleKind, run: RunResult, spike: SpikeAnalysis | None, status: Status,
        sentence: str) -> None:
    messages, actions, (row_status, evidence) = _three_places(_driven(kind, run, spike), kind)
    assert len(messages) == 1 and messages[0].startswith(sentence)
    assert messages == actions == [evidence]
    assert row_status is status


def test_an_invalid_run_is_an_action_too() -> None:
    run = _run(valid=False)
    (action,) = flow_actions(_driven("baseline", run), Analysed())
    assert action.failure == f"Load test failed: baseline run invalid: {run.validity.reasons[0]}"
    assert action.escalation == "Do not proceed to production"


def test_a_user_stop_is_no_failure_anywhere() -> None:
    d = _driven("baseline", replace(_run(), aborted=True, abort_reason="interrupted"))
    messages, actions, (status, _) = _three_places(d, "baseline")
    assert messages == actions == []
    assert status is not Status.FAIL
