"""``perfopt-engine report RESULT.json``: re-render a stored result document.

Reads a ``perfopt/report/v1`` JSON (as written by ``apply``), validates it, and writes
the requested formats into ``--out`` with the usual names (``{spec}-{UTC stamp}.{ext}``
and ``{spec}-latest.{ext}``). Exit 0 on success, 2 for a missing/invalid file or format.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from engine.redact import redact
from engine.report.document import DocumentError, load_document
from engine.report.summary import append_step_summary
from engine.report.writer import canonical_format, write_reports

__all__ = ["add_arguments", "run"]

EXIT_OK = 0
EXIT_USAGE = 2
DEFAULT_FORMATS = ("markdown", "html", "junit")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``report``."""
    parser.add_argument("result", help="result JSON written by apply (perfopt/report/v1)")
    parser.add_argument("--format", "-f", action="append", dest="formats", metavar="FMT",
                        help="md|markdown, html, junit, json; repeat or comma-separate "
                             "(default: md, html, junit)")
    parser.add_argument("--out", "-o", default="reports", help="output folder (default reports/)")
    parser.add_argument("--secret", action="append", default=[], metavar="NAME",
                        help="extra header/field name to redact (Authorization and Cookie "
                             "always are)")
    parser.add_argument("--no-step-summary", action="store_true",
                        help="do not append to $GITHUB_STEP_SUMMARY even when it is set")


def _formats(raw: list[str] | None) -> list[str]:
    names = [p for item in raw or DEFAULT_FORMATS for p in item.split(",") if p.strip()]
    return list(dict.fromkeys(canonical_format(n) for n in names))


def run(args: argparse.Namespace) -> int:
    """Render ``args.result``; prints the written paths; returns the exit code."""
    try:
        formats = _formats(args.formats)
        doc = load_document(args.result)
    except (DocumentError, ValueError) as exc:
        print(f"perfopt-engine report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        paths = write_reports(doc, formats, args.out, datetime.now(UTC), secrets=args.secret)
    except OSError as exc:
        print(f"perfopt-engine report: cannot write to {args.out}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.no_step_summary:
        summary = append_step_summary(redact(doc, args.secret), os.environ)
        if summary is not None:
            paths.append(summary)
    for path in paths:
        print(path)
    return EXIT_OK
