"""A primary run that met a slower machine and would not pass the regression gate is set
aside and measured once more (issue #14): the question (engine.history.record.remeasure),
the drive stage's answer to it (engine.drive._judged_run), and what the history keeps."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from engine.analysis.machine_speed import MEASURED_AGAIN
from engine.drive import _Driving, _judged_run
from engine.history.baseline import select_baseline
from engine.history.fingerprint import host_fingerprint
from engine.history.record import open_store, remeasure, run_verdict
from engine.history.store import HistoryStore
from engine.plan import SpecPlan
from engine.records import SET_ASIDE, RunEntry, RunRole
from engine.result import RunResult, Status
from engine.spec.loader import load_text
from engine.spec.model import Spec
from tests.history.test_machine_speed_note import GATE, PROBE_NS, _apply, _cli, _run
from tests.support.specs import VALID


def _spec(tmp_path: Path, gates: str = GATE) -> Spec:
    specs, errors = load_text(VALID + gates + f"history: {{path: {tmp_path / 'h.db'}}}\n")
    assert not errors, errors
    return specs[0]


def seed(tmp_path: Path, shape: Callable[[RunResult], RunResult] = lambda r: r) -> Spec:
    """A spec with three judged runs in its history, the probe at PROBE_NS in each, each
    run ``shape``d first."""
    spec, rng = _spec(tmp_path), np.random.default_rng(3)
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    with store:
        for k in range(3):
            _apply(spec, shape(_run(k, rng, 1.0, PROBE_NS)), store)
    return spec


@pytest.fixture
def seeded(tmp_path: Path) -> Spec:
    return seed(tmp_path)


def test_a_failing_run_on_a_slower_machine_is_measured_again(seeded: Spec) -> None:
    ask = remeasure(seeded)
    assert ask is not None
    rng = np.random.default_rng(9)
    why = ask(_run(5, rng, 1.5, PROBE_NS * 8 // 5))  # 50% slower, probe 60% slower
    assert why == ("the regression gate was FAIL on it while the machine ran a fixed CPU "
                   "probe 60% slower than during the baseline runs")


def test_a_run_at_the_usual_speed_or_one_that_passes_is_judged_as_it_is(seeded: Spec) -> None:
    ask = remeasure(seeded)
    assert ask is not None
    rng = np.random.default_rng(9)
    assert ask(_run(5, rng, 1.5, PROBE_NS)) == ""  # a real slowdown on a steady machine
    assert ask(_run(6, rng, 1.5, PROBE_NS * 11 // 10)) == ""  # 10%: within the probe's spread
    assert ask(_run(7, rng, 1.0, PROBE_NS * 2)) == ""  # passes although the machine was slow


def test_an_undecided_run_is_measured_again_only_on_a_slower_machine(seeded: Spec) -> None:
    """An INCONCLUSIVE that the machine may have caused is measured again to decide it (a
    quick-start apply was INCONCLUSIVE on one p95 with the probe 54% slower); on a machine
    at its usual speed a second run would see what the first saw, and none is made."""
    ask = remeasure(seeded)
    assert ask is not None
    from engine.history.record import read_history

    for probe, said in ((PROBE_NS * 2, "the regression gate was INCONCLUSIVE on it while the "
                         "machine ran a fixed CPU probe 100% slower than during the baseline "
                         "runs"), (PROBE_NS, "")):
        run = _run(8, np.random.default_rng(11), 1.06, probe)  # +6%: past 5%, not significant
        store = open_store(seeded)
        assert isinstance(store, HistoryStore)
        with store:
            found, _ = read_history(seeded, run, store)
        assert found.regression is not None and found.regression.status is Status.INCONCLUSIVE
        assert ask(run) == said


def test_only_a_regression_gate_that_decides_the_exit_asks(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    assert remeasure(spec, ("regression",)) is not None
    assert remeasure(spec, ("slo",)) is None  # apply --gate slo: the regression gate is shown only
    assert remeasure(_spec(tmp_path, "gates:\n  - {name: slo, kind: slo}\n")) is None
    named = _spec(tmp_path, "gates:\n  - {name: slo, kind: slo}\n"
                            "  - {name: no-regress, kind: regression}\n")
    assert remeasure(named, ("regression",)) is not None  # --gate by kind, as the gates take it
    assert remeasure(named, ("no-regress",)) is not None and remeasure(named, ("slo",)) is None


def test_with_no_baseline_yet_nothing_is_measured_again(tmp_path: Path) -> None:
    ask = remeasure(_spec(tmp_path))
    assert ask is not None
    assert ask(_run(0, np.random.default_rng(1), 1.0, PROBE_NS * 3)) == ""


_UNMANAGED = SimpleNamespace(managed=None)  # a URL target: nothing to restart


class _Executor:
    """Hands out prepared runs in order and counts them (the target is not involved)."""

    def __init__(self, runs: list[RunResult]) -> None:
        self.runs, self.calls = list(runs), 0
        self.options = SimpleNamespace(stop=threading.Event())

    def run(self, session: Any, profile: Any, **_: Any) -> RunResult:
        self.calls += 1
        return self.runs.pop(0)


def _driving(spec: Spec, answers: list[str]) -> tuple[_Driving, list[RunResult]]:
    asked: list[RunResult] = []

    def ask(run: RunResult) -> str:
        asked.append(run)
        return answers.pop(0)
    return _Driving(SpecPlan(spec, (), ()), 0.0, remeasure=ask), asked


def test_the_set_aside_run_is_kept_and_the_second_one_judged(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    profile = spec.profiles[0]
    rng = np.random.default_rng(2)
    first, second = _run(0, rng, 1.5, PROBE_NS * 2), _run(1, rng, 1.0, PROBE_NS)
    d, asked = _driving(spec, ["the regression gate was FAIL on it while ..."])
    ex = _Executor([second])
    judged = _judged_run(d, ex, _UNMANAGED, profile, first)  # type: ignore[arg-type]
    assert judged.started_at == second.started_at and ex.calls == 1 and asked == [first]
    assert [e.id for e in d.runs] == ["baseline-set-aside", "baseline"]
    aside = d.runs[0].run  # labelled for the reports' headline runs and the history
    assert aside.variant == SET_ASIDE and aside.started_at == first.started_at
    assert d.runs[1].run.variant == "" and d.runs[1].run is judged
    assert judged.extra[MEASURED_AGAIN].startswith("the regression gate was FAIL")  # kept
    assert dataclasses.replace(judged, extra=second.extra) == second  # nothing else changed
    assert d.runs[0].role.set_aside.startswith("the regression gate was FAIL")
    assert d.runs[1].role.set_aside == ""
    assert any(m.startswith("baseline measured again: the regression gate was FAIL")
               for m in d.messages)
    # once per spec: a later primary (a second baseline-kind step) is not asked again
    again = _run(2, rng, 1.0, PROBE_NS)
    assert _judged_run(d, ex, _UNMANAGED, profile, again) is again  # type: ignore[arg-type]
    assert len(asked) == 1


def test_a_run_the_gate_would_pass_is_judged_without_another(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    run = _run(0, np.random.default_rng(2), 1.0, PROBE_NS)
    d, asked = _driving(spec, [""])
    ex = _Executor([])
    assert _judged_run(d, ex, _UNMANAGED, spec.profiles[0], run) is run  # type: ignore[arg-type]
    assert ex.calls == 0 and asked == [run] and [e.id for e in d.runs] == ["baseline"]


def test_an_invalid_or_interrupted_run_is_not_measured_again(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    run = _run(0, np.random.default_rng(2), 1.0, PROBE_NS)
    bad = dataclasses.replace(run, validity=dataclasses.replace(run.validity, valid=False))
    d, asked = _driving(spec, ["slower"])
    assert _judged_run(d, _Executor([]), _UNMANAGED, spec.profiles[0], bad) is bad  # type: ignore[arg-type]
    assert asked == []  # an invalid run is INVALID, not a machine's slowdown
    d, asked = _driving(spec, ["slower"])
    ex = _Executor([])
    ex.options.stop.set()
    assert _judged_run(d, ex, _UNMANAGED, spec.profiles[0], run) is run  # type: ignore[arg-type]
    assert asked == [] and ex.calls == 0


def test_the_history_keeps_a_set_aside_run_out_of_later_baselines(seeded: Spec) -> None:
    rng = np.random.default_rng(5)
    run = _run(4, rng, 1.5, PROBE_NS * 2)
    assert run_verdict(run, (), set_aside=True) == str(Status.INCONCLUSIVE)
    assert run_verdict(run, ()) == str(Status.PASS)
    from engine.pipeline import advised, analyse, judge, record
    from engine.records import Driven

    aside, judged = dataclasses.replace(run, variant=SET_ASIDE), _run(5, rng, 1.0, PROBE_NS)
    entries = (RunEntry("baseline-set-aside", RunRole("baseline", "baseline", set_aside="x"),
                        aside),
               RunEntry("baseline", RunRole("baseline", "baseline"), judged))
    driven = Driven(seeded, SpecPlan(seeded, (), ()), judged.started_at, entries, judged)
    assert driven.own_runs() == [judged] == driven.runs_of("baseline")  # the judged run only
    store = open_store(seeded)
    assert isinstance(store, HistoryStore)
    with store:
        analysed = advised(driven, analyse(driven, store))
        judgement = judge(driven, analysed)
        recorded = record(driven, judgement, store, analysed)
        ids = recorded.history_ids
        verdicts = [store.get(i).verdict for i in ids]
        picked = select_baseline(store, seeded.name, "baseline", seeded.history.baseline,
                                 host_fingerprint(), now=judged.started_at + 60)
    assert verdicts == ["INCONCLUSIVE", "PASS"]
    from engine.records import SpecResult
    from engine.report.assemble import spec_report
    from engine.report.fmt import primary_runs

    doc = spec_report(SpecResult(driven, analysed, judgement, recorded, judged.started_at))
    assert [r["id"] for r in doc["runs"]] == ["baseline-set-aside", "baseline"]
    assert [r["id"] for r in primary_runs(doc)] == ["baseline"]  # every headline's run
    assert len(ids) == 2 and ids[0] not in picked.run_ids and ids[1] in picked.run_ids


def test_a_target_that_does_not_restart_leaves_the_first_run_judged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never nothing to judge: had the first run been left set aside, `--gate regression`
    would have said INCONCLUSIVE ('no run to compare') and exited 0 on a run it would FAIL."""
    import engine.drive as drive_mod
    from engine.target.session import TargetUnavailable

    def broken(session: Any, stop: Any) -> None:
        raise TargetUnavailable("target failed to restart: port 8080 in use")
    monkeypatch.setattr(drive_mod, "restart", broken)
    spec = _spec(tmp_path)
    first = _run(0, np.random.default_rng(2), 1.5, PROBE_NS * 2)
    d, _ = _driving(spec, ["the regression gate was FAIL on it while ..."])
    with pytest.raises(TargetUnavailable):  # drive_spec says the target failed, as before
        _judged_run(d, _Executor([]), _UNMANAGED, spec.profiles[0], first)  # type: ignore[arg-type]
    assert [(e.id, e.run, e.role.set_aside) for e in d.runs] == [("baseline", first, "")]
    assert d.primary is first
    assert any(m.startswith("baseline not measured again") for m in d.messages)


