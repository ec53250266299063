"""A remote target's resources read from Prometheus after a run (issue #21).

When apply cannot sample the target's process (it runs on another machine), the spec's
``target.metrics`` names the Prometheus that scrapes it. After each run, never during
it, one range query per metric over the run's window (step: the scrape interval, kept
within 1-5 s; rates over 4 scrapes) gives the same :class:`~engine.result.ResourceSample`
series the local sampler produces:

- target CPU: ``rate(process_cpu_seconds_total)`` x 100 (percent of one core), RSS
  (``process_resident_memory_bytes``), open fds (``process_open_fds``), summed over the
  series ``select`` matches;
- the machine, from node_exporter's series ``node`` matches: CPU busy (100 - idle share of
  ``node_cpu_seconds_total``), memory used (1 - MemAvailable/MemTotal), disk bytes
  (``node_disk_read/written_bytes_total``) and network bytes (``node_network_transmit/
  receive_bytes_total``, loopback left out), counters from the window's first point;
  ``cores``: how many CPUs node_exporter reports.

A metric with no series leaves its field at 0, named in each sample's ``unknown``, and
one note says which; Prometheus unreachable or rejecting a query is a note too. Nothing
here raises: the run's measurements stand without resources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from engine.production.client import (
    PrometheusClient,
    PrometheusError,
    PrometheusUnreachable,
    Series,
)
from engine.result import ResourceSample, RunResult
from engine.spec.model import Spec, Target
from engine.spec.model_target_metrics import TargetMetrics, target_metrics_of

__all__ = ["QUERIES", "RESOURCE_NOTES", "RemoteResources", "queries", "read_remote", "remote_resources",
           "samples_from"]

RESOURCE_NOTES = "resource_notes"
"""``RunResult.extra`` key of the notes (the drive stage makes them report messages)."""
MIN_STEP_S, MAX_STEP_S = 1.0, 5.0
RATE_SCRAPES = 4
"""A rate spans this many scrape intervals (Prometheus' own advice: at least 4)."""
NODE_FIELDS = ("sys_cpu_pct", "sys_mem_pct", "read_bytes", "write_bytes", "net_sent_bytes",
               "net_recv_bytes", "cores")
ALWAYS_UNKNOWN = ("threads", "connections", "ctx_switches", "hot_thread_pct")
"""Fields no standard exporter gives per process: always unknown for a remote target."""
COUNTERS = ("read_bytes", "write_bytes", "net_sent_bytes", "net_recv_bytes")
"""Cumulative fields: counted from the window's first point, as the local sampler does."""

QUERIES: Mapping[str, str] = {
    "cpu_pct": "100 * sum(rate(process_cpu_seconds_total{sel}[{w}]))",
    "rss_bytes": "sum(process_resident_memory_bytes{sel})",
    "fds": "sum(process_open_fds{sel})",
    "sys_cpu_pct": '100 * (1 - avg(rate(node_cpu_seconds_total{node_idle}[{w}])))',
    "sys_mem_pct": "100 * (1 - sum(node_memory_MemAvailable_bytes{node}) "
                   "/ sum(node_memory_MemTotal_bytes{node}))",
    "read_bytes": "sum(node_disk_read_bytes_total{node})",
    "write_bytes": "sum(node_disk_written_bytes_total{node})",
    "net_sent_bytes": "sum(node_network_transmit_bytes_total{node_net})",
    "net_recv_bytes": "sum(node_network_receive_bytes_total{node_net})",
    "cores": 'count(node_cpu_seconds_total{node_idle})',
}
"""One PromQL per ResourceSample field; ``{sel}``/``{node}`` are the spec's matchers."""
_METRIC = {"cpu_pct": "process_cpu_seconds_total", "rss_bytes": "process_resident_memory_bytes",
           "fds": "process_open_fds", "sys_cpu_pct": "node_cpu_seconds_total",
           "sys_mem_pct": "node_memory_MemAvailable_bytes", "read_bytes": "node_disk_*",
           "write_bytes": "node_disk_*", "net_sent_bytes": "node_network_*",
           "net_recv_bytes": "node_network_*", "cores": "node_cpu_seconds_total"}

Points = Mapping[float, float]
RangeQuery = Callable[[str, float, float, float], list[Series]]


@dataclass(frozen=True)
class RemoteResources:
    """What one run's window gave: the samples (t_s from run start) and notes."""

    samples: tuple[ResourceSample, ...]
    notes: tuple[str, ...] = ()


def step_s(m: TargetMetrics) -> float:
    """The query step: the scrape interval, kept within 1-5 s."""
    return min(MAX_STEP_S, max(MIN_STEP_S, m.scrape_s))


def _matchers(selector: str, *more: str) -> str:
    inner = selector.strip()[1:-1].strip().rstrip(",")
    return "{" + ",".join(p for p in (inner, *more) if p) + "}"


def queries(m: TargetMetrics) -> dict[str, str]:
    """The PromQL of each field for the spec's matchers."""
    window = f"{max(1, round(RATE_SCRAPES * m.scrape_s))}s"
    subs = {"{sel}": _matchers(m.select), "{node}": _matchers(m.node),
            "{node_idle}": _matchers(m.node, 'mode="idle"'),
            "{node_net}": _matchers(m.node, 'device!="lo"'), "{w}": window}
    out = {}
    for name, text in QUERIES.items():
        for key, value in subs.items():
            text = text.replace(key, value)
        out[name] = text
    return out


def _points(series: Sequence[Series]) -> dict[float, float]:
    """The aggregated series' points by time (the queries sum to one series)."""
    return {round(t, 3): v for s in series[:1] for t, v in s.points}


def read_remote(query: RangeQuery, m: TargetMetrics, start: float, end: float,
                shown_url: str) -> tuple[dict[str, dict[float, float]], tuple[str, ...]]:
    """Each field's points over [start, end]; stops at the first unreachable answer."""
    found: dict[str, dict[float, float]] = {}
    step = step_s(m)
    for name, expr in queries(m).items():
        try:
            found[name] = _points(query(expr, start, end, step))
        except PrometheusError as exc:
            why = str(exc) if isinstance(exc, PrometheusUnreachable) else f"{shown_url}: {exc}"
            return {}, (f"target resources not read from Prometheus ({why}); the run "
                        "has no resource samples",)
    return found, ()


RATE_FIELDS = ("cpu_pct", "sys_cpu_pct")
"""Fields read as a rate over the window before each point."""


def samples_from(found: Mapping[str, Points], t0: float, window_s: float = 0.0) -> RemoteResources:
    """The ResourceSample series of the fields' points (``t0``: the run's start, unix).

    A rate's point whose window (``window_s`` before it) reaches back before the run
    mixes in what the target did before it (idle time, or the previous step's load):
    such points are left out, the field unknown there, and a run shorter than the window
    says its CPU was not measured."""
    missing = sorted(n for n in QUERIES if not found.get(n))
    found = {n: ({t: v for t, v in pts.items() if t - window_s >= t0 - 1e-6}
                 if n in RATE_FIELDS else pts) for n, pts in found.items()}
    short = sorted(n for n in RATE_FIELDS if n not in missing and not found.get(n))
    # a sample per CPU point, else per RSS point
    times = sorted(found.get("cpu_pct") or found.get("rss_bytes") or {})
    notes = ((_missing_note(missing),) if missing else ()) + ((
        f"target resources from Prometheus: the run is shorter than the rate window "
        f"({window_s:g} s, {RATE_SCRAPES} scrapes): {', '.join(short)} not measured",)
        if short else ())
    if not times:
        return RemoteResources((), notes)
    first = {n: min(found[n].items())[1] for n in COUNTERS if found.get(n)}
    samples = tuple(_sample(found, first, t, t0, missing) for t in times)
    return RemoteResources(samples, notes)


def _sample(found: Mapping[str, Points], first: Mapping[str, float], t: float, t0: float,
            missing: Sequence[str]) -> ResourceSample:
    def value(name: str) -> float:
        got = found.get(name, {}).get(t)
        return 0.0 if got is None else got - first.get(name, 0.0)

    unknown = {*ALWAYS_UNKNOWN, *missing}
    unknown |= {n for n in QUERIES if n not in missing and t not in found.get(n, {})}
    return ResourceSample(
        t_s=t - t0, cpu_pct=max(0.0, value("cpu_pct")), rss_bytes=int(value("rss_bytes")),
        threads=0, fds=int(value("fds")), connections=0,
        read_bytes=max(0, int(value("read_bytes"))), write_bytes=max(0, int(value("write_bytes"))),
        ctx_switches=0, sys_cpu_pct=value("sys_cpu_pct"), sys_mem_pct=value("sys_mem_pct"),
        net_sent_bytes=max(0, int(value("net_sent_bytes"))),
        net_recv_bytes=max(0, int(value("net_recv_bytes"))),
        cores=int(value("cores")), unknown=tuple(sorted(unknown)))


def _missing_note(missing: Sequence[str]) -> str:
    metrics = sorted({_METRIC[n] for n in missing})
    node = all(n in NODE_FIELDS for n in missing)
    return ("target resources from Prometheus: no series for " + ", ".join(metrics)
            + "; " + ", ".join(missing) + " not measured"
            + (" (no node_exporter series match target.metrics.node)" if node else ""))


def remote_resources(spec: Spec, target: Target, run: RunResult,
                     client: PrometheusClient | None = None) -> RemoteResources:
    """The run's resources from the spec target's Prometheus; empty when the spec names no
    source or ``target`` is not the spec's own (a hypothesis side's)."""
    m = target_metrics_of(spec)
    if m is None or target != spec.target or run.duration_s <= 0:
        return RemoteResources(())
    client = client or PrometheusClient(m.url, m.headers, m.timeout_s)
    start = run.started_at
    found, notes = read_remote(client.query_range, m, start, start + run.duration_s,
                               client.shown_url)
    if notes:
        return RemoteResources((), notes)
    return samples_from(found, start, RATE_SCRAPES * m.scrape_s)
