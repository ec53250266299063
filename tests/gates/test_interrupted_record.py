"""A second Ctrl-C after the drive (while analysing, judging or writing the history)
keeps what was measured: the spec is reported as interrupted, never lost."""

from __future__ import annotations

import numpy as np
import pytest

import engine.pipeline as pipeline
from engine.plan import SpecPlan
from engine.records import Driven, Judgement, Recorded, RunEntry, RunRole
from engine.result import Status
from engine.spec.loader import load_text
from tests.support.runs import make_run
from tests.support.specs import VALID


def _driven() -> Driven:
    specs, errors = load_text(VALID)
    assert not errors
    spec = specs[0]
    run = make_run({"lookup": np.full(2000, 5_000_000)}, duration_s=10.0)
    entry = RunEntry("baseline", RunRole("baseline", "baseline"), run)
    return Driven(spec, SpecPlan(spec, (), ()), 0.0, (entry,), run)


def test_a_second_interrupt_while_recording_keeps_the_runs_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    driven = _driven()

    def interrupted_write(*_: object, **__: object) -> Recorded:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "drive", lambda plan, ctx: driven)
    monkeypatch.setattr(pipeline, "record", interrupted_write)
    result = pipeline.run_spec(driven.plan, pipeline.ApplyContext(history=False))
    assert result.driven.interrupted and result.driven.runs == driven.runs
    assert result.verdict == Status.ABORTED  # judged as interrupted, not as whole
    assert any("history not updated: interrupted" in m for m in result.messages)


def test_a_second_interrupt_while_judging_is_survived_too(
        monkeypatch: pytest.MonkeyPatch) -> None:
    driven = _driven()
    calls = []
    real_judge = pipeline.judge

    def judge_once_interrupted(*args: object, **kw: object) -> Judgement:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_judge(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "drive", lambda plan, ctx: driven)
    monkeypatch.setattr(pipeline, "judge", judge_once_interrupted)
    result = pipeline.run_spec(driven.plan, pipeline.ApplyContext(history=False))
    assert result.driven.interrupted and result.judgement.gates
