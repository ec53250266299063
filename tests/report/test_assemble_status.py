"""The report's flow status and history ids come from the stage records (issue #14)."""

from __future__ import annotations

import numpy as np

from engine.plan import SpecPlan
from engine.records import (
    Analysed,
    Driven,
    Judgement,
    Recorded,
    RunEntry,
    RunRole,
    SpecResult,
)
from engine.report.assemble import spec_report
from engine.report.document import new_document, validate_document
from engine.result import Status
from engine.spec.loader import load_text
from tests.support.runs import make_run
from tests.support.specs import VALID


def _result(verdict: Status, *, runs: int = 1, interrupted: bool = False,
            target_error: str = "", ids: tuple[int, ...] = ()) -> SpecResult:
    specs, errors = load_text(VALID)
    assert not errors
    spec = specs[0]
    run = make_run({"lookup": np.full(500, 5_000_000)})
    entries = tuple(RunEntry("baseline", RunRole("baseline", "baseline"), run)
                    for _ in range(runs))
    driven = Driven(spec, SpecPlan(spec, (), ()), 1.8e9, entries, run if runs else None,
                    interrupted=interrupted, target_error=target_error)
    return SpecResult(driven, Analysed(), Judgement((), (), verdict), Recorded(ids), 1.8e9 + 9)


def test_a_finished_inconclusive_run_is_complete_not_in_progress() -> None:
    """A first run (no baseline: regression INCONCLUSIVE) finished: it read IN_PROGRESS."""
    assert spec_report(_result(Status.INCONCLUSIVE))["status"] == "COMPLETE"
    assert spec_report(_result(Status.PASS))["status"] == "COMPLETE"
    assert spec_report(_result(Status.FAIL))["status"] == "COMPLETE"


def test_blocked_and_in_progress_keep_their_meaning() -> None:
    assert spec_report(_result(Status.INVALID))["status"] == "BLOCKED"
    assert spec_report(_result(Status.INCONCLUSIVE, target_error="refused"))["status"] \
        == "BLOCKED"
    assert spec_report(_result(Status.ABORTED, interrupted=True))["status"] == "IN_PROGRESS"
    assert spec_report(_result(Status.NOT_RUN, runs=0))["status"] == "IN_PROGRESS"


def test_the_history_ids_of_the_specs_runs_are_in_the_document() -> None:
    report = spec_report(_result(Status.PASS, ids=(7, 8)))
    assert report["history_ids"] == [7, 8]
    assert spec_report(_result(Status.PASS))["history_ids"] == []
    doc = new_document([report], verdict="PASS", exit_code=0)
    assert validate_document(doc) == []
    bad = new_document([replace_ids(report, [0])], verdict="PASS", exit_code=0)
    assert any("history_ids" in e for e in validate_document(bad))


def replace_ids(report: dict[str, object], ids: list[int]) -> dict[str, object]:
    return {**report, "history_ids": ids}
