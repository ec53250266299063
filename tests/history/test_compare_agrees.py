"""``compare`` and apply's regression gate are one function on the same runs (issue #14).

`compare 1 7` said PASS where the apply that made run 7 said INCONCLUSIVE: compare checked
the pooled journeys only, against one run, with the default tolerances and no guards, while
apply checked every journey against the history's baseline with the spec's tolerances and
the kept guards. Here runs are recorded through the real analyse/judge/record path and
`compare` must repeat each apply's per-metric statuses and verdict exactly.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.regression import Guard, RegressionResult
from engine.commands import history as cmd
from engine.history.fingerprint import host_fingerprint
from engine.history.guards import save_guards
from engine.history.record import open_store
from engine.history.regression import guard_path, judged
from engine.history.store import HistoryStore
from engine.pipeline import analyse, judge, record
from engine.plan import SpecPlan
from engine.records import Driven, RunEntry, RunRole
from engine.result import RunResult
from engine.spec.loader import load_text
from engine.spec.model import Spec
from engine.units import Comparison
from tests.support.runs import lognormal_ns, make_run
from tests.support.specs import VALID

GATE = "gates:\n  - {name: regression, kind: regression, tolerances: {p95: 5%}, min_effect: 0ms}\n"


def _spec(tmp_path: Path) -> Spec:
    specs, errors = load_text(VALID + GATE + f"history: {{path: {tmp_path / 'h.db'}}}\n")
    assert not errors, errors
    return specs[0]


def _run(k: int, rng: np.random.Generator, scale: float = 1.0) -> RunResult:
    """lookup with plenty of requests, signup with too few for its p99 (a per-journey
    INCONCLUSIVE the pooled check cannot see); each run a few ms longer (throughput moves
    by ~0.03%, which used to read 'significant')."""
    drift = float(np.exp(rng.normal(0.0, 0.03))) * scale
    run = make_run({"lookup": lognormal_ns(rng, 4000, 0.02 * drift),
                    "signup": lognormal_ns(rng, 400, 0.03 * drift)}, duration_s=10.0 + 0.003 * k)
    return dataclasses.replace(run, started_at=1.8e9 + 60.0 * k)


def _apply(spec: Spec, run: RunResult, store: HistoryStore) -> tuple[int, RegressionResult]:
    """One apply of ``run`` through the pipeline's analyse, judge and record stages."""
    entry = RunEntry("baseline", RunRole("baseline", "baseline"), run)
    driven = Driven(spec, SpecPlan(spec, (), ()), run.started_at, (entry,), run)
    analysed = analyse(driven, store)
    judgement = judge(driven, analysed)
    recorded = record(driven, judgement, store, analysed)
    assert analysed.regression is not None and len(recorded.history_ids) == 1
    gate = next(g for g in judgement.gates if g.kind == "regression")
    assert gate.status == analysed.regression.status
    return recorded.history_ids[0], analysed.regression


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="perfopt-engine")
    cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def _statuses(checks: list[dict[str, object]]) -> dict[tuple[object, object, object], object]:
    return {(c["metric"], c["journey"], c["tolerance"]): c["status"] for c in checks}


def _compare_json(capsys: pytest.CaptureFixture[str], db: str, *ids: str) -> dict[str, object]:
    capsys.readouterr()
    assert cli("compare", *ids, "--json", "--db", db) == 0
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    return doc


@pytest.fixture
def applied(tmp_path: Path) -> tuple[Spec, list[tuple[int, RegressionResult]]]:
    """Five applies of one spec: each judged against the runs before it (the first against
    none); a kept guard that is deleted afterwards (compare must still use it)."""
    spec = _spec(tmp_path)
    guard = Guard("p95", "lookup", Comparison("<=", 1.0, "<= 1s"), "H1: lookup p95 <= 1s")
    save_guards(guard_path(spec), spec.name, [guard])
    rng = np.random.default_rng(7)
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    with store:
        out = [_apply(spec, _run(k, rng, 1.3 if k == 4 else 1.0), store) for k in range(5)]
    guard_path(spec).unlink()
    return spec, out


