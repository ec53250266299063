"""Record stage and the history reads apply needs: baseline selection, regression, guards.

The analysis stage reads (``read_history``) before gating; the record stage writes
(``record_runs``) after, with the gates' verdict.

History problems (unwritable path, locked or corrupt DB) never crash apply: the
regression gate says INCONCLUSIVE with the reason and the run still reports.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.analysis.disturbance import disturbance
from engine.analysis.regression import Guard, RegressionResult, judge_regression
from engine.gates.evaluate import decides_exit
from engine.history.baseline import BaselineSelection, select_baseline
from engine.history.changepoint import changepoint_views
from engine.history.fingerprint import git_info, host_fingerprint
from engine.history.guards import save_guards
from engine.history.regression import guard_path, judged_doc, regression_settings
from engine.history.store import HistoryError, HistoryStore
from engine.records import Analysed, Driven, GateResult, Recorded, Remeasure
from engine.redact import redact
from engine.result import RunResult, Status
from engine.spec.model import Spec
from engine.spec.secrets import literal_secrets


@dataclass(frozen=True)
class HistoryFindings:
    """What the history says about the primary run: its baseline, the regression check
    against it (plus kept guards), and the change points of the profile's history."""

    selection: BaselineSelection | None = None
    regression: RegressionResult | None = None
    changepoints: tuple[dict[str, Any], ...] = ()


def read_history(spec: Spec, run: RunResult, store: HistoryStore) -> tuple[HistoryFindings, str]:
    """The findings, and '' or the message saying why the history could not be read (what
    was read before the fault is kept)."""
    found = HistoryFindings()
    try:
        selection, here = _judging(spec, run, store)
        found = HistoryFindings(selection)
        found = replace(found, regression=_regression(spec, here, selection))
        views = changepoint_views(store, spec.name, profile=run.profile)
        return replace(found, changepoints=tuple(c.to_doc() for v in views
                                                 for c in v.changepoints)), ""
    except (sqlite3.Error, HistoryError, OSError) as exc:
        return found, f"history not updated: {exc}"


def _judging(spec: Spec, run: RunResult,
             store: HistoryStore) -> tuple[BaselineSelection, RunResult]:
    """The history's baseline for ``run``, and the run with its host as a stored run says."""
    host = host_fingerprint()
    selection = select_baseline(store, spec.name, run.profile, spec.history.baseline, host,
                                now=run.started_at)
    return selection, replace(run, extra={**run.extra, "host": host.hash})


def remeasure(spec: Spec, selected: Sequence[str] = ()) -> Remeasure | None:
    """The drive stage's question about the baseline run (engine.drive._judged_run) when a
    regression gate of the spec decides the exit (``selected``: apply's --gate names or
    kinds; none: all): '' to judge it, else why to measure it once more. Once more when the
    gate would not PASS it (FAIL or INCONCLUSIVE) while the machine was disturbed
    (``RegressionResult.disturbance``): it ran its fixed probe slower than during the
    baseline runs and the target's own Server-Timing work, where it reports any, showed it
    (engine.analysis.machine_speed), or our generator ran late (engine.analysis.generator_lag).
    A result that may be the machine's is measured again rather than blamed on the code or
    left undecided, and the second run is judged whatever it shows: a real regression still
    fails, or is INVALID on a machine disturbed again. The judgement is ``read_history``'s;
    the machine is looked at first, so a run on a quiet machine costs one baseline read."""
    if not any(g.kind == "regression" and decides_exit(g, selected) for g in spec.gates):
        return None

    def ask(run: RunResult) -> str:
        store = open_store(spec)
        if isinstance(store, str):
            return ""
        with store:
            return _why_again(spec, run, store)
    return ask


def _why_again(spec: Spec, run: RunResult, store: HistoryStore) -> str:
    try:
        selection, here = _judging(spec, run, store)
        if not disturbance([here], selection.runs).why:
            return ""
        result = _regression(spec, here, selection)
    except (sqlite3.Error, HistoryError, OSError):
        return ""  # the analysis reads the history again and says what failed
    if result.status not in (Status.FAIL, Status.INCONCLUSIVE):
        return ""  # the judged result asked the same disturbance() of the same runs
    return f"the regression gate was {result.status} on it while {result.disturbance}"


