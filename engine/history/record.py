"""Record stage and the history reads apply needs: baseline selection, regression, guards.

History problems (unwritable path, locked or corrupt DB) never crash apply: the
regression gate says INCONCLUSIVE with the reason and the run still reports.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from engine.analysis.regression import Guard, check_regressions
from engine.history.baseline import select_baseline
from engine.history.changepoint import changepoint_views
from engine.history.fingerprint import git_info, host_fingerprint
from engine.history.guards import load_guards, save_guards
from engine.history.store import HistoryError, HistoryStore
from engine.records import SpecOutcome
from engine.result import RunResult, Status
from engine.spec.model import DEFAULT_MIN_EFFECT_S, Spec


def _tolerances(spec: Spec) -> tuple[dict[str, float] | None, float]:
    """The regression gate's tolerances and minimum effect (defaults when it has none)."""
    gate = next((g for g in spec.gates if g.kind == "regression"), None)
    if gate is None:
        return None, DEFAULT_MIN_EFFECT_S
    return (dict(gate.tolerances) if gate.tolerances else None), gate.min_effect_s


def regression(outcome: SpecOutcome, store: HistoryStore) -> None:
    """Select the baseline and compare the primary run against it (plus kept guards)."""
    spec, run = outcome.spec, outcome.primary
    if run is None:
        return
    selection = select_baseline(store, spec.name, run.profile, spec.history.baseline,
                                host_fingerprint(), now=run.started_at)
    outcome.baseline_selection = selection
    journeys: list[str | None] = [None, *(j.name for j in spec.journeys)] \
        if len(spec.journeys) > 1 else [None]
    guards = load_guards(_guard_path(spec), spec.name)
    tolerances, min_effect = _tolerances(spec)
    outcome.regression = check_regressions([run], list(selection.runs), tolerances, journeys,
                                           guards, min_effect_s=min_effect)
    for message in outcome.regression.messages:
        outcome.message(message)
    views = changepoint_views(store, spec.name, profile=run.profile)
    outcome.changepoints = [c.to_doc() for v in views for c in v.changepoints]


def record(outcome: SpecOutcome, store: HistoryStore, new_guards: Sequence[Guard]) -> None:
    """Store every run of the spec with the spec's verdict; keep confirmed guards."""
    spec = outcome.spec
    fingerprint, git = host_fingerprint(), git_info()
    for _, run in outcome.runs:
        run_id = store.begin_run(spec.name, spec.source_text_hash, run.profile, run.kind,
                                 run.variant, fingerprint, git, started_at=run.started_at)
        store.finish_run(run_id, run, run_verdict(outcome, run))
        outcome.history_ids.append(run_id)
    if new_guards:
        save_guards(_guard_path(spec), spec.name, new_guards)


def run_verdict(outcome: SpecOutcome, run: RunResult) -> str:
    """What the history keeps for a run: PASS makes it eligible as a future baseline.

    INCONCLUSIVE gates (no baseline yet on a first run) must not disqualify it, or the
    regression gate could never get a baseline; a failed gate or an invalid run does.
    """
    if run.aborted or outcome.interrupted:
        return str(Status.ABORTED)
    if not run.validity.valid:
        return str(Status.INVALID)
    if any(g.status in (Status.FAIL, Status.INVALID) for g in outcome.gates):
        return str(Status.FAIL)
    return str(Status.PASS)


def _guard_path(spec: Spec) -> Path:
    return Path(spec.history.path).with_suffix(".guards.json")


def open_store(spec: Spec) -> HistoryStore | str:
    """The spec's history store, or the reason it cannot be opened."""
    try:
        Path(spec.history.path).parent.mkdir(parents=True, exist_ok=True)
        return HistoryStore(spec.history.path)
    except (OSError, sqlite3.Error, HistoryError) as exc:
        return f"history unavailable at {spec.history.path}: {exc}"