def test_compare_repeats_every_applys_checks_and_verdict(
        applied: tuple[Spec, list[tuple[int, RegressionResult]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    spec, results = applied
    for run_id, result in results:
        doc = _compare_json(capsys, spec.history.path, str(run_id))
        expected = result.to_doc({})["checks"]
        assert _statuses(doc["checks"]) == _statuses(expected)  # type: ignore[arg-type]
        assert doc["status"] == str(result.status)
        assert [c["change"] for c in doc["checks"]] == [  # type: ignore[attr-defined]
            c["change"] for c in expected]
    statuses = [str(r.status) for _, r in results]
    assert statuses[0] == "INCONCLUSIVE"  # a first run has no baseline
    assert statuses[4] == "FAIL"  # 30% slower than runs 1-4


def test_compare_checks_each_journey_with_the_specs_tolerances_and_guards(
        applied: tuple[Spec, list[tuple[int, RegressionResult]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    spec, results = applied
    run_id, result = results[3]
    with HistoryStore(spec.history.path) as store:
        found = judged(store, run_id)
    assert found is not None and sorted(found.baseline_run_ids) == [1, 2, 3]
    assert found.settings.journeys == (None, "lookup", "signup")
    assert found.settings.tolerances == {"p95": 0.05} and found.settings.min_effect_s == 0.0
    assert [g.source for g in found.settings.guards] == ["H1: lookup p95 <= 1s"]
    doc = _compare_json(capsys, spec.history.path, "1,2,3", str(run_id))
    checks = doc["checks"]
    assert isinstance(checks, list)
    assert _statuses(checks) == _statuses(result.to_doc({})["checks"])
    signup_p99 = next(c for c in checks if c["metric"] == "p99" and c["journey"] == "signup")
    assert signup_p99["status"] == "INCONCLUSIVE"  # 400 requests: too few for a p99
    assert doc["status"] == str(result.status) == "INCONCLUSIVE"
    assert doc["baseline"] == found.baseline


def test_compare_text_says_what_apply_judged_and_when_it_differs(
        applied: tuple[Spec, list[tuple[int, RegressionResult]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    spec, results = applied
    run_id, result = results[3]
    assert cli("compare", str(run_id), "--db", spec.history.path) == 0
    out = capsys.readouterr().out
    assert f"apply judged run {run_id} against baseline run(s) 1, 2, 3: {result.status}" in out
    assert out.rstrip().endswith(f"regression gate verdict: {result.status}")
    assert "other baseline runs" not in out
    tput = next(ln for ln in out.splitlines() if ln.startswith("throughput "))
    assert tput.split()[-2:] == ["no", "PASS"]  # -0.0% is not significant
    assert cli("compare", "1", str(run_id), "--db", spec.history.path) == 0
    assert f"`compare {run_id}` repeats apply's judgement" in capsys.readouterr().out


def test_compare_of_a_run_apply_did_not_judge_needs_a_baseline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.db"
    with HistoryStore(db) as store:
        ids = [store.record("svc", "h", _run(k, np.random.default_rng(k)), "PASS",
                            host_fingerprint(), None) for k in range(2)]
    assert cli("compare", str(ids[1]), "--db", str(db)) == 2
    assert "name the baseline run(s)" in capsys.readouterr().err
    assert cli("compare", str(ids[0]), str(ids[1]), "--db", str(db)) == 0
    out = capsys.readouterr().out
    assert "settings: the defaults" in out
    assert any(ln.startswith("signup p99 ") for ln in out.splitlines())  # per journey too



def test_an_unreadable_stored_judgement_is_an_error_not_the_defaults(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """compare with default settings (no guards) could pass where apply failed."""
    db = tmp_path / "h.db"
    with HistoryStore(db) as store:
        ids = [store.record("svc", "h", _run(k, np.random.default_rng(k)), "PASS",
                            host_fingerprint(), None) for k in range(2)]
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE runs SET meta = ? WHERE id = ?",
                    ('{"regression_gate": {"baseline_run_ids": "x"}}', ids[1]))
    assert cli("compare", str(ids[1]), "--db", str(db)) == 2
    assert "stored regression judgement is unreadable" in capsys.readouterr().err


def test_compare_repeats_apply_with_the_earlier_runs_that_informed_its_noise(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With `last: 2` the runs before the baseline inform the drift estimate: the stored
    judgement names them and `compare` uses the same ones, interval for interval."""
    specs, errors = load_text(VALID + GATE + f"history: {{path: {tmp_path / 'h.db'}, "
                              "baseline: {mode: last, last: 2}}\n")
    assert not errors, errors
    spec, rng = specs[0], np.random.default_rng(11)
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    with store:
        results = [_apply(spec, _run(k, rng), store) for k in range(6)]
        found = judged(store, results[5][0])
    assert found is not None and found.noise_run_ids == (3, 2, 1)  # newest first, not 4, 5
    doc = _compare_json(capsys, spec.history.path, str(results[5][0]))
    expected = results[5][1].to_doc({})["checks"]
    bounds = [(c["ci_low"], c["ci_high"]) for c in doc["checks"]]  # type: ignore[attr-defined]
    assert bounds == [(c["ci_low"], c["ci_high"]) for c in expected]
    p95 = next(c for c in results[5][1].checks if c.metric == "p95" and c.journey is None)
    assert p95.effect is not None and "from 3 earlier runs in history" in p95.effect.method
