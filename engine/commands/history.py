"""``perfopt-engine history|baseline|compare``: read the run history, pin baselines, compare.

    perfopt-engine history [SPEC] [--db PATH]      runs with key metrics and verdicts
    perfopt-engine history show RUN                one run in detail
    perfopt-engine baseline pin NAME [RUN...]      pin runs (default: latest passing run)
    perfopt-engine baseline list | unpin NAME
    perfopt-engine compare RUN_A RUN_B             per-SLI change, intervals, gate verdict
    perfopt-engine compare RUN                     RUN against the baseline apply judged it on

SPEC is a spec name, or a spec file/folder (its name and ``history.path`` are used).
The database is ``--db``, else the spec's history path, else .perfopt/history.db.
Exit codes: 0 ok; 1 ``compare --gate`` found a regression; 2 usage error, unknown run,
missing or unreadable database; 3 ``compare --gate`` on a gate that is INVALID, as apply's.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.commands import history_views as views
from engine.history.fingerprint import host_fingerprint
from engine.history.store import HistoryError, HistoryStore, StoredRun
from engine.result import RunResult
from engine.spec.model import HistorySettings

__all__ = ["add_arguments", "register", "run", "run_baseline", "run_compare"]

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_INVALID = 0, 1, 2, 3
DEFAULT_DB = HistorySettings().path
Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad arguments found after parsing (unknown spec path, nothing to pin...)."""


def _run_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a run id (a positive integer; see `perfopt-engine history`)")
    return int(text)


def _run_ids(text: str) -> tuple[int, ...]:
    """'3' or '3,4,5' -> (3, 4, 5)."""
    return tuple(_run_id(part.strip()) for part in text.split(","))


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH",
                        help=f"history database (default: the spec's history.path, else "
                             f"{DEFAULT_DB})")


def register(subparsers: Any) -> None:
    """Add the ``history``, ``baseline`` and ``compare`` parsers to the CLI's subparsers.

    A name already present (a lazy CLI's one-line placeholder) is left alone, so the CLI
    can register only the command it is about to run."""
    for name, build in (("history", _history_parser), ("baseline", _baseline_parser),
                        ("compare", _compare_parser)):
        if name not in subparsers.choices:
            build(subparsers)


