"""Baseline selection: window arithmetic, last N, pins, host exclusion, step-1 criterion."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.analysis.regression import RegressionResult
from engine.history.baseline import (
    NOISE_RUNS,
    BaselineSelection,
    baseline_criterion,
    select_baseline,
)
from engine.history.regression import judged_doc
from engine.history.store import HistoryStore
from engine.result import Status
from engine.spec.model import BaselinePolicy
from tests.support.history import DAY, GIT, HOST, OTHER_HOST, SPEC, add_runs, history_run

NOW = 1.8e9
WINDOW = BaselinePolicy()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "history.db") as s:
        yield s


def _select(store: HistoryStore, policy: BaselinePolicy = WINDOW,
            **kw: object) -> BaselineSelection:
    return select_baseline(store, SPEC, "baseline", policy, HOST, now=NOW, **kw)  # type: ignore[arg-type]


def test_window_keeps_runs_within_seven_days_plus_grace(store: HistoryStore) -> None:
    inside = add_runs(store, [7 + 0.5 / 24, 3, 0.1], now=NOW)  # 7 d 30 min: within grace
    outside = add_runs(store, [7 + 2 / 24, 30], now=NOW)  # 7 d 2 h and a month: outside
    sel = _select(store)
    assert sorted(sel.run_ids) == sorted(inside)
    assert sel.count == 3 and len(sel.runs) == 3
    assert sel.days_spanned == pytest.approx(7 + 0.5 / 24)
    assert sel.noise_run_ids == tuple(outside)  # older runs inform the noise only, newest first
    assert sel.to_doc() == {"mode": "window", "runs": 3, "days": pytest.approx(7.021, abs=1e-3),
                            "pinned": None, "hosts_excluded": 0, "noise_runs": 2}


def test_window_length_follows_the_policy(store: HistoryStore) -> None:
    add_runs(store, [1, 2.5, 4], now=NOW)
    sel = _select(store, BaselinePolicy(window_s=3 * DAY))
    assert sel.count == 2 and sel.days_spanned == pytest.approx(2.5)


def test_runs_after_the_evaluation_time_are_not_a_baseline(store: HistoryStore) -> None:
    add_runs(store, [-1, 1], now=NOW)  # one "tomorrow": a later run replayed against older
    assert _select(store).count == 1


def test_last_n_takes_the_most_recent_passing_runs(store: HistoryStore) -> None:
    ids = add_runs(store, [40, 30, 20, 10, 5], now=NOW)
    failed = add_runs(store, [1], now=NOW, verdict="FAIL")
    unsure = add_runs(store, [2], now=NOW, verdict="INCONCLUSIVE")
    sel = _select(store, BaselinePolicy(mode="last", last=3))
    assert sel.run_ids == (ids[4], ids[3], ids[2])
    assert sel.days_spanned == pytest.approx(20)
    # the noise: every other complete run, newest first, whatever its verdict (leaving
    # failed runs out would cut the spread off at the top); never the baseline's own runs
    assert sel.noise_run_ids == (failed[0], unsure[0], ids[1], ids[0])


def test_unfinished_aborted_and_invalid_runs_are_never_a_baseline(store: HistoryStore) -> None:
    good = add_runs(store, [2], now=NOW)
    store.begin_run(SPEC, "h", "baseline", "baseline", "", HOST, GIT, started_at=NOW - DAY)
    store.record(SPEC, "h", history_run(3, started_at=NOW - DAY, aborted=True), "PASS",
                 HOST, GIT)
    assert _select(store).run_ids == tuple(good)


def test_other_profile_variant_and_excluded_ids_are_left_out(store: HistoryStore) -> None:
    ids = add_runs(store, [1, 2], now=NOW)
    add_runs(store, [1], now=NOW, profile="stress")
    candidate = history_run(5, started_at=NOW - DAY)
    store.record(SPEC, "h", dataclasses.replace(candidate, variant="candidate"), "PASS",
                 HOST, GIT)
    assert _select(store, exclude={ids[0]}).run_ids == (ids[1],)


def test_other_host_is_excluded_by_default_and_counted(store: HistoryStore) -> None:
    mine = add_runs(store, [1, 2], now=NOW)
    theirs = add_runs(store, [1.5], now=NOW, host=OTHER_HOST)
    sel = _select(store)
    assert sorted(sel.run_ids) == sorted(mine) and sel.hosts_excluded == 1
    both = _select(store, BaselinePolicy(other_hosts=True))
    assert set(both.run_ids) == {*mine, *theirs} and both.hosts_excluded == 0
    _, evidence = baseline_criterion(sel)
    assert "1 run(s) from another host excluded" in evidence


def test_pinned_baseline_is_honoured_even_when_newer_runs_exist(store: HistoryStore) -> None:
    old = add_runs(store, [60, 59], now=NOW)
    add_runs(store, [1, 2, 3], now=NOW)
    store.pin("release-1.0", old)
    sel = _select(store, BaselinePolicy(mode="pinned", pinned="release-1.0"))
    assert set(sel.run_ids) == set(old)
    assert sel.pinned == "release-1.0" and sel.to_doc()["pinned"] == "release-1.0"


def test_pinned_runs_of_another_profile_are_noted(store: HistoryStore) -> None:
    stress = add_runs(store, [1], now=NOW, profile="stress")
    store.pin("p", stress)
    sel = _select(store, BaselinePolicy(mode="pinned", pinned="p"))
    assert sel.count == 0 and "another spec or profile" in sel.note


def test_missing_pin_gives_an_empty_selection_with_a_reason(store: HistoryStore) -> None:
    sel = _select(store, BaselinePolicy(mode="pinned", pinned="nope"))
    assert sel.count == 0 and "no baseline pinned as 'nope'" in sel.note
    status, evidence = baseline_criterion(sel)
    assert status is Status.INCONCLUSIVE and "nope" in evidence


def test_criterion_passes_only_when_runs_reach_back_seven_days(store: HistoryStore) -> None:
    add_runs(store, [6.5, 3, 1], now=NOW)
    status, evidence = baseline_criterion(_select(store))
    assert status is Status.INCONCLUSIVE
    assert "3 run(s) spans 6.5 days" in evidence and "needs 7 days" in evidence
    add_runs(store, [7 - 0.5 / 24], now=NOW, seed0=9)  # 6 d 23.5 h: within the grace
    status, evidence = baseline_criterion(_select(store))
    assert status is Status.PASS, evidence


def test_criterion_needs_more_than_one_run(store: HistoryStore) -> None:
    add_runs(store, [7], now=NOW)
    status, evidence = baseline_criterion(_select(store))
    assert status is Status.INCONCLUSIVE and "at least 2 runs" in evidence


def test_empty_history_is_inconclusive_not_fail(store: HistoryStore) -> None:
    status, evidence = baseline_criterion(_select(store))
    assert status is Status.INCONCLUSIVE and "no eligible runs" in evidence


def test_a_run_judged_invalid_for_a_disturbed_machine_is_not_noise(store: HistoryStore) -> None:
    """A run measured twice on a disturbed machine (its gate INVALID) is stored FAIL: no
    baseline, but it stayed in the drift estimate. In the power benchmark such a seed run
    (p95 21.5 ms among runs at 10-12 ms) widened the next reps' intervals to -69%..+429%.
    A run whose gate simply FAILed stays: its spread is the service's. The judgement is
    stored as apply stores it (``judged_doc``), and a run left out is replaced by an older
    one up to NOISE_RUNS."""
    ids = add_runs(store, [5 + k / 100 for k in range(NOISE_RUNS + 1)], now=NOW)  # newest first
    kept = []
    for k, status in enumerate((Status.INVALID, Status.FAIL)):
        run = history_run(90 + k, started_at=NOW - (3 - k) * DAY)
        run_id = store.begin_run(SPEC, "hash1", run.profile, run.kind, run.variant, HOST, GIT,
                                 started_at=run.started_at)
        judged = judged_doc(_select(store), RegressionResult(status, (), ()))
        store.finish_run(run_id, run, "FAIL", extra=judged)
        kept.append(run_id)
    sel = _select(store, BaselinePolicy(mode="last", last=1))
    assert sel.run_ids == (ids[0],)
    assert sel.noise_run_ids == (kept[1], *ids[1:NOISE_RUNS])  # ids[19] took the left-out place
