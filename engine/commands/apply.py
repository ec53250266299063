"""``perfopt-engine apply PATH...``: validate, plan, drive, analyse, gate, report, record."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from engine.gates.evaluate import unknown_gate_error
from engine.live.options import add_live_arguments
from engine.plan import PROFILE_CHOICES, SpecPlan, plan_spec, render_plan
from engine.production.shape import resolve_all
from engine.redact import redact
from engine.report.writer import report_dir_problem
from engine.result import ExitCode
from engine.spec.execution import on_scheduler
from engine.spec.loader import load_paths
from engine.spec.model import Spec
from engine.spec.secrets import literal_secrets_of

if TYPE_CHECKING:
    from engine.live.session import Consumer, LiveSession

EXIT_SPEC_INVALID = ExitCode.SPEC_INVALID
EXIT_REPORTS_NOT_WRITTEN = ExitCode.RUN_INVALID  # a passing run without its reports blocks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["specs/"], help="spec files or folders")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, send no load")
    parser.add_argument("--profile", action="append", choices=PROFILE_CHOICES, default=[],
                        help="run these profiles instead of the trigger's default (repeatable)")
    parser.add_argument("--no-hypotheses", action="store_true", help="skip before/after experiments")
    parser.add_argument("--gate", action="append", default=[],
                        help="only these gate names or kinds decide the exit code (repeatable)")
    parser.add_argument("--format", action="append", default=[],
                        choices=["markdown", "md", "json", "html", "junit"],
                        help="report formats (default: the spec's report.formats)")
    parser.add_argument("--out", default=None, help="report folder (default: the spec's report.dir)")
    parser.add_argument("--no-history", action="store_true", help="neither read nor write history")
    parser.add_argument("--quiet", action="store_true", help="no live progress")
    parser.add_argument("--max-run-time", type=float, default=None, metavar="SECONDS",
                        help="hard wall-clock bound on any single load run")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="drive the load from this Dask cluster's generator hosts "
                             "(every spec's execution.engine becomes dask)")
    add_live_arguments(parser)


def run(args: argparse.Namespace) -> int:
    loaded = load_paths(list(args.paths))
    if loaded.errors:
        for error in loaded.errors:
            print(error, file=sys.stderr)
        print(f"{len(loaded.errors)} problem(s); nothing was run", file=sys.stderr)
        return EXIT_SPEC_INVALID
    unknown = unknown_gate_error(loaded.specs, args.gate)
    if unknown:
        print(unknown, file=sys.stderr)
        return EXIT_SPEC_INVALID
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    if args.scheduler:  # apply --scheduler: every spec on that cluster (engine.scale)
        loaded.specs[:] = [on_scheduler(s, args.scheduler) for s in loaded.specs]
    only = set(args.profile) or None
    plans = [plan_spec(s, only, hypotheses=not args.no_hypotheses) for s in loaded.specs]
    if args.dry_run:
        print(_without_secrets(render_plan(plans), loaded.specs))
        return 0
    shaped = resolve_all(loaded.specs)  # from_production load shapes, read now (issue #17)
    if isinstance(shaped, str):
        print(f"{shaped}; nothing was run", file=sys.stderr)
        return ExitCode.RUN_INVALID
    if shaped != loaded.specs:
        loaded.specs[:] = shaped
        plans = [plan_spec(s, only, hypotheses=not args.no_hypotheses) for s in shaped]
    return run_plans(args, plans)


def run_plans(args: argparse.Namespace, plans: list[SpecPlan]) -> int:
    """Drive, judge, report and record already-planned specs with apply's options
    (``perfopt-engine run`` plans its spec from flags, ``monitor --run-flow`` the breached
    specs); the exit code. A problem known before any load is exit 2, nothing run."""
    problem = start_problem(args, [p.spec for p in plans])
    if problem:
        print(f"{problem}; nothing was run", file=sys.stderr)
        return EXIT_SPEC_INVALID
    return _execute(args, plans)


def start_problem(args: argparse.Namespace, specs: list[Spec]) -> str:
    """Why these specs cannot start with apply's options: Dask cannot run them
    (``_cluster_problem``) or the report folder is not writable ('' when they can)."""
    cluster = _cluster_problem(specs, getattr(args, "scheduler", None))
    if cluster or not specs:
        return cluster
    return report_dir_problem(_out_dir(args, specs))


def _execute(args: argparse.Namespace, plans: list[SpecPlan]) -> int:
    # Imported here so validate/--dry-run never load numpy, uvloop or the native extension.
    from engine.driver import ProgressPrinter
    from engine.pipeline import ApplyContext, run_spec
    from engine.target.session import ExecOptions

    stop = threading.Event()
    specs = [p.spec for p in plans]
    names, values = _secret_names(specs), literal_secrets_of(specs, os.environ)
    printer = ProgressPrinter(sys.stderr, quiet=args.quiet, secrets=names, secret_values=values)
    live = _live(args, printer, names, values)
    if isinstance(live, str):
        print(f"{live}; nothing was run", file=sys.stderr)
        return EXIT_SPEC_INVALID
    ctx = ApplyContext(ExecOptions(progress=live.progress, stop=stop,
                                   max_run_s=args.max_run_time),
                       tuple(args.gate), history=not args.no_history)
    results: list[Any] = []
    with _interrupts(stop), contextlib.suppress(KeyboardInterrupt):
        # a repeated Ctrl-C between specs ends the loop; the specs done so far are reported
        try:
            for plan in plans:
                live.progress.set_spec(plan.spec.name)
                results.append(run_spec(plan, ctx))
                if stop.is_set():
                    break
        finally:
            live.close()
    return _finish(args, plans, results)


def _finish(args: argparse.Namespace, plans: list[SpecPlan], results: list[Any]) -> int:
    """Render, write and summarise the specs' results; the exit code."""
    from engine.pipeline import render
    from engine.report.console import render_summary
    from engine.report.summary import append_step_summary

    doc = render(results)
    code = int(doc["exit_code"])
    try:
        written = _write(doc, args, [p.spec for p in plans])
    except OSError as exc:  # the folder was checked before the load; this is a late fault
        print(f"reports not written: {exc.strerror or exc}"
              f"{f' ({exc.filename})' if exc.filename else ''}", file=sys.stderr)
        written, code = [], code or EXIT_REPORTS_NOT_WRITTEN
    append_step_summary(doc, os.environ)
    # with --stream - the JSON lines own stdout; the human summary goes to stderr
    print(render_summary(doc, [str(p) for p in written]),
          file=sys.stderr if getattr(args, "stream", None) == "-" else sys.stdout)
    return code


