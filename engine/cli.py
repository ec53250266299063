"""Command-line entry point: only dispatches to engine.commands.* (one module per subcommand).

Subcommand modules are imported lazily, so `perfopt-engine validate` never pays
for numpy, uvloop or the native extension.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from engine import __version__

# numpy's OpenBLAS starts a spinning thread per core on first use; the engine's arrays are
# small, and those threads took 3-7% of a load run's CPU samples (issue #20's profile)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# name -> (module, one-line help). Modules expose add_arguments(parser) and run(args) -> int,
# except those marked "register" which add their own (sub)parsers.
COMMANDS: dict[str, tuple[str, str]] = {
    "apply": ("engine.commands.apply", "validate specs, drive load, evaluate gates, write reports"),
    "validate": ("engine.commands.validate", "check specs and print every problem with file:line"),
    "run": ("engine.commands.run", "quick load test of a URL or the demo, no spec file needed"),
    "rank": ("engine.commands.rank", "rank the hypotheses by ROI without running load"),
    "report": ("engine.commands.report", "re-render a stored RESULT.json as md/html/junit/json"),
    "history": ("engine.commands.history", "list stored runs, or show one"),
    "baseline": ("engine.commands.history", "pin, list and unpin named baselines"),
    "compare": ("engine.commands.history", "compare two stored runs with confidence intervals"),
    "schema": ("engine.commands.schema", "print the JSON schema of specs (or --report)"),
    "init": ("engine.commands.init", "write a commented starter spec"),
    "demo-target": ("engine.demo.cli", "run the embedded demo service (SQLite-backed API)"),
    "monitor": ("engine.commands.monitor", "production SLO compliance, error budget and burn "
                "rates from Prometheus"),
    "rules": ("engine.commands.rules", "write Prometheus recording and burn-rate alerting rules"),
}
REGISTERING = {"history", "baseline", "compare"}
ALIASES: dict[str, str] = {"plan": "rank"}
"""Old name -> command: ``plan`` ranked by ROI before the name went to the plan stage."""

EPILOG = """\
examples:
  perfopt-engine apply specs/                 run every spec in specs/ (the pre-release gate)
  perfopt-engine apply specs/x.yaml --dry-run print the plan without sending load
  perfopt-engine apply specs/ --scheduler tcp://HOST:8786
                                              drive the load from a Dask cluster's generator hosts
  perfopt-engine validate specs/              check specs; exit 2 with file:line errors
  perfopt-engine run http://127.0.0.1:8080/ --rate 100/s --slo "p95<200ms" --save q.yaml
                                              quick test without a spec (--save writes one)
  perfopt-engine rank specs/                  rank optimizations by ROI (alias: plan)
  perfopt-engine report reports/x.json --format html
  perfopt-engine demo-target --port 8080 --fix index
  perfopt-engine monitor examples/production.yaml   production SLOs from Prometheus (14 days)
  perfopt-engine rules examples/production.yaml     Prometheus recording and alerting rules

exit codes:
  0    every deciding gate passed
  1    a gate failed (SLO breached, regression, refuted hypothesis)
  2    spec invalid or usage error
  3    run invalid (the generator's measurement not trustworthy), target unreachable,
       or reports not written
  130  interrupted (partial results are still written)
"""


def _root_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfopt-engine", description="Declarative performance-optimization engine.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"perfopt-engine {__version__}")
    return parser


def _build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = _root_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name in sub.choices:  # already added by a register() call
            continue
        aliases = [old for old, new in ALIASES.items() if new == name]
        if name != command:
            sub.add_parser(name, help=help_text, aliases=aliases)
            continue
        module = importlib.import_module(module_name)
        if name in REGISTERING:
            module.register(sub)
            continue
        cmd = sub.add_parser(name, help=help_text, description=help_text, aliases=aliases)
        module.add_arguments(cmd)
        cmd.set_defaults(func=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run one subcommand, return its exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    command = ALIASES.get(command or "", command)
    parser = _build_parser(command if command in COMMANDS else None)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(exc.code or 0)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


EXIT_BROKEN_PIPE = 1  # as the Python docs' SIGPIPE recipe does
EXIT_INTERRUPTED = 130


def entry() -> None:
    """Console-script wrapper that exits with main()'s code.

    A reader that goes away early (``perfopt-engine schema | head -1``) ends the
    command quietly: stdout is pointed at devnull so the final flush cannot raise.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    if code == EXIT_INTERRUPTED:
        # Interrupted: reports are written and targets stopped (finally blocks), and the
        # user is waiting; the interpreter's teardown of ~1200 modules takes 0.2-0.4 s.
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
