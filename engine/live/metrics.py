"""``--metrics-port``: a Prometheus exposition endpoint (/metrics) while apply or run drives
load, through the standard client library (``pip install 'perfopt-engine[metrics]'``).

Metrics (labels ``spec``, ``profile``, ``variant``, and ``journey`` where per journey):

- ``perfopt_requests_total{..., journey, outcome}`` counter: requests by outcome (ok,
  status_4xx, timeout, dropped, ...), summed from each closed interval
- ``perfopt_errors_total{..., journey}`` counter: requests that did not end ok
- ``perfopt_achieved_rate_per_second`` / ``perfopt_target_rate_per_second`` gauges: the
  latest interval's sent rate and planned arrival rate (target absent in the closed model)
- ``perfopt_in_flight_requests`` gauge: requests in flight in the latest interval,
  estimated by Little's law (answer rate x mean response time)
- ``perfopt_latency_seconds{..., journey, quantile}`` gauge: the latest interval's p50, p95
  and p99 response time per journey (quantile 0.5, 0.95, 0.99)
- ``perfopt_run_active`` gauge: 1 while a run drives load, 0 between runs

The endpoint is its own process (engine.live.metrics_server): this side only computes an
interval's numbers once per interval and writes one JSON line to it. It binds 127.0.0.1
unless told otherwise and ends with the command.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

from engine.driver.progress import IntervalProgress, ProgressEvent, RunStarted
from engine.live.intervals import IntervalNumbers, closing_numbers, interval_numbers

INSTALL_HINT = "pip install 'perfopt-engine[metrics]' (or: pip install prometheus_client)"
START_TIMEOUT_S = 30.0


class MetricsUnavailable(Exception):
    """prometheus_client is not installed, or the port cannot be bound."""


def interval_message(run: tuple[str, str, str], n: IntervalNumbers) -> dict[str, Any]:
    """What the endpoint process needs of one interval (plain JSON)."""
    return {"kind": "interval", "run": list(run), "achieved_rate": n.achieved_rate,
            "target_rate": n.target_rate, "in_flight": n.in_flight(),
            "journeys": [{"name": j.name, "outcomes": j.outcomes, "errors": j.errors,
                          "p50_s": j.p50_s, "p95_s": j.p95_s, "p99_s": j.p99_s}
                         for j in n.journeys]}


class MetricsExporter:
    """Progress consumer feeding the endpoint process; ``start`` launches it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port, self.spec = host, port, ""
        self._proc: subprocess.Popen[str] | None = None
        self._run: tuple[str, str, str] = ("", "", "")
        self._last = -1

    def start(self) -> None:
        """Launch the endpoint; MetricsUnavailable if the library is missing or the port
        cannot be bound."""
        try:
            importlib.import_module("prometheus_client")
        except ImportError:
            raise MetricsUnavailable(f"--metrics-port needs prometheus_client: {INSTALL_HINT}") \
                from None
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "engine.live.metrics_server", self.host, str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        answer = self._proc.stdout.readline().strip()
        if not answer.startswith("port "):
            self.stop()
            why = answer.removeprefix("error ") or "the endpoint process ended"
            raise MetricsUnavailable(f"--metrics-port {self.port}: {why}")
        self.port = int(answer.split()[1])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # end of input: the endpoint shuts down and exits
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, RunStarted):
            self._run, self._last = (self.spec, event.profile, event.variant), -1
            self._send({"kind": "started"})
        elif isinstance(event, IntervalProgress):
            numbers = interval_numbers(event)
            if numbers is not None:
                self._interval(numbers)
        else:
            for numbers in closing_numbers(event, self._last):
                self._interval(numbers)
            self._send({"kind": "finished"})

    def _interval(self, n: IntervalNumbers) -> None:
        self._last = max(self._last, n.index)
        self._send(interval_message(self._run, n))

    def _send(self, msg: dict[str, Any]) -> None:
        if self._proc is not None and self._proc.stdin is not None:
            self._proc.stdin.write(json.dumps(msg, separators=(",", ":")) + "\n")
            self._proc.stdin.flush()