def test_a_ctrl_c_while_the_history_is_asked_leaves_the_run_judged(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    run = _run(0, np.random.default_rng(2), 1.0, PROBE_NS)

    def interrupted(_: RunResult) -> str:
        raise KeyboardInterrupt
    d = _Driving(SpecPlan(spec, (), ()), 0.0, remeasure=interrupted)
    with pytest.raises(KeyboardInterrupt):
        _judged_run(d, _Executor([]), _UNMANAGED, spec.profiles[0], run)  # type: ignore[arg-type]
    assert d.primary is run and [e.id for e in d.runs] == ["baseline"]


def _second(k: int, scale: float, probe_ns: int) -> RunResult:
    """A second measurement (``MEASURED_AGAIN``), ``scale`` times slower, probe at ``probe_ns``."""
    run = _run(k, np.random.default_rng(20 + k), scale, probe_ns)
    return dataclasses.replace(run, extra={**run.extra, MEASURED_AGAIN: "the gate was FAIL ..."})


def test_a_second_fail_on_a_machine_still_slower_is_invalid_in_apply_and_compare(
        seeded: Spec, capsys: pytest.CaptureFixture[str]) -> None:
    """Twice the code and the machine could not be told apart: INVALID (exit 3), which
    blocks as a FAIL does but says to re-run, not to roll back; ``compare`` judges the
    stored run the same way, because the history keeps why it was measured again."""
    from engine.gates.evaluate import exit_code

    store = open_store(seeded)
    assert isinstance(store, HistoryStore)
    with store:
        result = _apply(seeded, _second(5, 1.5, PROBE_NS * 8 // 5), store)
    reg = result.analysed.regression
    assert reg is not None and reg.status is Status.INVALID
    assert any(c.status is Status.FAIL for c in reg.checks)  # what each check measured stands
    assert reg.note.startswith("cannot tell the code from the machine: measured twice")
    assert "60% slower" in reg.note
    gate = next(g for g in result.judgement.gates if g.kind == "regression")
    assert gate.status is Status.INVALID and gate.message == reg.note
    assert exit_code([gate.status]) == 3
    # said as re-run, never as a regression to roll back
    assert reg.note in result.analysed.messages
    assert not any("regression detected" in m for m in result.analysed.messages)
    from engine.gates.narrative import next_steps
    from engine.report import junit
    from engine.report.assemble import spec_report
    from engine.report.document import new_document

    assert any(s.startswith("Re-run when the machine is at its usual speed")
               for s in next_steps(result.driven, result.analysed))
    # an invalid run of another profile (a stress step) is said too, and hides nothing
    entry = result.driven.runs[-1]
    broken = dataclasses.replace(entry.run, validity=dataclasses.replace(entry.run.validity,
                                                                         valid=False))
    both = next_steps(dataclasses.replace(result.driven, runs=(
        *result.driven.runs, dataclasses.replace(entry, run=broken))), result.analysed)
    assert any(s.startswith("Re-run when the machine is at its usual speed") for s in both)
    assert any(s.startswith("Re-run on a quieter generator") for s in both)
    doc = new_document([spec_report(result)], verdict="INVALID", exit_code=3)
    assert doc["specs"][0]["regression"]["notes"] == [reg.note]
    assert doc["specs"][0]["regression"]["invalid_cause"] == "machine-slower"
    from engine.report.document import validate_document
    assert validate_document(doc) == []
    doc["specs"][0]["regression"]["invalid_cause"] = "slower"  # the schema names the causes
    assert validate_document(doc)
    doc["specs"][0]["regression"]["invalid_cause"] = "machine-slower"
    assert 'type="MachineSlower"' in junit.render(doc)
    doc["specs"][0]["regression"]["invalid_cause"] = "run-invalid"  # the label is the field's
    assert 'type="MachineSlower"' not in junit.render(doc)
    assert 'type="RunInvalid"' in junit.render(doc)
    compare_says_invalid(result, seeded, reg.note, capsys)


def compare_says_invalid(result: Any, spec: Spec, note: str,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """``compare`` replays the stored run of ``result`` (a SpecResult) as apply judged it:
    INVALID with ``note`` alone, exit 3 with ``--gate``."""
    capsys.readouterr()
    run_id, db = str(result.recorded.history_ids[0]), spec.history.path
    assert _cli("compare", run_id, "--json", "--db", db) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "INVALID" and doc["notes"] == [note]
    assert _cli("compare", run_id, "--gate", "--db", db) == 3  # as apply exits
    assert capsys.readouterr().out.count("cannot tell the code from the machine") == 1


def test_a_second_fail_at_the_usual_speed_or_a_first_fail_on_a_slow_machine_stands(
        seeded: Spec) -> None:
    store = open_store(seeded)
    assert isinstance(store, HistoryStore)
    with store:
        usual = _apply(seeded, _second(5, 1.5, PROBE_NS), store).analysed.regression
        first = _apply(seeded, _run(6, np.random.default_rng(26), 1.5, PROBE_NS * 2),
                       store).analysed.regression
        passed = _apply(seeded, _second(7, 1.0, PROBE_NS * 2), store).analysed.regression
    assert usual is not None and usual.status is Status.FAIL  # the machine is cleared: the code
    assert first is not None and first.status is Status.FAIL and first.machine_note  # said beside
    assert passed is not None and passed.status is Status.PASS  # nothing hidden by the machine


def test_an_error_fail_of_a_second_measurement_stands_on_a_slower_machine(
        seeded: Spec) -> None:
    """A slower CPU explains slower responses, not failed ones: errors FAIL as they are."""
    from tests.support.runs import lognormal_ns, make_run

    rng = np.random.default_rng(31)
    run = make_run({"lookup": lognormal_ns(rng, 4000, 0.02 * 1.5, 0.02),
                    "signup": lognormal_ns(rng, 1000, 0.03 * 1.5, 0.03)}, 10.0,
                   errors={"lookup": 400})  # 8% errors, and slower
    extra = {**_second(5, 1.0, PROBE_NS * 2).extra}  # the probe 100% slower, measured again
    run = dataclasses.replace(run, started_at=1.8e9 + 300.0, extra=extra)
    store = open_store(seeded)
    assert isinstance(store, HistoryStore)
    with store:
        reg = _apply(seeded, run, store).analysed.regression
    assert reg is not None and reg.speed is not None and reg.speed.slower
    assert any(c.metric == "error_rate" and c.status is Status.FAIL for c in reg.checks)
    assert reg.status is Status.FAIL and reg.messages  # said as the regression it is
