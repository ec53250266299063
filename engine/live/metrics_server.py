"""The Prometheus endpoint's own process: ``python -m engine.live.metrics_server HOST PORT``.

It holds the registry and the HTTP server, so neither a scrape nor the server's polling
thread ever competes for the GIL of the process driving the load (with one worker, the
driver's event loop runs in the command's own process; a thread waking there on a busy
machine stalled the schedule by tens of milliseconds). The parent (engine.live.metrics)
sends one JSON line per event on stdin; this process answers ``port N`` or ``error ...``
on stdout once, and ends at end of input.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any, TextIO

RUN_LABELS = ("spec", "profile", "variant")
QUANTILES = (("0.5", "p50_s"), ("0.95", "p95_s"), ("0.99", "p99_s"))


def _metrics(registry: Any) -> dict[str, Any]:
    from prometheus_client import Counter, Gauge

    per_journey = (*RUN_LABELS, "journey")
    return {
        "requests": Counter("perfopt_requests", "Requests by journey and outcome",
                            (*per_journey, "outcome"), registry=registry),
        "errors": Counter("perfopt_errors", "Requests that did not end ok", per_journey,
                          registry=registry),
        "achieved": Gauge("perfopt_achieved_rate_per_second",
                          "Requests sent per second in the latest interval", RUN_LABELS,
                          registry=registry),
        "target": Gauge("perfopt_target_rate_per_second",
                        "Planned arrival rate in the latest interval (open model)", RUN_LABELS,
                        registry=registry),
        "in_flight": Gauge("perfopt_in_flight_requests",
                           "Requests in flight in the latest interval (Little's law estimate)",
                           RUN_LABELS, registry=registry),
        "latency": Gauge("perfopt_latency_seconds",
                         "Response time percentile of the latest interval",
                         (*per_journey, "quantile"), registry=registry),
        "active": Gauge("perfopt_run_active", "1 while a run drives load", registry=registry),
    }


def apply_message(m: dict[str, Any], msg: dict[str, Any]) -> None:
    """Update the metrics ``m`` with one message from the parent."""
    kind = msg.get("kind")
    if kind != "interval":
        m["active"].set(1 if kind == "started" else 0)
        return
    run = tuple(msg["run"])
    m["achieved"].labels(*run).set(msg["achieved_rate"])
    if msg["target_rate"] is not None:
        m["target"].labels(*run).set(msg["target_rate"])
    m["in_flight"].labels(*run).set(msg["in_flight"])
    for j in msg["journeys"]:
        for outcome, count in j["outcomes"].items():
            if count:
                m["requests"].labels(*run, j["name"], outcome).inc(count)
        m["errors"].labels(*run, j["name"]).inc(j["errors"])
        for quantile, key in QUANTILES:
            if j[key] is not None:
                m["latency"].labels(*run, j["name"], quantile).set(j[key])


def serve(host: str, port: int, inp: TextIO, out: TextIO) -> int:
    """Bind, say where (or why not) on ``out``, apply ``inp``'s lines until it ends."""
    try:
        from prometheus_client import CollectorRegistry, start_http_server
    except ImportError as exc:
        out.write(f"error prometheus_client is not installed ({exc})\n")
        out.flush()
        return 1
    registry = CollectorRegistry()
    metrics = _metrics(registry)
    try:
        server, _ = start_http_server(port, host, registry)
    except OSError as exc:
        out.write(f"error cannot listen on {host}:{port}: {exc.strerror or exc}\n")
        out.flush()
        return 1
    out.write(f"port {server.server_address[1]}\n")
    out.flush()
    for line in inp:
        apply_message(metrics, json.loads(line))
    server.shutdown()
    server.server_close()
    return 0


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends this by closing stdin
    host, port = argv[0], int(argv[1])
    return serve(host, port, sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
