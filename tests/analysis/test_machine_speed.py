"""The machine ran a fixed probe slower during the current run: said beside the regression
verdict, never judged (issue #14).

On a shared VM the same code sometimes ran ~1.7x slower for seconds, and an A-vs-A gate
FAILED with nothing to tell the reader the machine, not the code, had changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from engine.analysis.machine_speed import (
    MACHINE_SPEED,
    MEASURED_AGAIN,
    PROBE_WORK,
    SLOWER_BY,
    MachineSpeed,
    machine_speed,
    main_component,
    probe_ns,
    target_work,
)
from engine.analysis.regression import RegressionResult, judge_regression
from engine.analysis.regression_settings import RegressionSettings
from engine.result import JourneyResult, RunResult, Status
from tests.support.analysis import sample
from tests.support.runs import drifted_runs, histogram_ns, lognormal_ns

BASE_NS = 500_000


def _probed(run: RunResult, median_ns: float, host: str | None = None) -> RunResult:
    """``run`` with a machine-speed probe summary (and a history host, when given)."""
    extra = {**run.extra, MACHINE_SPEED: {"median_ns": int(median_ns), "work": PROBE_WORK,
                                          "p90_ns": int(median_ns * 1.2), "probes": 6}}
    return dataclasses.replace(run, extra={**extra, **({"host": host} if host else {})})


def _runs(seed: int, count: int, median_s: float = 0.02, drift: float = 0.01
          ) -> list[RunResult]:
    return drifted_runs(np.random.default_rng(seed), count, 4000, median_s=median_s, drift=drift)


def _judge(current: Sequence[RunResult], base: Sequence[RunResult]) -> RegressionResult:
    return judge_regression(current, base, RegressionSettings(), ())


def test_a_slowdown_on_a_slower_machine_says_so_and_still_fails() -> None:
    base = [_probed(r, BASE_NS * f) for r, f in zip(_runs(5, 3), (0.95, 1.0, 1.05), strict=True)]
    slow = _runs(6, 1, median_s=0.03, drift=0.0)
    plain = _judge(slow, base)  # the current run without probes: no figure, same verdict
    result = _judge([_probed(slow[0], BASE_NS * 1.41)], base)
    assert plain.speed is None and plain.machine_note == ""
    assert result.status is plain.status is Status.FAIL  # a slow machine is no excuse
    assert [c.status for c in result.checks] == [c.status for c in plain.checks]
    assert result.messages == plain.messages
    assert result.speed == MachineSpeed(BASE_NS * 1.41, BASE_NS)  # vs the baselines' median
    assert result.speed.slower and abs(result.speed.slowdown - 0.41) < 1e-9
    note = result.machine_note
    assert note.startswith("the machine was slower: it ran a fixed CPU probe 41% slower")
    assert "(0.70 ms vs 0.50 ms median)" in note and result.notes == (note,)
    doc = result.to_doc({})
    assert doc["machine_note"] == note
    assert doc["machine_speed"] == {"current_probe_ns": 705_000, "baseline_probe_ns": 500_000,
                                    "slowdown": 0.41, "probe_slower": True, "slower": True,
                                    "target": None}


def test_the_same_speed_adds_no_note_and_a_pass_is_never_annotated() -> None:
    runs = [_probed(r, BASE_NS) for r in _runs(7, 4)]
    same = _judge(runs[:1], runs[1:])
    assert same.speed is not None and not same.speed.slower and same.machine_note == ""
    just_under = MachineSpeed(BASE_NS * (1 + SLOWER_BY) - 1, BASE_NS)
    assert not just_under.slower and just_under.note == ""
    assert MachineSpeed(BASE_NS * (1 + SLOWER_BY), BASE_NS).slower
    calm = _judge([_probed(runs[0], BASE_NS * 2)], runs[1:])
    assert calm.status is Status.PASS and calm.speed is not None and calm.speed.slower
    assert calm.machine_note == "" and calm.notes == ()  # beside a verdict short of PASS only
    assert calm.to_doc({})["machine_speed"]["slower"] is True


def test_no_figure_without_probes_on_both_sides() -> None:
    runs = _runs(8, 4)
    probed = [_probed(r, BASE_NS) for r in runs]
    assert machine_speed(runs[:1], probed[1:]) is None  # a current run without probes
    assert machine_speed(probed[:1], runs[1:]) is None  # baseline runs recorded before it
    assert machine_speed(probed[:1], probed[1:]) is not None
    broken = dataclasses.replace(runs[0], extra={MACHINE_SPEED: {"median_ns": 0, "probes": 0,
                                                                 "work": PROBE_WORK}})
    assert probe_ns(broken) is None
    # another work's times (the first version's numpy sort) are not this one's
    other = {**probed[0].extra[MACHINE_SPEED], "work": "numpy-sort-16384"}
    unnamed = {k: v for k, v in other.items() if k != "work"}
    assert probe_ns(dataclasses.replace(probed[0], extra={MACHINE_SPEED: other})) is None
    assert probe_ns(dataclasses.replace(probed[0], extra={MACHINE_SPEED: unnamed})) is None
    result = _judge(runs[:1], probed[1:])
    assert result.speed is None and result.to_doc({})["machine_speed"] is None


def test_scale_out_and_remote_runs_follow_the_host_load_rules() -> None:
    """A scale-out run's generators ran elsewhere; a remote target's samples describe its
    machine: neither says how fast this one was (engine.analysis.host_load's rule)."""
    run = _probed(_runs(9, 1)[0], BASE_NS)
    assert probe_ns(run) == BASE_NS
    scaled = dataclasses.replace(run, extra={**run.extra, "hosts": [{"name": "g1"}]})
    remote = dataclasses.replace(run, resources=(dataclasses.replace(sample(1.0), cores=8),))
    local = dataclasses.replace(run, resources=(sample(1.0), sample(2.0)))
    assert probe_ns(scaled) is None and probe_ns(remote) is None and probe_ns(local) == BASE_NS


def test_baseline_runs_from_another_host_are_left_out() -> None:
    runs = _runs(10, 3)
    current = _probed(runs[0], BASE_NS * 1.5, host="aaaa")
    other = _probed(runs[1], BASE_NS * 3, host="bbbb")  # a slower machine altogether
    same = _probed(runs[2], BASE_NS, host="aaaa")
    assert machine_speed([current], [other, same]) == MachineSpeed(BASE_NS * 1.5, BASE_NS)
    assert machine_speed([current], [other]) is None
    unknown = _probed(runs[0], BASE_NS * 1.5)  # a current run with no host: all baselines
    assert machine_speed([unknown], [other, same]) == MachineSpeed(BASE_NS * 1.5, BASE_NS * 2)


def _invalid(run: RunResult) -> RunResult:
    return dataclasses.replace(run, validity=dataclasses.replace(
        run.validity, valid=False, reasons=("generator saturated",)))


def test_invalid_baseline_runs_are_not_the_speed_compared_with() -> None:
    # the checks drop invalid baseline runs; the notes must compare with the same runs
    base = [_probed(r, BASE_NS) for r in _runs(11, 2)]
    slow_but_invalid = [_invalid(_probed(r, BASE_NS * 3)) for r in _runs(12, 2)]
    current = _probed(_runs(13, 1, median_s=0.03, drift=0.0)[0], BASE_NS * 1.1)
    result = _judge([current], [*base, *slow_but_invalid])
    assert result.speed == MachineSpeed(BASE_NS * 1.1, BASE_NS)  # the invalid 3x left out


def test_an_invalid_current_run_gets_no_note() -> None:
    # an INVALID run judged nothing, so nothing is for a slower machine to explain
    base = [_probed(r, BASE_NS) for r in _runs(14, 3)]
    current = _invalid(_probed(_runs(15, 1, median_s=0.03, drift=0.0)[0], BASE_NS * 2))
    result = _judge([current], base)
    assert result.status is Status.INVALID
    assert result.speed is not None and result.speed.slower
    assert result.machine_note == "" and result.notes == (result.note,)  # why INVALID, only


def _timed(run: RunResult, seed: int, db_s: float) -> RunResult:
    """``run`` whose journeys report Server-Timing ``db`` (lognormal, median ``db_s``) and an
    enclosing ``app`` 2 ms longer, as the demo does."""
    rng = np.random.default_rng(seed)

    def timing(j: JourneyResult) -> JourneyResult:
        db = lognormal_ns(rng, 2000, db_s, 0.2)
        return dataclasses.replace(j, server_timing={"db": histogram_ns(db),
                                                     "app": histogram_ns(db + 2_000_000)})
    return dataclasses.replace(run, journeys=tuple(map(timing, run.journeys)))


def _again(run: RunResult) -> RunResult:
    return dataclasses.replace(run, extra={**run.extra, MEASURED_AGAIN: "slower machine"})


def test_a_slower_probe_the_targets_own_work_did_not_show_leaves_the_fail_the_codes() -> None:
    # issue #14: the probe (in the engine's process) read 33-46% slower on nine slowed runs
    # whose p50 moved as the other slowed runs' did; measured twice, they were INVALID
    base = [_timed(_probed(r, BASE_NS), 20 + i, 0.008) for i, r in enumerate(_runs(16, 3))]
    slow = _runs(17, 1, median_s=0.03, drift=0.0)[0]
    unfelt = _again(_timed(_probed(slow, BASE_NS * 1.4), 30, 0.008))
    result = _judge([unfelt], base)
    speed = result.speed
    assert speed is not None and speed.target is not None and speed.target.component == "db"
    assert abs(speed.target.change) < 0.05 and speed.probe_slower and speed.unfelt
    assert not speed.slower and result.status is Status.FAIL  # not INVALID: the code's
    assert "did not reach the target's work" in result.machine_note
    assert "db time (Server-Timing, median 8." in result.machine_note
    doc = result.to_doc({})["machine_speed"]
    assert doc["probe_slower"] is True and doc["slower"] is False
    assert doc["target"]["component"] == "db" and abs(doc["target"]["change"]) < 0.05
    felt = _again(_timed(_probed(slow, BASE_NS * 1.4), 31, 0.0112))  # db +40% too
    again = _judge([felt], base)
    assert again.speed is not None and again.speed.slower and not again.speed.unfelt
    assert again.status is Status.INVALID  # twice slower, and the target felt it
    assert "the target's own db time (Server-Timing) +4" in again.speed.note


def test_the_main_component_is_the_enclosing_time_only_when_it_is_alone() -> None:
    runs = [_timed(r, 40 + i, 0.008) for i, r in enumerate(_runs(18, 2))]
    both = target_work(runs[:1], runs[1:])
    assert both is not None and both.component == "db"
    alone = [dataclasses.replace(r, journeys=tuple(
        dataclasses.replace(j, server_timing={"app": j.server_timing["app"]})
        for j in r.journeys)) for r in runs]
    work = target_work(alone[:1], alone[1:])
    assert work is not None and work.component == "app"
    assert abs(work.baseline_ns - 10_000_000) < 500_000
    bare = _runs(19, 1)  # no Server-Timing: the probe alone decides, as before
    assert target_work(bare, runs) is None and target_work(runs, bare) is None
    assert MachineSpeed(BASE_NS * 1.3, BASE_NS).slower


def _reporting(seed: int, medians_ms: dict[str, float]) -> RunResult:
    """A run whose one journey reports these Server-Timing components (median ms each)."""
    rng = np.random.default_rng(seed)
    run = _runs(seed, 1)[0]
    timing = {k: histogram_ns(lognormal_ns(rng, 2000, ms / 1e3, 0.1) if ms else
                              np.zeros(2000, dtype=np.int64)) for k, ms in medians_ms.items()}
    return dataclasses.replace(run, journeys=(dataclasses.replace(run.journeys[0],
                                                                  server_timing=timing),))


def test_only_the_targets_own_work_of_some_size_speaks_for_it() -> None:
    # /dashboard: its time is a downstream wait (ext) a slower CPU does not lengthen, and
    # its handler's own time is a sliver: no component speaks, the probe alone decides
    dash = [_reporting(50 + i, {"ext": 20.0, "db": 0.0, "app": 20.05}) for i in range(2)]
    assert main_component(dash) is None and target_work(dash[:1], dash[1:]) is None
    # a handler time that covers a tiny cache: the cache is not the target's work
    tiny = [_reporting(52 + i, {"app": 100.0, "cache": 0.05}) for i in range(2)]
    assert main_component(tiny) is None
    # an app time beside db that does not cover it is a component of its own
    sibling = [_reporting(54 + i, {"app": 3.0, "db": 8.0}) for i in range(2)]
    assert main_component(sibling) == "db"
    # a current run whose db reads 0 (every response an error answered before the handler)
    dead = _reporting(56, {"db": 0.0, "app": 0.0})
    lookup = [_reporting(57 + i, {"db": 8.0, "app": 8.2}) for i in range(2)]
    assert main_component(lookup) == "db" and target_work([dead], lookup) is None
