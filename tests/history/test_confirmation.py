"""The regression gate's ``max_runs`` (issue #14): while it is INCONCLUSIVE on noise, apply
runs the primary profile again and judges the runs pooled, at intervals that pay for the
extra look; the history keeps which runs were judged, and ``compare`` repeats it exactly."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.regression import (
    GATE_CONFIG,
    RegressionSettings,
    judge_regression,
    looks_config,
    undecided,
)
from engine.commands import history as cmd
from engine.history.record import confirmation, open_store
from engine.history.regression import judged
from engine.history.store import HistoryStore
from engine.pipeline import analyse, judge, record
from engine.plan import SpecPlan, plan_spec
from engine.records import Driven, RunEntry, RunRole
from engine.result import RunResult
from engine.spec.loader import load_text
from engine.spec.model import Spec
from tests.support.runs import lognormal_ns, make_run
from tests.support.specs import VALID

GATE = "gates:\n  - {{name: regression, kind: regression, min_effect: 0ms, max_runs: {n}}}\n"


def _spec(tmp_path: Path, max_runs: int = 2) -> Spec:
    text = VALID + GATE.format(n=max_runs) + f"history: {{path: {tmp_path / 'h.db'}}}\n"
    specs, errors = load_text(text)
    assert not errors, errors
    return specs[0]


def _run(k: int, rng: np.random.Generator, scale: float = 1.0) -> RunResult:
    drift = float(np.exp(rng.normal(0.0, 0.03))) * scale
    run = make_run({"lookup": lognormal_ns(rng, 4000, 0.02 * drift),
                    "signup": lognormal_ns(rng, 4000, 0.03 * drift)}, duration_s=10.0)
    return dataclasses.replace(run, started_at=1.8e9 + 60.0 * k)


def _driven(spec: Spec, runs: list[RunResult]) -> Driven:
    entries = tuple(RunEntry("baseline" if i == 0 else f"baseline-{i + 1}",
                             RunRole("baseline", "baseline", round_index=i or None), r)
                    for i, r in enumerate(runs))
    return Driven(spec, SpecPlan(spec, (), ()), runs[0].started_at, entries, runs[0],
                  confirmations=tuple(runs[1:]))


def _apply(spec: Spec, runs: list[RunResult], store: HistoryStore) -> tuple[list[int], str]:
    driven = _driven(spec, runs)
    analysed = analyse(driven, store)
    recorded = record(driven, judge(driven, analysed), store, analysed)
    assert analysed.regression is not None
    assert analysed.regression.current_runs == len(runs)
    return list(recorded.history_ids), str(analysed.regression.status)


def test_each_extra_look_is_paid_for_in_the_intervals() -> None:
    assert looks_config(1) == GATE_CONFIG
    assert looks_config(2).confidence == pytest.approx(0.99)
    assert looks_config(4).confidence == pytest.approx(0.995)


def test_only_noise_is_undecided() -> None:
    """Another run is asked for only where one could decide: not without a baseline, not
    after a FAIL or a PASS; yes when a noisy current run leaves a real shift open."""
    rng = np.random.default_rng(3)
    base = [_run(k, rng) for k in range(4)]
    settings = RegressionSettings(min_effect_s=0.0, max_runs=2)
    nothing = judge_regression([_run(5, rng)], [], settings)
    assert str(nothing.status) == "INCONCLUSIVE" and undecided(nothing) == ()
    assert undecided(judge_regression([_run(5, rng)], base, settings)) == ()  # PASS
    failed = judge_regression([_run(5, rng, scale=1.5)], base, settings)
    assert str(failed.status) == "FAIL" and undecided(failed) == ()
    rng = np.random.default_rng(0)  # p50 10% up, within the runs' drift: not significant
    base = [_run(k, rng) for k in range(4)]
    noisy = judge_regression([_run(5, rng, scale=1.1)], base, settings)
    assert str(noisy.status) == "INCONCLUSIVE" and undecided(noisy) == ("p50",)


def test_confirmation_is_asked_only_of_a_gate_that_may_look_again_and_decides(
        tmp_path: Path) -> None:
    assert confirmation(_spec(tmp_path, max_runs=1)) is None
    assert confirmation(_spec(tmp_path), ("slo",)) is None  # --gate slo: not the regression's
    asked = confirmation(_spec(tmp_path), ("regression",))
    assert asked is not None and asked.max_runs == 2
    assert asked.undecided([_run(0, np.random.default_rng(1))]) == ""  # no history: no baseline


def test_the_plan_counts_the_extra_runs(tmp_path: Path) -> None:
    one = plan_spec(_spec(tmp_path, max_runs=1))
    three = plan_spec(_spec(tmp_path, max_runs=3))
    step = next(s for s in three.steps if s.kind == "profile")
    assert "up to 3 runs while the regression gate is undecided" in step.description
    single = next(s for s in one.steps if s.kind == "profile").est_seconds
    assert three.est_seconds - one.est_seconds == pytest.approx(2 * (single + 1))


def test_a_max_runs_outside_a_regression_gate_is_an_error() -> None:
    bad = VALID + "gates:\n  - {name: s, kind: slo, max_runs: 2}\n"
    _, errors = load_text(bad)
    assert any("max_runs is a regression gate's setting" in str(e) for e in errors)


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="perfopt-engine")
    cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_two_judged_runs_are_stored_judged_and_compared_together(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both current runs carry the gate's verdict (a FAIL keeps both out of later
    baselines), the judged run names both, and `compare` judges the same two."""
    spec, rng = _spec(tmp_path), np.random.default_rng(5)
    store = open_store(spec)
    assert isinstance(store, HistoryStore)
    with store:
        for k in range(4):
            _apply(spec, [_run(k, rng)], store)
        ids, status = _apply(spec, [_run(4, rng, 1.3), _run(5, rng, 1.3)], store)
        found = judged(store, ids[0])
        verdicts = [store.get(i).verdict for i in ids]
    assert status == "FAIL" and verdicts == ["FAIL", "FAIL"]
    assert found is not None and found.current_run_ids == tuple(ids)
    assert found.settings.max_runs == 2
    capsys.readouterr()
    assert cli("compare", str(ids[0]), "--json", "--db", spec.history.path) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == status and doc["current_runs"] == 2
