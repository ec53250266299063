"""``perfopt-engine init [DIR]``: write a commented starter spec that validates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STARTER = Path(__file__).resolve().parent.parent / "templates" / "starter.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default="specs", help="folder to write into (default specs/)")
    parser.add_argument("--name", default="starter.yaml", help="file name (default starter.yaml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    target = Path(args.dir) / args.name
    if target.exists() and not args.force:
        print(f"{target}: already exists (use --force to overwrite)", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    tmp.replace(target)
    print(f"wrote {target}; next: perfopt-engine validate {target}")
    return 0