def _regression(spec: Spec, run: RunResult, selection: BaselineSelection) -> RegressionResult:
    """The regression gate's check, by the function ``compare`` calls on the stored runs."""
    return judge_regression([run], list(selection.runs), regression_settings(spec),
                            selection.noise_runs)


def record_runs(driven: Driven, gates: Sequence[GateResult], store: HistoryStore,
                new_guards: Sequence[Guard], analysed: Analysed | None = None) -> Recorded:
    """Store every run of the spec with its verdict, and with the primary run what the
    regression gate judged it with (``analysed``), so ``compare`` can repeat it; keep
    confirmed guards. A history fault is said, and the runs stored before it are kept."""
    spec = driven.spec
    ids: list[int] = []
    try:
        fingerprint, git = host_fingerprint(), git_info()
        for entry in driven.runs:
            run = entry.run
            run_id = store.begin_run(spec.name, spec.source_text_hash, run.profile, run.kind,
                                     run.variant, fingerprint, git, started_at=run.started_at)
            primary = run is driven.primary  # the gates judge the primary run
            store.finish_run(run_id, _without_secrets(run, spec),
                             run_verdict(run, gates if primary else (),
                                         set_aside=bool(entry.role.set_aside)),
                             extra=_judged(analysed) if primary else None)
            ids.append(run_id)
        if new_guards:
            save_guards(guard_path(spec), spec.name, new_guards)
    except (sqlite3.Error, HistoryError, OSError) as exc:
        return Recorded(tuple(ids), (f"history not updated: {exc}",))
    return Recorded(tuple(ids))


def _without_secrets(run: RunResult, spec: Spec) -> RunResult:
    """The run as the history keeps it: its text (target URL, abort reason, validity
    reasons and notes) without the spec's secrets (engine.spec.secrets)."""
    values = literal_secrets(spec, os.environ)

    def clean(text: str) -> str:
        cleaned: str = redact(text, spec.secrets, values)
        return cleaned

    validity = replace(run.validity, reasons=tuple(map(clean, run.validity.reasons)),
                       notes=tuple(map(clean, run.validity.notes)))
    return replace(run, target_url=clean(run.target_url), abort_reason=clean(run.abort_reason),
                   validity=validity)


def run_verdict(run: RunResult, gates: Sequence[GateResult], set_aside: bool = False) -> str:
    """What the history keeps for a run: PASS makes it eligible as a future baseline.

    INCONCLUSIVE gates (no baseline yet on a first run) must not disqualify it, or the
    regression gate could never get a baseline; a failed gate or an invalid run does.
    The verdict is the run's own (issue #14): ``gates`` are those that judged this run (the
    spec's primary run; none for stress steps and the like), and a run that finished whole
    before a Ctrl-C stopped a later one is not ABORTED: only ``run.aborted`` says so. A run
    ``set_aside`` (measured again on a disturbed machine, engine.drive._judged_run) was never
    judged: INCONCLUSIVE, never a baseline.
    """
    if run.aborted:
        return str(Status.ABORTED)
    if not run.validity.valid:
        return str(Status.INVALID)
    if set_aside:
        return str(Status.INCONCLUSIVE)
    if any(g.status in (Status.FAIL, Status.INVALID) for g in gates):
        return str(Status.FAIL)
    return str(Status.PASS)


def _judged(analysed: Analysed | None) -> dict[str, Any] | None:
    if analysed is None or analysed.regression is None or analysed.baseline_selection is None:
        return None
    return judged_doc(analysed.baseline_selection, analysed.regression)


def open_store(spec: Spec) -> HistoryStore | str:
    """The spec's history store, or the reason it cannot be opened."""
    try:
        Path(spec.history.path).parent.mkdir(parents=True, exist_ok=True)
        return HistoryStore(spec.history.path)
    except (OSError, sqlite3.Error, HistoryError) as exc:
        return f"history unavailable at {spec.history.path}: {exc}"
