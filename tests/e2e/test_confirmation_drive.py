"""The drive stage runs the primary profile again while the regression gate is undecided
(issue #14), against the real demo: as often as the gate asks, never beyond ``max_runs``,
and says why."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from engine.drive import drive_spec
from engine.plan import plan_spec
from engine.records import Confirmation, Driven
from engine.result import RunResult
from engine.spec.loader import load_text
from engine.target.session import ExecOptions
from tests.support.demo import free_port

pytestmark = pytest.mark.slow

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: again, component: demo}}
trigger: proactive
target:
  demo: {{port: {port}, fix: [all]}}
journeys:
  - {{name: health, request: {{method: GET, path: /health}}}}
load:
  baseline: {{rate: 40/s, duration: 1s}}
  soak: {{rate: 20/s, duration: 1s}}
gates:
  - {{name: regression, kind: regression, max_runs: 3}}
report: {{formats: [json], dir: reports}}
"""


def _drive(answers: list[str]) -> tuple[Driven, list[int]]:
    """Drive with a gate that answers ``answers`` in turn; the run counts it was asked on."""
    specs, errors = load_text(SPEC.format(port=free_port()))
    assert not errors, errors
    asked: list[int] = []

    def undecided(runs: Sequence[RunResult]) -> str:
        asked.append(len(runs))
        return answers[len(asked) - 1]
    return drive_spec(plan_spec(specs[0]), ExecOptions(), time.time(),
                      Confirmation(3, undecided)), asked


def test_the_primary_profile_runs_again_until_the_gate_decides() -> None:
    driven, asked = _drive(["p95", ""])
    assert asked == [1, 2]
    assert [e.id for e in driven.runs] == ["baseline", "baseline-2", "soak"]
    assert driven.runs[1].role.round_index == 1 and driven.runs[1].role.kind == "baseline"
    assert driven.current_runs() == (driven.runs[0].run, driven.runs[1].run)
    assert all(r.requests > 0 for r in driven.current_runs())
    assert any("undecided on p95 after 1 run(s) of baseline: running it again (2 of up to 3)"
               in m for m in driven.messages)


def test_an_undecided_gate_stops_at_max_runs() -> None:
    driven, asked = _drive(["p95", "p95", "p95"])
    assert asked == [1, 2]  # the third run is the last: nothing left to ask for
    assert [e.id for e in driven.runs] == ["baseline", "baseline-2", "baseline-3", "soak"]
    assert len(driven.confirmations) == 2
