"""``perfopt-engine validate [PATH ...]``: check specs, print every problem, exit 2 if any."""

from __future__ import annotations

import argparse
import sys

from engine.result import ExitCode
from engine.spec.loader import load_paths

EXIT_INVALID = ExitCode.SPEC_INVALID


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["specs/"],
                        help="spec files or folders (default: specs/)")


def run(args: argparse.Namespace) -> int:
    result = load_paths(list(args.paths))
    for error in result.errors:
        print(error, file=sys.stderr)
    if result.errors:
        print(f"{len(result.errors)} problem(s) in {len(result.files) or len(args.paths)} "
              f"file(s)", file=sys.stderr)
        return EXIT_INVALID
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    for spec in result.specs:
        kinds = ", ".join(p.kind for p in spec.profiles)
        print(f"ok  {spec.source}  {spec.name} ({spec.trigger}; {len(spec.journeys)} journeys, "
              f"{len(spec.slos)} SLOs, profiles: {kinds}, {len(spec.hypotheses)} hypotheses)")
    print(f"{len(result.specs)} spec(s) valid in {len(result.files)} file(s)")
    return 0
