"""``perfopt-engine demo-target``: run the embedded demo service.

The lead's CLI calls :func:`add_arguments` and :func:`run`; ``python -m
engine.demo`` uses :func:`main`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import tempfile

import uvloop

from engine.demo import db
from engine.demo.handlers import PATTERNS, DemoConfig
from engine.demo.server import Faults
from engine.demo.service import DemoOptions, FixError, Started, parse_fixes, run_service

FIX_ENV = "PERFOPT_DEMO_FIX"


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _count(text: str) -> int:
    value = _number(text)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the demo's flags on ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=_count, default=8080, help="TCP port, 0 = any free port")
    parser.add_argument("--users", type=_count, default=100_000, help="users to seed (>= 1)")
    parser.add_argument("--orders", type=_count, default=20_000,
                        help="orders to seed (3 items each)")
    parser.add_argument("--db", metavar="PATH", help="SQLite file (default: fresh temp file; "
                        "an existing demo database is reused)")
    parser.add_argument("--fix", default=os.environ.get(FIX_ENV, ""), metavar="PATTERNS",
                        help=f"comma list of patterns to fix, or 'all' (env {FIX_ENV}); "
                        f"patterns: {', '.join(PATTERNS)}")
    parser.add_argument("--slowdown-pct", type=_number, default=0.0, metavar="N",
                        help="delay every response by N%% of its own handling time")
    parser.add_argument("--leak-kb", type=_count, default=0, metavar="N",
                        help="leak N KB per request (planted memory leak for soak tests)")
    parser.add_argument("--max-inflight", type=_count, default=0, metavar="N",
                        help="answer 503 beyond N requests in flight (0 = unlimited)")
    parser.add_argument("--cache-ttl", type=_number, default=5.0, metavar="S",
                        help="TTL of the /stats cache in seconds (cache pattern)")
    parser.add_argument("--email-ms", type=_number, default=30.0, metavar="MS",
                        help="simulated welcome e-mail send time (async pattern)")
    parser.add_argument("--connect-ms", type=_number, default=2.0, metavar="MS",
                        help="simulated DB handshake per new connection (pool pattern)")


def _options(args: argparse.Namespace, db_path: str) -> DemoOptions:
    config = DemoConfig(
        db_path=db_path,
        fixes=parse_fixes(args.fix),
        email_ms=args.email_ms,
        connect_ms=args.connect_ms,
        cache_ttl_s=max(args.cache_ttl, 0.001),
    )
    faults = Faults(args.slowdown_pct, args.leak_kb, args.max_inflight)
    size = db.SeedSize(users=max(args.users, 1), orders=args.orders)
    return DemoOptions(args.host, args.port, config, size, faults)


def _announce(started: Started) -> None:
    fixed = ", ".join(sorted(started.fixes)) or "none"
    print(f"perfopt demo listening on {started.url} (fixed: {fixed}; "
          f"database ready in {started.seed_s:.2f} s)", flush=True)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad flags, 1 if it cannot listen."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        parse_fixes(args.fix)
    except FixError as exc:
        print(f"demo-target: --fix: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="perfopt-demo-") as tmp:
        opts = _options(args, args.db or os.path.join(tmp, "demo.db"))
        try:
            uvloop.run(run_service(opts, _announce))
        except OSError as exc:
            print(f"demo-target: cannot listen on {args.host}:{args.port}: {exc}",
                  file=sys.stderr)
            return 1
        except sqlite3.Error as exc:
            print(f"demo-target: cannot prepare database {opts.config.db_path}: {exc}",
                  file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point for ``python -m engine.demo``."""
    parser = argparse.ArgumentParser(prog="python -m engine.demo", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
