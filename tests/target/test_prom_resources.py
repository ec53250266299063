"""A remote target's resources from Prometheus (issue #21): the spec's target.metrics, the
PromQL asked, the points turned into ResourceSample series, and the notes when metrics or
Prometheus itself are missing. The real-Prometheus run is test_prom_resources_e2e.py."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np

from engine.production.client import PrometheusClient, QueryRejected, Series
from engine.spec.loader import load_text
from engine.spec.model import Spec
from engine.spec.model_target_metrics import DEFAULT_SCRAPE_S, target_metrics_of
from engine.target.prom_resources import (
    QUERIES,
    queries,
    read_remote,
    remote_resources,
    samples_from,
    step_s,
)
from tests.support.runs import make_run

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: remote, component: api}}
trigger: proactive
target:
  url: "http://127.0.0.1:9"
{metrics}
journeys:
  - {{name: home, request: {{method: GET, path: /}}}}
load:
  baseline: {{rate: 1/s, duration: 1s}}
{extra}"""
PRODUCTION = """production:
  prometheus: {url: "http://prom.example:9090", headers: {Authorization: Bearer s3cret}}
"""


def _load(metrics: str, extra: str = "") -> tuple[Spec | None, list[str]]:
    specs, errors = load_text(SPEC.format(metrics=metrics, extra=extra), "remote.yaml", Path("."))
    return (specs[0] if specs else None), [e.message for e in errors]


def _spec(metrics: str, extra: str = "") -> Spec:
    spec, errors = _load(metrics, extra)
    assert errors == [] and spec is not None
    return spec


def test_metrics_block_resolves_its_own_prometheus_and_defaults() -> None:
    spec = _spec('  metrics: {prometheus: "http://p:9090/", select: \'{job="api"}\'}')
    m = target_metrics_of(spec)
    assert m is not None
    assert (m.url, m.select, m.node, m.scrape_s) == ("http://p:9090", '{job="api"}',
                                                    '{job="api"}', DEFAULT_SCRAPE_S)
    assert dict(m.headers) == {}


def test_metrics_without_url_reuses_production_prometheus_with_its_headers() -> None:
    spec = _spec("  metrics: {select: '{job=\"api\"}', node: '{instance=\"h:9100\"}', "
                 "scrape_interval: 2s}", PRODUCTION)
    m = target_metrics_of(spec)
    assert m is not None
    assert (m.url, m.node, m.scrape_s) == ("http://prom.example:9090", '{instance="h:9100"}', 2.0)
    assert dict(m.headers) == {"Authorization": "Bearer s3cret"}


def test_metrics_without_any_prometheus_is_an_error_naming_the_key() -> None:
    _, errors = _load("  metrics: {select: '{job=\"api\"}'}")
    assert any("metrics.prometheus" in e for e in errors)


def test_selector_must_be_matchers_in_braces() -> None:
    _, errors = _load("  metrics: {prometheus: 'http://p:9090', select: 'job=api'}")
    assert any("label matchers in braces" in e for e in errors)


def test_spec_without_metrics_reads_nothing() -> None:
    spec = _spec("")
    assert target_metrics_of(spec) is None
    assert remote_resources(spec, spec.target, make_run(np.full(5, 1_000_000))).samples == ()


def test_queries_join_the_matchers_and_span_four_scrapes() -> None:
    m = target_metrics_of(_spec("  metrics: {prometheus: 'http://p:9090', "
                                "select: '{job=\"api\", }', scrape_interval: 1s}"))
    assert m is not None
    q = queries(m)
    assert q["cpu_pct"] == '100 * sum(rate(process_cpu_seconds_total{job="api"}[4s]))'
    assert 'node_cpu_seconds_total{job="api",mode="idle"}' in q["sys_cpu_pct"]
    assert 'device!="lo"' in q["net_sent_bytes"]
    assert set(q) == set(QUERIES)
    assert step_s(m) == 1.0


def _grid(values: list[float], t0: float = 1000.0, step: float = 2.0) -> dict[float, float]:
    return {t0 + i * step: v for i, v in enumerate(values)}


