"""``perfopt-engine rules [PATH ...]``: Prometheus recording and alerting rules for every
production SLO (issue #17). Prints the rule file, or writes it with --out; exit 2 when no
spec has production SLIs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.commands.specs import load_or_report
from engine.production.rules import rule_groups, to_yaml
from engine.result import ExitCode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["specs/"],
                        help="spec files or folders (default: specs/)")
    parser.add_argument("--out", metavar="FILE", help="write the rule file here (default: "
                        "print it)")


def run(args: argparse.Namespace) -> int:
    result = load_or_report(args.paths)
    if result is None:
        return ExitCode.SPEC_INVALID
    groups = rule_groups(result.specs)
    if not groups:
        print("rules: no spec has production SLIs (slos[].production)", file=sys.stderr)
        return ExitCode.SPEC_INVALID
    text = to_yaml(groups)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {len(groups)} rule groups to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return ExitCode.PASS
