"""Choose the baseline a run is compared against, and judge the flow's step-1 criterion.

Modes (``BaselinePolicy.mode``): ``window`` - every eligible run that started within
``window_s`` (default 7 days) before now; ``last`` - the ``last`` most recent eligible
runs; ``pinned`` - the runs pinned under a name (``perfopt-engine baseline pin``).
Eligible: same spec, profile and variant, status COMPLETE, verdict PASS, valid, and made
on this host fingerprint unless ``policy.other_hosts`` (the count left out is reported,
never silently dropped).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from engine.history.fingerprint import HostFingerprint
from engine.history.store import HistoryStore, StoredRun
from engine.result import RunResult, Status
from engine.spec.model import BaselinePolicy

__all__ = [
    "BASELINE_VERDICTS",
    "JUDGED_KEY",
    "NOISE_RUNS",
    "REQUIRED_DAYS",
    "WINDOW_GRACE_S",
    "BaselineSelection",
    "baseline_criterion",
    "select_baseline",
]

NOISE_RUNS = 20
"""At most this many earlier runs beyond the baseline inform the between-run noise."""
JUDGED_KEY = "regression_gate"
"""The key of the judged run's metadata that holds what the gate judged it with
(engine.history.regression.judged_doc)."""
DAY_S = 86400.0
REQUIRED_DAYS = 7.0
"""The flow's step-1 criterion: "baseline metrics collected for at least 7 days"."""
WINDOW_GRACE_S = 3600.0
"""Slack for start-time jitter: a nightly job that ran 7 days and 5 minutes ago still
belongs to a 7-day window, and a baseline reaching back 6 days 23.5 hours counts as 7."""
BASELINE_VERDICTS = frozenset({"PASS"})
"""Only passing runs become a baseline: a failed or inconclusive run would let a
regression slip into the reference it is judged against."""


@dataclass(frozen=True)
class BaselineSelection:
    """The runs chosen as the baseline and how far back they reach.

    ``days_spanned`` is (evaluated_at - oldest run start) in days, 0 when empty: how long
    the baseline has been collected for, up to the run being judged.
    """

    run_ids: tuple[int, ...]
    runs: tuple[RunResult, ...]
    mode: str
    days_spanned: float
    count: int
    pinned: str | None
    hosts_excluded: int
    """Eligible runs left out because they were made on another host fingerprint."""
    evaluated_at: float
    """Unix seconds the selection was made for (the current run's start, or now)."""
    oldest_at: float | None = None
    newest_at: float | None = None
    note: str = ""
    """Why the selection is empty or smaller than asked, '' otherwise."""
    commits: tuple[str, ...] = ()
    """The git commits the baseline runs were made from, oldest first (runs made outside a
    repository have none): the start of a regression's commit range."""
    noise_run_ids: tuple[int, ...] = ()
    noise_runs: tuple[RunResult, ...] = ()
    """Earlier eligible runs beyond the baseline (newest first, at most NOISE_RUNS): the
    regression gate's drift estimate uses their spread, not their values."""

    def to_doc(self) -> dict[str, Any]:
        """The report's ``regression.baseline`` object (docs/REPORT_FORMAT.md)."""
        return {"mode": self.mode, "runs": self.count, "days": round(self.days_spanned, 3),
                "pinned": self.pinned, "hosts_excluded": self.hosts_excluded,
                "noise_runs": len(self.noise_run_ids)}


def select_baseline(store: HistoryStore, spec_name: str, profile: str,
                    policy: BaselinePolicy, fingerprint: HostFingerprint, *,
                    now: float | None = None, variant: str = "",
                    exclude: Collection[int] = ()) -> BaselineSelection:
    """Pick the baseline runs for ``spec_name``/``profile`` under ``policy``.

    ``now`` (Unix s, default the wall clock) is the end of the window; ``exclude`` lists
    run ids never to use (the current run, when it is already recorded).
    """
    at = time.time() if now is None else now
    if policy.mode == "pinned":
        stored, note = _pinned_candidates(store, spec_name, profile, policy.pinned)
    else:
        since = at - policy.window_s - WINDOW_GRACE_S if policy.mode == "window" else None
        stored = store.runs(spec_name, None, profile=profile, status="COMPLETE", since=since)
        note = ""
    stored = [r for r in stored if _eligible(r, variant, exclude) and r.started_at <= at]
    same_host = [r for r in stored if policy.other_hosts or r.host == fingerprint.hash]
    if policy.mode == "last":
        same_host = same_host[:max(0, policy.last)]
    selection = _selection(store, same_host, policy, at, len(stored) - len(same_host), note)
    return _with_noise_runs(store, selection, spec_name, profile, policy, fingerprint,
                            variant, exclude)