def _live(args: argparse.Namespace, printer: Consumer, secret_names: list[str],
          secret_values: list[str]) -> LiveSession | str:
    """The live outputs (--stream, --metrics-port) behind one progress callback, opened,
    redacting what the terminal does; or why they could not be (a usage problem: exit 2
    before any load)."""
    from engine.live.session import LiveSession

    live = LiveSession(printer, args, secret_names, secret_values)
    problem = live.open()
    return problem or live


def _cluster_problem(specs: list[Spec], scheduler: str | None) -> str:
    """Why specs with execution engine dask cannot run here: Dask not installed, no
    scheduler, a malformed --scheduler ('' when none asks for Dask, or all is well)."""
    if not any(s.execution.engine == "dask" for s in specs):
        return ""
    if scheduler is not None and not re.fullmatch(r"(tcp|tls)://\S+:\d+", scheduler):
        return f"--scheduler {scheduler!r}: expected a scheduler address like tcp://HOST:8786"
    from engine.scale.errors import dask_missing

    unset = [s.name for s in specs if s.execution.engine == "dask" and not s.execution.scheduler]
    if unset and not os.environ.get("DASK_SCHEDULER_ADDRESS"):
        return (f"spec {unset[0]!r} runs on a Dask cluster but names no scheduler: set "
                "execution.scheduler, --scheduler or $DASK_SCHEDULER_ADDRESS")
    return dask_missing()


def _secret_names(specs: list[Spec]) -> list[str]:
    return sorted({s for spec in specs for s in spec.secrets})


def _without_secrets(text: str, specs: list[Spec]) -> str:
    """``text`` for the terminal: no secret of any spec (engine.spec.secrets) in it."""
    cleaned: str = redact(text, _secret_names(specs), literal_secrets_of(specs, os.environ))
    return cleaned


def _out_dir(args: argparse.Namespace, specs: list[Spec]) -> str:
    return str(args.out or specs[0].report.dir)


def _write(doc: dict[str, Any], args: argparse.Namespace, specs: list[Spec]) -> list[Path]:
    from engine.report.writer import write_documents, write_reports

    formats = args.format or list(specs[0].report.formats)
    secrets, out = _secret_names(specs), _out_dir(args, specs)
    return (write_reports(doc, formats, out, datetime.now(UTC), secrets)
            + write_documents(doc, out, secrets))


@contextmanager
def _interrupts(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM) stops the load gracefully; a second one interrupts at once."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping: finishing in-flight requests (Ctrl-C again to abort now)",
              file=sys.stderr)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
