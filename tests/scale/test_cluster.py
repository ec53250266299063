"""Scale-out on a REAL Dask cluster on loopback: a scheduler and two named generator
workers (subprocesses standing in for two machines), against a local target.

One cluster for the module (started once, torn down at the end); short runs. The test
that kills a worker runs last: its nanny restarts it under a new address.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from engine.driver import IntervalProgress, run_profile
from engine.hotpath.native import Histogram
from engine.report.document import validate_document
from engine.result import RunResult
from engine.scale.errors import ClusterUnavailable
from engine.spec.loader import load_text
from engine.spec.model import Spec
from tests.scale.localcluster import LocalCluster, free_port, local_cluster
from tests.support.servers import TestServer
from tests.support.specs import VALID, run_cli, write_spec

pytestmark = pytest.mark.slow
RATE = 200


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with local_cluster(tmp_path_factory.mktemp("dask")) as c:
        yield c


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    with TestServer("ok", delay_s=0.002) as s:
        yield s


def spec_text(url: str, scheduler: str, *, nodes: int | str = 2, duration: str = "3s",
              extra_load: str = "") -> str:
    text = VALID.replace("http://127.0.0.1:18999", url)
    text = text.replace("baseline: {rate: 50/s, duration: 5s}",
                        f"baseline: {{rate: {RATE}/s, duration: {duration}}}{extra_load}")
    return text + (f'execution: {{engine: dask, scheduler: "{scheduler}", nodes: {nodes}, '
                   "workers_per_node: 1}\n")


def load(text: str) -> Spec:
    specs, errors = load_text(text)
    assert errors == []
    return specs[0]


def _loopback(addr: Any) -> bool:
    return not addr or ipaddress.ip_address(addr.ip).is_loopback


def _connections(pids: list[int]) -> list[Any]:
    procs = [psutil.Process(p) for p in pids]
    procs += [c for p in list(procs) for c in p.children(recursive=True)]
    return [c for p in procs for c in p.net_connections(kind="inet")]


def test_two_hosts_make_one_run_in_the_json_report(cluster: LocalCluster, server: TestServer,
                                                   tmp_path: Path) -> None:
    spec = write_spec(tmp_path, spec_text(server.url, "tcp://127.0.0.1:1"))
    out = tmp_path / "reports"
    done = run_cli("apply", str(spec), "--scheduler", cluster.address, "--format", "json",
                   "--format", "markdown", "--out", str(out), "--no-history", "--quiet",
                   timeout=120)
    assert done.returncode in (0, 1), done.stderr
    doc = json.loads(next(out.glob("svc-2*.json")).read_text(encoding="utf-8"))
    assert validate_document(doc) == []
    run = doc["specs"][0]["runs"][0] if "specs" in doc else doc["runs"][0]
    hosts = run["hosts"]
    assert [h["name"] for h in hosts] == ["node-a", "node-b"]
    assert all(h["valid"] and h["requests"] > 0 for h in hosts)
    assert run["requests"] == sum(h["requests"] for h in hosts)
    assert run["validity"]["valid"], run["validity"]["reasons"]
    assert abs(run["achieved_rate"] - RATE) <= 0.01 * RATE
    for journey, encoded in run["histograms"].items():
        merged = Histogram.decode(hosts[0]["histograms"][journey])
        merged.add(Histogram.decode(hosts[1]["histograms"][journey]))
        ours = Histogram.decode(encoded)
        assert merged.total_count == ours.total_count > 0
        for p in (50.0, 90.0, 95.0, 99.0, 100.0):
            assert merged.value_at_percentile(p) == ours.value_at_percentile(p)
    assert all("clock_offset_ms" in h and "clock_uncertainty_ms" in h for h in hosts)
    md = next(out.glob("svc-2*.md")).read_text(encoding="utf-8")
    assert "generator hosts:" in md
    assert all(f"| {name} | 1 | {h['requests']:,} |" in md for name, h in
               zip(("node-a", "node-b"), hosts, strict=True))
    ours = _connections(cluster.pids())  # the cluster's sockets, listening ones included
    mine = [c for c in _connections([os.getpid()]) if c.raddr]  # this process's connections
    outside = [c for c in ours + mine if not (_loopback(c.laddr) and _loopback(c.raddr))]
    assert ours and outside == []


def test_a_stop_request_stops_every_host(cluster: LocalCluster, server: TestServer) -> None:
    spec = load(spec_text(server.url, cluster.address, duration="20s"))
    stop = threading.Event()

    def progress(event: object) -> None:
        if isinstance(event, IntervalProgress):
            stop.set()  # what apply's Ctrl-C handler does

    run = run_profile(server.url, spec.journeys, spec.profiles[0], progress=progress,
                      stop=stop)
    assert run.aborted and run.abort_reason == "interrupted"
    assert run.duration_s < 10
    assert [h["requests"] > 0 for h in run.extra["hosts"]] == [True, True]


def test_closed_model_with_worker_processes_on_each_host(cluster: LocalCluster,
                                                         server: TestServer) -> None:
    """Virtual users split over 2 hosts x 2 worker processes (the host's own children)."""
    text = spec_text(server.url, cluster.address, duration="2s").replace(
        f"rate: {RATE}/s", "vus: 4").replace("workers_per_node: 1", "workers_per_node: 2")
    spec = load(text)
    run = run_profile(server.url, spec.journeys, spec.profiles[0])
    assert run.model == "closed" and run.workers == 4
    assert run.validity.valid, run.validity.reasons
    hosts = run.extra["hosts"]
    assert [h["workers"] for h in hosts] == [2, 2]
    assert all(h["requests"] > 0 for h in hosts)
    assert run.requests == sum(h["requests"] for h in hosts)


def test_too_few_generator_hosts_is_an_error_before_any_load(cluster: LocalCluster) -> None:
    with TestServer("ok") as quiet:
        spec = load(spec_text(quiet.url, cluster.address, nodes=3))
        with pytest.raises(ClusterUnavailable, match=r"needs 3 generator host\(s\).*has 2 "
                                                     r"\(node-a, node-b\)"):
            run_profile(quiet.url, spec.journeys, spec.profiles[0])
        assert quiet.requests == []


def test_an_unreachable_scheduler_is_exit_3(tmp_path: Path, server: TestServer) -> None:
    nobody = f"tcp://127.0.0.1:{free_port()}"
    text = spec_text(server.url, nobody).replace("load:\n", "load:\n  defaults: "
                                                 "{connect_timeout: 1s}\n")
    done = run_cli("apply", str(write_spec(tmp_path, text)), "--format", "json", "--out",
                   str(tmp_path / "r"), "--no-history", "--quiet", timeout=60)
    assert done.returncode == 3, done.stderr
    assert f"dask scheduler {nobody} not reachable within 1 s" in done.stdout + done.stderr


STEPPED = """\
journeys:
  - name: flow
    tags: {team: shop}
    steps:
      - {path: /a, tags: {kind: read}}
      - path: /b
        checks: [{status: 200}, {status: 404}]
"""


def _stepped(text: str) -> str:
    head, rest = text.split("journeys:\n", 1)
    return head + STEPPED + rest[rest.index("slos:"):].replace("journey: lookup, ", "")


def _details(run: RunResult) -> list[tuple[Any, ...]]:
    return [(j.name, j.tags, sorted(j.statuses), [(s.name, s.tags) for s in j.steps],
             [(c.name, c.passed > 0, c.failed > 0) for c in j.checks]) for j in run.journeys]


def test_a_dask_run_carries_the_per_step_check_and_status_details_a_local_one_does(
        cluster: LocalCluster, server: TestServer) -> None:
    spec = load(_stepped(spec_text(server.url, cluster.address, duration="2s")))
    local = load(_stepped(spec_text(server.url, cluster.address, duration="2s"))
                 .split("execution:")[0])
    run = run_profile(server.url, spec.journeys, spec.profiles[0])
    alone = run_profile(server.url, local.journeys, local.profiles[0])
    assert run.extra["execution"]["engine"] == "dask" and "execution" not in alone.extra
    assert _details(run) == _details(alone)
    (flow,) = run.journeys
    assert [s.name for s in flow.steps] and flow.statuses[200] == run.requests
    assert [c.passed + c.failed for c in flow.checks] == [flow.steps[1].requests] * 2


def test_a_killed_host_makes_the_run_invalid_and_keeps_the_others(
        cluster: LocalCluster, server: TestServer) -> None:
    spec = load(spec_text(server.url, cluster.address, duration="4s"))
    victim = cluster.worker_pids()["node-b"]
    killed = threading.Event()

    def progress(event: object) -> None:
        if isinstance(event, IntervalProgress) and not killed.is_set():
            killed.set()
            os.kill(victim, signal.SIGKILL)

    began = time.monotonic()
    run = run_profile(server.url, spec.journeys, spec.profiles[0], progress=progress)
    took = time.monotonic() - began
    assert killed.is_set()
    assert not run.validity.valid
    assert any(re.fullmatch(r"generator node-b lost at \d+\.\d s", r)
               for r in run.validity.reasons), run.validity.reasons
    a, b = run.extra["hosts"]
    assert a["valid"] and a["requests"] > 0 and run.requests == a["requests"]
    assert not b["valid"] and b["requests"] == 0
    assert took < 4 + 10
    cluster.wait_for(2)  # the nanny brings node-b back for whatever runs next
