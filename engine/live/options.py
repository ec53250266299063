"""The ``--stream`` / ``--metrics-port`` / ``--metrics-host`` flags shared by apply and run.

Light on purpose: imported while parsing arguments, so validate and --dry-run stay free of
the driver, numpy and prometheus_client.
"""

from __future__ import annotations

import argparse

DEFAULT_METRICS_HOST = "127.0.0.1"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 0-65535 (0: any free port), "
                                         f"got {text!r}")
    return port


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stream", default=None, metavar="FILE|-",
                        help="write one JSON line per closed interval as the run goes "
                             "(- is stdout; the human output then goes to stderr)")
    parser.add_argument("--metrics-port", type=_port, default=None, metavar="PORT",
                        help="serve Prometheus metrics at http://HOST:PORT/metrics during "
                             "the run (needs: pip install 'perfopt-engine[metrics]')")
    parser.add_argument("--metrics-host", default=DEFAULT_METRICS_HOST, metavar="HOST",
                        help=f"address the metrics endpoint binds (default {DEFAULT_METRICS_HOST})")
