"""The flow's 'Load test failed: ...' sentences, written in one place.

The drive stage's messages, the flow actions (engine.gates.actions) and the checklist's
load-test rows (engine.gates.checklist) all render from ``load_failures``, so one failure
reads the same wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.analysis.evidence import abort_failure, analysis_failure
from engine.result import RunResult

if TYPE_CHECKING:
    from engine.analysis.soak import SoakAnalysis
    from engine.analysis.spike import SpikeAnalysis

__all__ = ["LOAD_TEST_FAILED", "load_failures", "load_test_failed", "run_failure"]

LOAD_TEST_FAILED = "Load test failed"


def load_test_failed(reason: str) -> str:
    """The flow's sentence for one load-test failure."""
    return f"{LOAD_TEST_FAILED}: {reason}"


def run_failure(kind: str, run: RunResult) -> str:
    """Why one ``kind`` run failed as a load test: invalid, or stopped by an abort_on_fail
    gate or the maximum run duration ('' when it did its job or a user stopped it)."""
    if not run.validity.valid:
        return f"{kind} run invalid: {'; '.join(run.validity.reasons)}"
    aborted = abort_failure(run)
    return f"{kind} aborted: {aborted}" if aborted else ""


def load_failures(kind: str, runs: Sequence[RunResult], soak: SoakAnalysis | None = None,
                  spike: SpikeAnalysis | None = None) -> tuple[str, ...]:
    """Every 'Load test failed: ...' sentence for the runs of one kind, in run order, then
    the failure its whole soak or spike analysis found; each sentence once."""
    reasons = [run_failure(kind, r) for r in runs]
    reasons.append(analysis_failure(kind, soak, spike))
    return tuple(dict.fromkeys(load_test_failed(r) for r in reasons if r))
