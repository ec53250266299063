"""The regression gate over stored runs: what apply judged a run with, and judging it again.

apply (engine/history/record.py) judges its primary run against the history's baseline with
``regression_settings(spec)`` and stores the baseline run ids and those settings with the
run (``judged_doc``). ``recheck`` (the ``compare`` command) loads the same runs and settings
and calls the same ``engine.analysis.regression.judge_regression``: on the same runs the two
cannot disagree. A run apply did not judge (a stress step, a run recorded by hand) is judged
with the default settings: DEFAULT_TOLERANCES, the default minimum effect, the pooled
journeys plus each journey when there are several, and no guards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.analysis.regression import (
    RegressionResult,
    RegressionSettings,
    journeys_checked,
    judge_regression,
)
from engine.history.baseline import JUDGED_KEY, BaselineSelection
from engine.history.guards import load_guards
from engine.history.store import HistoryError, HistoryStore
from engine.spec.model import Spec

__all__ = ["JUDGED_KEY", "Judged", "Recheck", "guard_path", "judged", "judged_doc", "recheck",
           "regression_settings"]


def guard_path(spec: Spec) -> Path:
    """The guards file beside the spec's history database."""
    return Path(spec.history.path).with_suffix(".guards.json")


def regression_settings(spec: Spec) -> RegressionSettings:
    """The spec's regression gate settings (defaults when it has no regression gate) and the
    guards its confirmed hypotheses left."""
    gate = next((g for g in spec.gates if g.kind == "regression"), None)
    guards = tuple(load_guards(guard_path(spec), spec.name))
    journeys = journeys_checked([j.name for j in spec.journeys])
    if gate is None:
        return RegressionSettings(journeys=journeys, guards=guards)
    return RegressionSettings(dict(gate.tolerances), gate.min_effect_s, journeys, guards)


def judged_doc(selection: BaselineSelection, result: RegressionResult) -> dict[str, Any]:
    """What to store with the run the gate judged: the baseline, the settings, the status."""
    settings = result.settings or RegressionSettings()
    return {JUDGED_KEY: {"baseline_run_ids": list(selection.run_ids),
                         "noise_run_ids": list(selection.noise_run_ids),
                         "baseline": selection.to_doc(), "settings": settings.to_doc(),
                         "status": str(result.status)}}


@dataclass(frozen=True)
class Judged:
    """What apply judged a stored run with, and the status it got."""

    baseline_run_ids: tuple[int, ...]
    baseline: Mapping[str, Any]
    settings: RegressionSettings
    status: str
    noise_run_ids: tuple[int, ...] = ()
    """The earlier runs whose spread informed the drift estimate (none before they were kept)."""


def judged(store: HistoryStore, run_id: int) -> Judged | None:
    """What apply's regression gate judged run ``run_id`` with; None when it judged none.
    A stored record that cannot be read is a HistoryError: repeating the judgement with
    default settings (no guards) could pass where apply failed."""
    doc = store.run_meta(run_id).get(JUDGED_KEY)
    if doc is None:
        return None
    try:
        return Judged(tuple(int(i) for i in doc["baseline_run_ids"]), dict(doc["baseline"]),
                      RegressionSettings.from_doc(doc["settings"]), str(doc["status"]),
                      tuple(int(i) for i in doc.get("noise_run_ids", ())))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HistoryError(f"run {run_id}: the stored regression judgement is unreadable "
                           f"({exc!r})") from exc


@dataclass(frozen=True)
class Recheck:
    """The gate's result on stored runs, the baseline used, and what apply had judged."""

    result: RegressionResult
    baseline_run_ids: tuple[int, ...]
    baseline: Mapping[str, Any]
    judged: Judged | None


def recheck(store: HistoryStore, current_id: int, baseline_ids: Sequence[int] = (),
            tolerances: Mapping[str, float] | None = None) -> Recheck:
    """Judge run ``current_id`` against ``baseline_ids`` (default: the baseline apply judged
    it against) with the settings apply used (defaults for a run apply did not judge) and
    ``tolerances`` overriding some of them."""
    found = judged(store, current_id)
    if not baseline_ids and found is None:
        raise HistoryError(f"run {current_id} was not judged against a baseline by apply; "
                           "name the baseline run(s): compare RUN_A RUN_B")
    current = store.load_result(current_id)
    settings = found.settings if found else RegressionSettings(
        journeys=journeys_checked([j.name for j in current.journeys]))
    ids = tuple(baseline_ids) or (found.baseline_run_ids if found else ())
    same = found is not None and set(ids) == set(found.baseline_run_ids)
    if found is not None and same:
        ids = found.baseline_run_ids  # apply's order: the runs are pooled in it
    noise = found.noise_run_ids if found is not None and same else ()
    result = judge_regression([current], [store.load_result(i) for i in ids],
                              settings.overridden(tolerances or {}),
                              [store.load_result(i) for i in noise])
    baseline = dict(found.baseline) if found and same else {
        "mode": "run", "runs": len(ids), "days": 0.0, "pinned": None, "hosts_excluded": 0,
        "noise_runs": 0}
    return Recheck(result, ids, baseline, found)
