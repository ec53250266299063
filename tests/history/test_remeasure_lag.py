"""A run whose own load generator ran late is measured again like one on a slower machine
(issue #14): latency is timed from the intended send, so the generator's lateness is
charged to the target. The quick start's A-vs-A FAIL of user-lookup (p95 +97%, lag p99
1.24 ms against 0.16 ms, probe only 13% slower) is the case."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.history.record import open_store, remeasure
from engine.history.store import HistoryStore
from engine.result import RunResult, Status
from engine.spec.model import Spec
from tests.history.test_machine_speed_note import PROBE_NS, _apply, _run
from tests.history.test_remeasure import _second, compare_says_invalid, seed

BASE_LAG_S = 0.001
"""The generator's lag p99 in the seeded baseline runs."""


def _late(run: RunResult, lag_s: float = BASE_LAG_S) -> RunResult:
    return dataclasses.replace(run, validity=dataclasses.replace(run.validity,
                                                                 schedule_lag_p99_s=lag_s))


@pytest.fixture
def seeded(tmp_path: Path) -> Spec:
    """Three judged runs in the history, the probe at PROBE_NS, the lag at BASE_LAG_S."""
    return seed(tmp_path, _late)


def test_a_failing_run_whose_generator_ran_late_is_measured_again(seeded: Spec) -> None:
    ask = remeasure(seeded)
    assert ask is not None
    run = _late(_run(5, np.random.default_rng(9), 1.5, PROBE_NS))  # the usual probe and lag
    assert ask(run) == ""  # a FAIL on a quiet machine is judged as it is
    assert ask(_late(run, BASE_LAG_S * 2.5)) == ""  # within quiet runs' spread
    assert ask(_late(run, BASE_LAG_S * 8)) == (
        "the regression gate was FAIL on it while our load generator ran late (schedule lag "
        "p99 8.00 ms vs 1.00 ms in the baseline runs)")
    both = _run(6, np.random.default_rng(9), 1.5, PROBE_NS * 2)
    assert ask(_late(both, BASE_LAG_S * 8)) == (
        "the regression gate was FAIL on it while the machine ran a fixed CPU probe 100% "
        "slower than during the baseline runs and our load generator ran late (schedule lag "
        "p99 8.00 ms vs 1.00 ms in the baseline runs)")
    passing = _run(7, np.random.default_rng(9), 1.0, PROBE_NS)
    assert ask(_late(passing, BASE_LAG_S * 8)) == ""  # a PASS needs no second look
    closed = dataclasses.replace(_late(run, BASE_LAG_S * 8), model="closed")
    assert ask(closed) == ""  # no schedule to be late for: judged as it is


def test_an_undecided_run_whose_generator_ran_late_is_measured_again(seeded: Spec) -> None:
    ask = remeasure(seeded)
    assert ask is not None
    run = _late(_run(8, np.random.default_rng(11), 1.06, PROBE_NS))  # +6%: not significant
    assert ask(run) == ""  # on time: a second run would see what the first saw
    assert ask(_late(run, BASE_LAG_S * 8)) == (
        "the regression gate was INCONCLUSIVE on it while our load generator ran late "
        "(schedule lag p99 8.00 ms vs 1.00 ms in the baseline runs)")


def test_a_second_fail_with_the_generator_late_again_is_invalid(
        seeded: Spec, capsys: pytest.CaptureFixture[str]) -> None:
    """INVALID in apply, and in ``compare`` replaying the stored run (the history keeps its
    lag and why it was measured again)."""
    store = open_store(seeded)
    assert isinstance(store, HistoryStore)
    with store:
        again = _apply(seeded, _late(_second(5, 1.5, PROBE_NS), BASE_LAG_S * 8), store)
        steady = _apply(seeded, _late(_second(6, 1.5, PROBE_NS)), store)
    reg = again.analysed.regression
    assert reg is not None and reg.status is Status.INVALID
    assert reg.note.startswith("cannot tell the code from the machine: measured twice")
    assert "our load generator ran late (schedule lag p99 8.00 ms" in reg.note
    assert reg.notes == (reg.note,)  # the INVALID gate says why itself: no second note
    clear = steady.analysed.regression
    assert clear is not None and clear.status is Status.FAIL  # on time: the code's
    compare_says_invalid(again, seeded, reg.note, capsys)
