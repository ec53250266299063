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

The library is imported only when the flag is given; the server binds 127.0.0.1 unless
told otherwise and stops when the command ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.driver.progress import IntervalProgress, ProgressEvent, RunStarted
from engine.live.intervals import IntervalNumbers, closing_numbers, interval_numbers

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

INSTALL_HINT = "pip install 'perfopt-engine[metrics]' (or: pip install prometheus_client)"
RUN_LABELS = ("spec", "profile", "variant")
QUANTILES = (("0.5", "p50_s"), ("0.95", "p95_s"), ("0.99", "p99_s"))


class MetricsUnavailable(Exception):
    """prometheus_client is not installed, or the port cannot be bound."""


def _registry() -> tuple[CollectorRegistry, dict[str, Any]]:
    try:
        from prometheus_client import CollectorRegistry, Counter, Gauge
    except ImportError:
        raise MetricsUnavailable(f"--metrics-port needs prometheus_client: {INSTALL_HINT}") \
            from None
    reg = CollectorRegistry()
    per_journey = (*RUN_LABELS, "journey")
    metrics: dict[str, Any] = {
        "requests": Counter("perfopt_requests", "Requests by journey and outcome",
                            (*per_journey, "outcome"), registry=reg),
        "errors": Counter("perfopt_errors", "Requests that did not end ok", per_journey,
                          registry=reg),
        "achieved": Gauge("perfopt_achieved_rate_per_second",
                          "Requests sent per second in the latest interval", RUN_LABELS,
                          registry=reg),
        "target": Gauge("perfopt_target_rate_per_second",
                        "Planned arrival rate in the latest interval (open model)", RUN_LABELS,
                        registry=reg),
        "in_flight": Gauge("perfopt_in_flight_requests",
                           "Requests in flight in the latest interval (Little's law estimate)",
                           RUN_LABELS, registry=reg),
        "latency": Gauge("perfopt_latency_seconds",
                         "Response time percentile of the latest interval",
                         (*per_journey, "quantile"), registry=reg),
        "active": Gauge("perfopt_run_active", "1 while a run drives load", registry=reg),
    }
    return reg, metrics


class MetricsExporter:
    """Progress consumer that updates the metrics, and the HTTP server that exposes them."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port, self.spec = host, port, ""
        self._registry, self._m = _registry()
        self._server: Any = None
        self._labels: tuple[str, str, str] = ("", "", "")
        self._last = -1

    def start(self) -> None:
        """Bind and serve in a daemon thread; MetricsUnavailable if the port cannot be bound."""
        from prometheus_client import start_http_server

        try:
            self._server, _ = start_http_server(self.port, self.host, self._registry)
        except OSError as exc:
            raise MetricsUnavailable(f"--metrics-port {self.port}: cannot listen on "
                                     f"{self.host}:{self.port}: {exc.strerror or exc}") from None
        self.port = int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, RunStarted):
            self._labels, self._last = (self.spec, event.profile, event.variant), -1
            self._m["active"].set(1)
        elif isinstance(event, IntervalProgress):
            numbers = interval_numbers(event)
            if numbers is not None:
                self._update(numbers)
        else:
            for numbers in closing_numbers(event, self._last):
                self._update(numbers)
            self._m["active"].set(0)

    def _update(self, n: IntervalNumbers) -> None:
        self._last = max(self._last, n.index)
        run = self._labels
        self._m["achieved"].labels(*run).set(n.achieved_rate)
        if n.target_rate is not None:
            self._m["target"].labels(*run).set(n.target_rate)
        self._m["in_flight"].labels(*run).set(n.in_flight())
        for j in n.journeys:
            for outcome, count in j.outcomes.items():
                if count:
                    self._m["requests"].labels(*run, j.name, outcome).inc(count)
            self._m["errors"].labels(*run, j.name).inc(j.errors)
            for quantile, attr in QUANTILES:
                value = getattr(j, attr)
                if value is not None:
                    self._m["latency"].labels(*run, j.name, quantile).set(value)
