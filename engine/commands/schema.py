"""``perfopt-engine schema``: print the JSON schema (for editors and yaml-language-server)."""

from __future__ import annotations

import argparse
import json

from engine.report.document import REPORT_SCHEMA
from engine.spec.validate import load_schema


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", action="store_true",
                        help="print the report document schema instead of the spec schema")


def run(args: argparse.Namespace) -> int:
    schema = load_schema(REPORT_SCHEMA) if args.report else load_schema()
    print(json.dumps(schema, indent=2, ensure_ascii=False))
    return 0
