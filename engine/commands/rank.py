"""``perfopt-engine rank [PATH ...]``: rank each spec's optimizations without running load.

``plan`` is kept as an alias (its name before the plan stage, engine/plan.py, took it).
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.analysis.prioritize import Priority, PriorityError, prioritize
from engine.commands.specs import load_or_report

EXIT_INVALID = 2
_HEADER = f"{'rank':>4}  {'id':<8} {'tier':<17} {'impact':>7} {'source':<8} " \
          f"{'effort':>7} {'risk':<6} {'ROI/h':>7} {'matrix':>6}  title"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=["specs/"],
                        help="spec files or folders (default: specs/)")
    parser.add_argument("--json", action="store_true",
                        help="print the Priority objects as JSON instead of a table")
    parser.add_argument("--hint", action="append", default=[], metavar="TYPE",
                        help="boost optimizations of this type (e.g. from a bottleneck "
                             "analysis); repeatable")


def run(args: argparse.Namespace) -> int:
    result = load_or_report(args.paths)
    if result is None:
        return EXIT_INVALID
    ranked = {}
    for spec in result.specs:
        try:
            ranked[spec.name] = prioritize(spec, hints=tuple(args.hint))
        except PriorityError as exc:
            print(f"{spec.source or spec.name}: {exc}", file=sys.stderr)
            return EXIT_INVALID
    if args.json:
        print(json.dumps({name: [p.to_doc() for p in rows] for name, rows in ranked.items()},
                         indent=2))
        return 0
    for name, rows in ranked.items():
        print(_table(name, rows))
    return 0


def _table(name: str, rows: tuple[Priority, ...]) -> str:
    if not rows:
        return f"{name}: no hypotheses to rank\n"
    lines = [f"{name}: {len(rows)} optimization(s), ranked", _HEADER]
    lines += [_line(p) for p in rows]
    quick = [p.id for p in rows if p.quick_win]
    lines.append(f"top: {', '.join(p.id for p in rows if p.top)}; quick wins: "
                 f"{', '.join(quick) if quick else 'none'}")
    lines.append("impact source: measured effect, spec estimate, or the typical range "
                 "midpoint of the type; ROI = impact / effort hours\n")
    return "\n".join(lines)


def _line(p: Priority) -> str:
    mark = "*" if p.top else " "
    matrix = f"{p.matrix_score:.2f}" if p.matrix_score is not None else "-"
    hinted = " (hinted)" if p.hinted else ""
    return (f"{p.rank:>3}{mark}  {p.id:<8} {p.tier:<17} {p.impact:>6.0%} {p.impact_source:<8} "
            f"{p.effort_hours:>6g}h {p.risk:<6} {p.roi:>7.3f} {matrix:>6}  {p.title}{hinted}")