def test_points_become_samples_with_counters_from_the_first_point() -> None:
    found = {"cpu_pct": _grid([10.0, 50.0, 30.0]), "rss_bytes": _grid([5e6, 6e6, 7e6]),
             "fds": _grid([12, 14, 13]), "sys_cpu_pct": _grid([20.0, 60.0, 40.0]),
             "sys_mem_pct": _grid([41.0, 42.0, 43.0]),
             "read_bytes": _grid([1000, 1500, 4000]), "write_bytes": _grid([0, 0, 100]),
             "net_sent_bytes": _grid([9e9, 9e9 + 2e6, 9e9 + 5e6]),
             "net_recv_bytes": _grid([7e9, 7e9 + 1e6, 7e9 + 3e6]), "cores": _grid([4, 4, 4])}
    got = samples_from(found, t0=999.0)
    assert got.notes == ()
    s = got.samples
    assert [x.t_s for x in s] == [1.0, 3.0, 5.0]
    assert [x.cpu_pct for x in s] == [10.0, 50.0, 30.0]
    assert [x.rss_bytes for x in s] == [5_000_000, 6_000_000, 7_000_000]
    assert [x.read_bytes for x in s] == [0, 500, 3000]
    assert [x.net_sent_bytes for x in s] == [0, 2_000_000, 5_000_000]
    assert s[1].sys_mem_pct == 42.0 and s[1].cores == 4 and s[1].fds == 14
    assert s[0].unknown == ("connections", "ctx_switches", "hot_thread_pct", "threads")


def test_missing_node_metrics_are_named_unknown_and_noted() -> None:
    found = {"cpu_pct": _grid([25.0, 35.0]), "rss_bytes": _grid([8e6, 9e6])}
    got = samples_from(found, t0=1000.0)
    assert len(got.samples) == 2
    unknown = set(got.samples[0].unknown)
    assert {"sys_mem_pct", "sys_cpu_pct", "cores", "fds", "net_sent_bytes"} <= unknown
    assert "cpu_pct" not in unknown and "rss_bytes" not in unknown
    assert got.samples[0].sys_mem_pct == 0.0
    assert len(got.notes) == 1
    assert "node_memory_MemAvailable_bytes" in got.notes[0]
    assert "process_open_fds" in got.notes[0] and "sys_mem_pct" in got.notes[0]


def test_a_point_missing_at_one_time_is_unknown_in_that_sample_only() -> None:
    found = {"cpu_pct": _grid([25.0, 35.0]), "rss_bytes": {1000.0: 8e6}}
    s = samples_from(found, t0=1000.0).samples
    assert "rss_bytes" not in s[0].unknown and "rss_bytes" in s[1].unknown


def test_no_process_series_gives_no_samples_and_a_note() -> None:
    got = samples_from({}, t0=0.0)
    assert got.samples == ()
    assert "process_cpu_seconds_total" in got.notes[0]


def test_rejected_query_is_a_note_and_stops_querying() -> None:
    asked: list[str] = []

    def query(expr: str, start: float, end: float, step: float) -> list[Series]:
        asked.append(expr)
        raise QueryRejected("Prometheus rejected the query: parse error")

    m = target_metrics_of(_spec("  metrics: {prometheus: 'http://p:9090', select: '{a=\"b\"}'}"))
    assert m is not None
    found, notes = read_remote(query, m, 0.0, 10.0, "http://p:9090")
    assert found == {} and len(asked) == 1
    assert "parse error" in notes[0] and "no resource samples" in notes[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_prometheus_unreachable_is_a_note_never_an_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    spec = _spec(f"  metrics: {{prometheus: '{url}', select: '{{job=\"api\"}}'}}")
    got = remote_resources(spec, spec.target, make_run(np.full(5, 1_000_000), duration_s=2.0),
                           PrometheusClient(url, timeout_s=2.0))
    assert got.samples == ()
    assert len(got.notes) == 1 and "Prometheus unreachable" in got.notes[0]


def test_another_target_than_the_specs_reads_nothing() -> None:
    spec = _spec("  metrics: {prometheus: 'http://127.0.0.1:9', select: '{job=\"api\"}'}")
    other = spec.target.__class__(url="http://127.0.0.1:10")
    assert remote_resources(spec, other, make_run(np.full(5, 1_000_000))).samples == ()



def test_a_rate_whose_window_reaches_before_the_run_is_not_a_sample() -> None:
    """A rate over the 4 s before each point: points 1 s and 3 s into the run would mix
    in what the target did before it started (idle time or the previous step's load)."""
    found = {"cpu_pct": _grid([10.0, 50.0, 30.0]), "rss_bytes": _grid([5e6, 6e6, 7e6])}
    got = samples_from(found, t0=999.0, window_s=4.0)
    assert [x.t_s for x in got.samples] == [5.0] and got.samples[0].cpu_pct == 30.0
    short = samples_from(found, t0=999.0, window_s=10.0)  # a run shorter than the window
    assert all("cpu_pct" in x.unknown for x in short.samples)
    assert [x.t_s for x in short.samples] == [1.0, 3.0, 5.0]  # RSS is a gauge: kept
    assert any("shorter than the rate window" in n and "cpu_pct" in n for n in short.notes)