def _with_noise_runs(store: HistoryStore, selection: BaselineSelection, spec_name: str,
                     profile: str, policy: BaselinePolicy, fingerprint: HostFingerprint,
                     variant: str, exclude: Collection[int]) -> BaselineSelection:
    """The selection with up to NOISE_RUNS other complete runs (same spec, profile, variant
    and host; not in the baseline; started before the run judged) for the drift estimate.
    Whatever their verdict: a baseline keeps only passing runs so a regression cannot
    become the reference, but leaving failed runs out of the noise would cut the spread
    off at the top (a false alarm's run would never count), and a regressed run can only
    widen the interval (a far one among 10+ latency runs by at most 3.5 robust sd:
    engine.analysis.blocks.tamed). Not a run the gate judged INVALID: measured twice on a
    disturbed machine (a slower probe or a late generator, the second time too), so the
    engine itself said it cannot tell that run's code from its machine; its spread is the
    disturbance's, which the next disturbed run's own re-measure answers, and as noise it
    widened every later interval (``_disturbed_twice``). The runs left out are replaced by
    older ones, up to NOISE_RUNS."""
    taken = set(selection.run_ids) | set(exclude)
    before = selection.evaluated_at
    stored = store.runs(spec_name, None, profile=profile, status="COMPLETE")
    earlier = (r for r in stored if r.variant == variant and r.id not in taken
               and r.started_at <= before
               and (policy.other_hosts or r.host == fingerprint.hash))
    kept = _noise(store, earlier)
    return replace(selection, noise_run_ids=tuple(i for i, _ in kept),
                   noise_runs=tuple(res for _, res in kept))


def _noise(store: HistoryStore, earlier: Iterable[StoredRun]) -> list[tuple[int, RunResult]]:
    """The newest NOISE_RUNS of ``earlier`` that are valid and not ``_disturbed_twice``."""
    kept: list[tuple[int, RunResult]] = []
    for run in earlier:
        if len(kept) == NOISE_RUNS:
            break
        if _disturbed_twice(store, run.id):
            continue
        result = store.load_result(run.id)
        if result.validity.valid:
            kept.append((run.id, result))
    return kept


def _disturbed_twice(store: HistoryStore, run_id: int) -> bool:
    """Whether apply's regression gate judged the stored run INVALID. A valid run's gate is
    INVALID only when it was measured again on a disturbed machine and disturbed again
    (engine.analysis.regression; an invalid run is left out by its validity anyway)."""
    doc = store.run_meta(run_id).get(JUDGED_KEY)
    return isinstance(doc, dict) and doc.get("status") == str(Status.INVALID)


def _eligible(run: StoredRun, variant: str, exclude: Collection[int]) -> bool:
    return (run.status == "COMPLETE" and run.variant == variant and run.id not in exclude
            and (run.verdict or "").upper() in BASELINE_VERDICTS)


def _pinned_candidates(store: HistoryStore, spec_name: str, profile: str,
                       name: str | None) -> tuple[list[StoredRun], str]:
    pin = store.pinned(name) if name else None
    if pin is None:
        return [], f"no baseline pinned as {name!r}" if name else "pinned mode without a name"
    runs = [store.get(i) for i in pin.run_ids]
    fitting = [r for r in runs if r.spec == spec_name and r.profile == profile]
    note = "" if len(fitting) == len(runs) else (
        f"{len(runs) - len(fitting)} pinned run(s) belong to another spec or profile")
    return sorted(fitting, key=lambda r: -r.started_at), note


def _selection(store: HistoryStore, chosen: Sequence[StoredRun], policy: BaselinePolicy,
               at: float, excluded: int, note: str) -> BaselineSelection:
    loaded = [(r, store.load_result(r.id)) for r in chosen]
    kept = [(r, res) for r, res in loaded if res.validity.valid]
    starts = [r.started_at for r, _ in kept]
    if not kept and not note:
        note = "no eligible runs in history"
    return BaselineSelection(
        run_ids=tuple(r.id for r, _ in kept), runs=tuple(res for _, res in kept),
        mode=policy.mode, days_spanned=(at - min(starts)) / DAY_S if starts else 0.0,
        count=len(kept), pinned=policy.pinned if policy.mode == "pinned" else None,
        hosts_excluded=excluded, evaluated_at=at, oldest_at=min(starts, default=None),
        newest_at=max(starts, default=None), note=note,
        commits=tuple(r.git_commit for r, _ in sorted(kept, key=lambda k: k[0].started_at)
                      if r.git_commit))


def baseline_criterion(selection: BaselineSelection) -> tuple[Status, str]:
    """Step 1's "baseline metrics collected for at least 7 days": PASS only when at least
    two baseline runs reach back >= 7 days (less one hour of grace); else INCONCLUSIVE
    with what the baseline does span. Never FAIL: missing history is not a slowdown."""
    text = _describe(selection)
    enough = selection.days_spanned * DAY_S >= REQUIRED_DAYS * DAY_S - WINDOW_GRACE_S
    if selection.count >= 2 and enough:
        return Status.PASS, text
    need = "at least 2 runs" if selection.count < 2 else f"{REQUIRED_DAYS:g} days"
    return Status.INCONCLUSIVE, f"{text}; needs {need}"


def _describe(sel: BaselineSelection) -> str:
    if sel.count == 0:
        head = f"no baseline runs ({sel.note or 'none eligible'})"
    else:
        head = (f"baseline of {sel.count} run(s) spans {sel.days_spanned:.1f} days "
                f"({_day(sel.oldest_at)} to {_day(sel.newest_at)})")
    parts = [head, f"mode {sel.mode}" + (f" {sel.pinned!r}" if sel.pinned else "")]
    if sel.hosts_excluded:
        parts.append(f"{sel.hosts_excluded} run(s) from another host excluded")
    if sel.note and sel.count:
        parts.append(sel.note)
    return ", ".join(parts)


def _day(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
