"""The Dask side of a run: connect, find the generator hosts, measure their clocks.

Generator hosts are Dask workers started with ``--resources generator=1`` (one per
machine). A host's clock offset comes from round trips: the host reads its wall clock
while the coordinator times the call; the best of PROBES round trips bounds the error
to half that round trip (NTP's reasoning).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Sequence
from typing import Any

from engine.scale.errors import ClusterUnavailable
from engine.scale.plan import Host

RESOURCE = "generator"
PROBES = 12
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


def _dask() -> Any:
    """The ``distributed`` module (untyped; imported only on this path)."""
    return importlib.import_module("distributed")


def worker_client() -> Any:
    """The client of the Dask worker this task runs in."""
    return _dask().get_client()


def scheduler_address(configured: str | None) -> str:
    """The spec's (or --scheduler's) address, else $DASK_SCHEDULER_ADDRESS."""
    address = configured or os.environ.get(SCHEDULER_ENV, "")
    if not address:
        raise ClusterUnavailable("execution engine dask needs a scheduler: set "
                                 "execution.scheduler, apply --scheduler or "
                                 f"${SCHEDULER_ENV}")
    return address


def connect(address: str, timeout_s: float) -> Any:
    """A Dask client of the scheduler at ``address``; ClusterUnavailable within timeout_s."""
    try:
        return _dask().Client(address, timeout=max(0.5, timeout_s), set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterUnavailable(f"dask scheduler {address} not reachable within "
                                 f"{timeout_s:g} s ({type(exc).__name__}: {exc})") from None


def generator_workers(client: Any) -> dict[str, str]:
    """Address -> name of every worker that offers the generator resource."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return {addr: str(w.get("name", addr)) for addr, w in workers.items()
            if float((w.get("resources") or {}).get(RESOURCE, 0)) >= 1}


def pick_hosts(found: dict[str, str], nodes: int, address: str) -> list[tuple[str, str]]:
    """(name, address) of the hosts to use, by name; too few is ClusterUnavailable."""
    ordered = sorted((name, addr) for addr, name in found.items())
    wanted = nodes or len(ordered)
    if not ordered or len(ordered) < wanted:
        have = ", ".join(n for n, _ in ordered) or "none"
        raise ClusterUnavailable(
            f"execution needs {wanted or 1} generator host(s) and the cluster at {address} "
            f"has {len(ordered)} ({have}): start one `dask worker {address} --resources "
            f"{RESOURCE}=1` per machine, or lower execution.nodes")
    return ordered[:wanted]


def _probe() -> tuple[int, int]:
    return time.time_ns(), os.cpu_count() or 1


def measure(client: Any, chosen: Sequence[tuple[str, str]]) -> list[Host]:
    """Each host's clock offset (best of PROBES round trips) and core count."""
    hosts = []
    for name, addr in chosen:
        best: tuple[int, int, int] | None = None
        for _ in range(PROBES):
            t0 = time.time_ns()
            remote, cpus = client.run(_probe, workers=[addr])[addr]
            t1 = time.time_ns()
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, remote - (t0 + t1) // 2, cpus)
        assert best is not None
        hosts.append(Host(name, addr, best[2], best[1], best[0]))
    return hosts


def alive(client: Any) -> set[str]:
    """Addresses of the workers the scheduler knows now."""
    return set(client.scheduler_info(n_workers=-1).get("workers", {}))


class Channels:
    """The run's named Dask queues, variable and event (coordinator and hosts alike)."""

    def __init__(self, run_id: str, client: Any) -> None:
        dd = _dask()
        self.ready: Any = dd.Queue(f"perfopt-{run_id}-ready", client=client)
        self.intervals: Any = dd.Queue(f"perfopt-{run_id}-intervals", client=client)
        self.start: Any = dd.Variable(f"perfopt-{run_id}-start", client=client)
        self.stop: Any = dd.Event(f"perfopt-{run_id}-stop", client=client)

    def release(self) -> None:
        """Leave nothing of the run on a long-lived scheduler (best effort)."""
        for release in (self.start.delete, lambda: self.intervals.get(batch=True),
                        lambda: self.ready.get(batch=True)):
            with contextlib.suppress(Exception):
                release()
