"""``perfopt-engine run URL|demo``: a quick one-off load test without a spec file.

The flags become a spec (engine.commands.quick_spec), checked by the same loader as a
file, run by the same engine and reported like ``apply``; ``--save FILE`` writes that
spec so the quick test can become a committed one (``perfopt-engine apply FILE``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from engine.commands import apply
from engine.commands.quick_spec import (
    DEFAULT_DURATION,
    DEFAULT_RATE,
    FlagError,
    QuickFlags,
    QuickSpec,
    build_quick_spec,
    flag_error,
)
from engine.live.options import add_live_arguments
from engine.plan import plan_spec
from engine.redact import ALWAYS_SECRET
from engine.result import ExitCode
from engine.spec.lint import spec_warnings
from engine.spec.loader import load_text
from engine.spec.model import Spec

EXIT_USAGE = ExitCode.SPEC_INVALID
DESCRIPTION = f"""\
A quick load test of one URL (or the embedded demo service) without writing a spec.

With neither --rate nor --vus it is an open model at {DEFAULT_RATE} for {DEFAULT_DURATION}.
The flags are checked like a spec file (bad values: exit 2), the run is reported like
apply's (same reports, gates and exit codes), and --save FILE writes the spec it used:
`perfopt-engine apply FILE` runs the same test again.

examples:
  perfopt-engine run demo
  perfopt-engine run http://127.0.0.1:8080/health --rate 100/s --duration 30s --slo "p95<200ms"
  perfopt-engine run http://127.0.0.1:8080/api --vus 10 --slo "errors<1%" --save specs/api.yaml
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("target", nargs="?", default=None, metavar="URL|demo",
                        help="the URL to load (scheme, host, port, path), or demo")
    parser.add_argument("--demo", action="store_true", help="target the embedded demo service")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--rate", default=None,
                       help=f"open model: arrivals per second, e.g. 100/s (default {DEFAULT_RATE})")
    shape.add_argument("--vus", default=None, help="closed model: this many virtual users")
    parser.add_argument("--duration", default=DEFAULT_DURATION,
                        help=f"how long to drive load (default {DEFAULT_DURATION})")
    parser.add_argument("--slo", action="append", default=[], metavar="SLO",
                        help='an objective like "p95<200ms", "errors<1%%" or "throughput>=50/s" '
                             "(repeatable); each becomes an SLO the slo gate judges")
    parser.add_argument("--method", default="GET", help="HTTP method (default GET)")
    parser.add_argument("--header", action="append", default=[], metavar='"NAME: VALUE"',
                        help="a request header (repeatable)")
    parser.add_argument("--name", default=None,
                        help="the spec's name (default quick-HOST-PORT, or quick-demo)")
    parser.add_argument("--save", default=None, metavar="FILE",
                        help="write the spec this run used (apply FILE reproduces it)")
    parser.add_argument("--out", default=None, help="report folder (default reports/)")
    parser.add_argument("--format", action="append", default=[],
                        choices=["markdown", "md", "json", "html", "junit"],
                        help="report formats (default markdown, json, html, junit)")
    parser.add_argument("--no-history", action="store_true", help="neither read nor write history")
    parser.add_argument("--quiet", action="store_true", help="no live progress")
    parser.add_argument("--max-run-time", type=float, default=None, metavar="SECONDS",
                        help="hard wall-clock bound on the load run")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, send no load")
    add_live_arguments(parser)


def run(args: argparse.Namespace) -> int:
    checked = _spec(args)
    if checked is None:
        return EXIT_USAGE
    quick, spec = checked
    if args.save:
        problem = _save(args.save, quick, spec)
        if problem:
            print(f"perfopt-engine run: --save {problem}; nothing was run", file=sys.stderr)
            return EXIT_USAGE
    for warning in spec_warnings(spec):  # they name a line of the flags' spec: drop it
        print(re.sub(r"^<run flags>:\d+(:\d+)?: ", "perfopt-engine run: ", warning),
              file=sys.stderr)
    plans = [plan_spec(spec, None, hypotheses=False)]
    if args.dry_run:
        from engine.plan import render_plan

        print(render_plan(plans))
        return 0
    return apply.run_plans(_apply_args(args), plans)


def _flags(args: argparse.Namespace) -> QuickFlags:
    target = "demo" if args.demo else args.target
    if target is None:
        raise FlagError("expected a URL or demo (see perfopt-engine run --help)")
    if args.demo and args.target not in (None, "demo"):
        raise FlagError(f"expected either --demo or a URL, not both ({args.target!r})")
    return QuickFlags(target, args.rate, args.vus, args.duration, list(args.slo), args.method,
                      list(args.header), args.name, args.out)


def _spec(args: argparse.Namespace) -> tuple[QuickSpec, Spec] | None:
    """The flags as a checked spec, or None after printing every problem."""
    try:
        quick = build_quick_spec(_flags(args))
    except FlagError as exc:
        print(f"perfopt-engine run: {exc}\n1 problem(s); nothing was run", file=sys.stderr)
        return None
    specs, errors = load_text(quick.text, "<run flags>", Path.cwd())
    for error in errors:
        print(f"perfopt-engine run: {flag_error(error, quick.origins)}", file=sys.stderr)
    if errors or not specs:
        print(f"{len(errors)} problem(s); nothing was run", file=sys.stderr)
        return None
    return quick, specs[0]


def _save(file: str, quick: QuickSpec, spec: Spec) -> str:
    """Write the spec atomically; a problem to report, or ''."""
    from engine.files import atomic_write

    head = ("# Written by `perfopt-engine run`; run the same test again with "
            f"`perfopt-engine apply {file}`.\n")
    for step in spec.journeys[0].steps:
        for name, value in step.headers.items():
            if name.lower() in ALWAYS_SECRET and "${" not in value:
                print(f"warning: --save writes the {name} header's value into {file} as given; "
                      f"pass it as '${{VAR}}' to keep the secret out of the file", file=sys.stderr)
    try:
        atomic_write(file, head + quick.text)
    except OSError as exc:
        return f"{file}: cannot write: {exc.strerror or exc}"
    print(f"spec written: {file}", file=sys.stderr)
    return ""


def _apply_args(args: argparse.Namespace) -> argparse.Namespace:
    """apply's options for the one quick spec (no hypotheses, every gate)."""
    return argparse.Namespace(
        paths=[], dry_run=False, profile=[], no_hypotheses=True, gate=[], format=args.format,
        out=args.out, no_history=args.no_history, quiet=args.quiet,
        max_run_time=args.max_run_time, stream=args.stream, metrics_port=args.metrics_port,
        metrics_host=args.metrics_host)