def _history_parser(subparsers: Any) -> None:
    h = subparsers.add_parser("history", help="list stored runs, or show one",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(h)
    h.set_defaults(func=run)


def _baseline_parser(subparsers: Any) -> None:
    b = subparsers.add_parser("baseline", help="pin, list and unpin named baselines",
                              description="Named baselines a spec can select with "
                                          "history.baseline.name.")
    _baseline_arguments(b)
    b.set_defaults(func=run_baseline)


def _compare_parser(subparsers: Any) -> None:
    c = subparsers.add_parser("compare", help="compare two stored runs with confidence "
                                              "intervals")
    _compare_arguments(c)
    c.set_defaults(func=run_compare)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``history``: ``[SPEC]``, or ``show RUN``."""
    parser.add_argument("spec", nargs="?", metavar="SPEC",
                        help="spec name or spec file/folder; or the word 'show'")
    parser.add_argument("run_id", nargs="?", type=_run_id, metavar="RUN",
                        help="with 'show': the run to show")
    parser.add_argument("--profile", help="only runs of this load profile")
    parser.add_argument("--limit", type=int, default=30, help="newest N runs (default 30)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _db_option(parser)


def _baseline_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    pin = actions.add_parser("pin", help="pin runs as a named baseline")
    pin.add_argument("name", metavar="NAME")
    pin.add_argument("run_ids", nargs="*", type=_run_id, metavar="RUN",
                     help="runs to pin (default: the latest COMPLETE run with verdict PASS)")
    pin.add_argument("--spec", help="with no RUN: latest passing run of this spec")
    pin.add_argument("--profile", help="with no RUN: latest passing run of this profile")
    _db_option(pin)
    listing = actions.add_parser("list", help="list pinned baselines")
    _db_option(listing)
    unpin = actions.add_parser("unpin", help="remove a pinned baseline")
    unpin.add_argument("name", metavar="NAME")
    _db_option(unpin)


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", type=_run_ids, metavar="RUN_A",
                        help="baseline run(s), e.g. 3 or 3,4,5; alone: the current run, "
                             "judged against the baseline apply judged it on")
    parser.add_argument("run_b", type=_run_id, nargs="?", metavar="RUN_B", help="current run")
    parser.add_argument("--tolerance", action="append", default=[], metavar="METRIC=FRACTION",
                        help="override a tolerance, e.g. p95=0.2 (repeatable)")
    parser.add_argument("--gate", action="store_true",
                        help="exit 1 when the regression gate would fail")
    parser.add_argument("--json", action="store_true", help="print the regression document")
    _db_option(parser)


def _guarded(handler: Handler) -> Handler:
    """Turn history and usage errors into a message and exit code 2: never a traceback."""
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (HistoryError, UsageError, sqlite3.DatabaseError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    wrapper.__doc__ = handler.__doc__
    return wrapper


def _open(db: str) -> HistoryStore:
    path = Path(db)
    if not path.exists():
        raise HistoryError(f"no history database at {path} (runs are recorded there by "
                           "`perfopt-engine apply`; pass --db PATH to read another)")
    return HistoryStore(path, create=False)


def _resolve_spec(arg: str | None, db: str | None) -> tuple[list[str], str]:
    """(spec names to list, database path) from SPEC and --db."""
    if arg is None or not Path(arg).exists():
        return ([arg] if arg else []), db or DEFAULT_DB
    from engine.spec.loader import load_paths

    loaded = load_paths([arg])
    if loaded.errors or not loaded.specs:
        detail = "; ".join(str(e) for e in loaded.errors[:3]) or "no specs found"
        raise UsageError(f"cannot read spec {arg}: {detail}")
    return [s.name for s in loaded.specs], db or loaded.specs[0].history.path


@_guarded
def run(args: argparse.Namespace) -> int:
    """``history [SPEC]`` or ``history show RUN``."""
    if args.spec == "show":
        if args.run_id is None:
            raise UsageError("history show needs a RUN id")
        return _show(args.run_id, args.db or DEFAULT_DB)
    if args.run_id is not None:
        raise UsageError(f"unexpected argument {args.run_id} (did you mean `history show "
                         f"{args.run_id}`?)")
    names, db = _resolve_spec(args.spec, args.db)
    with _open(db) as store:
        runs = _list(store, names, args.profile, args.limit)
        if args.json:
            print(json.dumps([views.doc_of_run(r) for r in runs], indent=2))
        elif not runs:
            print(f"no runs{' of ' + ', '.join(names) if names else ''} in {db}")
        else:
            print(views.runs_table(runs, host_fingerprint().hash, store.pins()))
            for name in names:
                _print_changes(store, name, args.profile or "baseline")
    return EXIT_OK


def _print_changes(store: HistoryStore, spec: str, profile: str) -> None:
    from engine.history.changepoint import changepoint_views

    text = views.changepoints_text(spec, profile, changepoint_views(store, spec,
                                                                     profile=profile))
    if text:
        print()
        print(text)


def _list(store: HistoryStore, names: Sequence[str], profile: str | None,
          limit: int) -> list[StoredRun]:
    if not names:
        return store.runs(None, limit, profile=profile)
    runs = [r for n in names for r in store.runs(n, limit, profile=profile)]
    return sorted(runs, key=lambda r: (-r.started_at, -r.id))[:limit]


def _show(run_id: int, db: str) -> int:
    with _open(db) as store:
        stored = store.get(run_id)
        print(views.run_details(stored, _result_or_none(store, stored),
                                host_fingerprint().hash, store.pins()))
    return EXIT_OK


def _result_or_none(store: HistoryStore, stored: StoredRun) -> RunResult | None:
    """The stored results, or None for a run that never produced any."""
    if stored.status == "RUNNING":
        return None
    try:
        return store.load_result(stored.id)
    except HistoryError:
        return None


@_guarded
def run_baseline(args: argparse.Namespace) -> int:
    """``baseline pin|list|unpin``."""
    with _open(args.db or DEFAULT_DB) as store:
        if args.action == "list":
            pins = store.pins()
            runs = {i: store.get(i) for p in pins for i in p.run_ids}
            print(views.pins_table(pins, runs) if pins else "no pinned baselines")
        elif args.action == "unpin":
            if not store.unpin(args.name):
                raise UsageError(f"no baseline pinned as {args.name!r}")
            print(f"unpinned {args.name}")
        else:
            ids = list(args.run_ids) or [_latest_passing(store, args.spec, args.profile)]
            pin = store.pin(args.name, ids)
            print(f"pinned {pin.name}: run(s) {', '.join(str(i) for i in pin.run_ids)}")
    return EXIT_OK


def _latest_passing(store: HistoryStore, spec: str | None, profile: str | None) -> int:
    for r in store.runs(spec, None, profile=profile, status="COMPLETE"):
        if (r.verdict or "").upper() == "PASS":
            return r.id
    raise UsageError("no COMPLETE run with verdict PASS to pin; name the RUN ids")


def _tolerances(items: Sequence[str]) -> dict[str, float]:
    """``p95=0.2`` or ``p95=20%`` -> {"p95": 0.2}."""
    out: dict[str, float] = {}
    for item in items:
        name, _, text = item.partition("=")
        scale = 100.0 if text.strip().endswith("%") else 1.0
        try:
            out[name.strip()] = float(text.strip().rstrip("%")) / scale
        except ValueError:
            raise UsageError(f"--tolerance {item!r}: expected METRIC=FRACTION, e.g. p95=0.2 "
                             "or p95=20%") from None
        if not name.strip():
            raise UsageError(f"--tolerance {item!r}: missing the metric name")
    return out


@_guarded
def run_compare(args: argparse.Namespace) -> int:
    """``compare RUN_A RUN_B``: the regression gate's checks of B against baseline A, with
    the settings apply judged B with (engine/history/regression.py); ``compare RUN``: RUN
    against the baseline apply judged it on. Both call the gate apply calls."""
    from engine.history.regression import recheck

    tolerances = _tolerances(args.tolerance)
    if args.run_b is None and len(args.run_a) > 1:
        raise UsageError("compare RUN takes one run; for several baseline runs: "
                         "compare RUN_A,RUN_A2 RUN_B")
    current_id = args.run_a[0] if args.run_b is None else args.run_b
    baseline_ids = () if args.run_b is None else args.run_a
    with _open(args.db or DEFAULT_DB) as store:
        checked = recheck(store, current_id, baseline_ids, tolerances)
        base = [store.get(i) for i in checked.baseline_run_ids]
        current = store.get(current_id)
    if args.json:
        print(json.dumps(checked.result.to_doc(checked.baseline), indent=2))
    else:
        print(views.compare_text(base, current, checked, host_fingerprint().hash,
                                 overridden=bool(tolerances)))
    codes = {"FAIL": EXIT_REGRESSION, "INVALID": EXIT_INVALID}  # apply's, for the same gate
    return codes.get(str(checked.result.status), EXIT_OK) if args.gate else EXIT_OK
