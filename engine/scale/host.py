"""The task a generator host runs: today's worker processes, started at the agreed instant.

``run_host`` runs inside a Dask worker (pinned to that host). It readies its workers, says
``ready``, waits for the coordinator's start instant (given in this host's wall clock), turns
it into a monotonic start, and runs its slice (engine.scale.plan). Closed intervals go back
through a queue, by a sender thread so the event loop never waits on the network; a watcher
thread turns the coordinator's stop event into the workers' stop request.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from engine.driver.assemble import merge_states
from engine.driver.run import HARD_STOP_GRACE_S
from engine.driver.runtime import OPEN_HOUSEKEEPING_S, WorkerPlan, WorkerReport, run_worker
from engine.driver.worker import Processes
from engine.scale.plan import HostPlan, HostReport

STOP_POLL_S = 0.25


class Link:
    """This host's end of the run's channels (engine.scale.cluster.Channels)."""

    def __init__(self, run_id: str, name: str) -> None:
        from engine.scale.cluster import Channels, worker_client

        self.name = name
        self.channels = Channels(run_id, worker_client())
        self.outbox: queue.Queue[Any] = queue.Queue()
        self.stopped = threading.Event()
        self.closed = threading.Event()
        self.threads = [threading.Thread(target=self._send, daemon=True),
                        threading.Thread(target=self._watch, daemon=True)]
        for t in self.threads:
            t.start()

    def _send(self) -> None:
        while (item := self.outbox.get()) is not None:
            with contextlib.suppress(Exception):  # a lost interval only delays progress
                self.channels.intervals.put(item)

    def _watch(self) -> None:
        while not self.closed.is_set():
            with contextlib.suppress(Exception):
                if self.channels.stop.wait(timeout=STOP_POLL_S):
                    self.stopped.set()
                    return

    def ready_then_start(self, timeout_s: float) -> int:
        """Say ready; return the agreed start on this host's wall clock (ns)."""
        self.channels.ready.put(self.name)
        starts = self.channels.start.get(timeout=timeout_s)
        return int(starts[self.name])

    def close(self) -> None:
        self.closed.set()
        self.outbox.put(None)
        for t in self.threads:
            t.join(timeout=STOP_POLL_S * 4)


class HostHooks:
    """The workers' hooks on a host: intervals out, the coordinator's stop in."""

    stop_poll_s = OPEN_HOUSEKEEPING_S
    """The coordinator's stop reaches every host's workers fast."""

    def __init__(self, link: Link) -> None:
        self.link = link

    def interval(self, recorder: Any) -> str:
        state = recorder.to_state()
        state["intervals"] = state["intervals"][-1:]  # constant size per message
        self.link.outbox.put((self.link.name, state))
        return ""

    def stop_requested(self) -> str:
        return "stopped by the coordinator" if self.link.stopped.is_set() else ""


def run_host(plan: HostPlan) -> HostReport:
    """Dask task: run this host's slice of the run; its workers' reports."""
    link = Link(plan.run_id, plan.name)
    try:
        return _run(plan, link)
    finally:
        link.close()


class _Start:
    """The agreed start, fetched once (when the host's workers are ready)."""

    def __init__(self, plan: HostPlan, link: Link) -> None:
        self.plan, self.link = plan, link
        self.start_ns = self.late_ns = 0

    def worker_plan(self, i: int) -> WorkerPlan:
        p = self.plan
        if i == 0:
            wall = self.link.ready_then_start(p.ready_timeout_s)
            self.start_ns = time.monotonic_ns() + (wall - time.time_ns())
            self.late_ns = max(0, time.monotonic_ns() - self.start_ns)
        s, start = p.settings, self.start_ns
        hard = start + int((p.shape.duration_s + s.timeout_s + HARD_STOP_GRACE_S) * 1e9)
        if p.max_duration_s is not None:
            hard = min(hard, start + int(p.max_duration_s * 1e9))
        return WorkerPlan(p.first + i, p.total, p.target_url, p.journeys, p.data, p.shape, s,
                          start, hard, p.verify_tls, think_s=p.think_s, ca_file=p.ca_file,
                          think=p.think)


def _run(plan: HostPlan, link: Link) -> HostReport:
    start = _Start(plan, link)
    hooks = HostHooks(link)
    reports: list[WorkerReport]
    if plan.workers == 1:
        reports = [run_worker(start.worker_plan(0), hooks)]
    else:
        with _children_allowed():
            reports, _ = Processes(plan.workers, hooks, merge_states).run(start.worker_plan)
    return HostReport(plan.name, tuple(reports), start.start_ns, start.late_ns)


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """A Dask worker under a nanny is a daemonic process, which multiprocessing forbids to
    have children; the host's worker processes are bounded by their hard stop and reaped
    by Processes, so the flag is lifted while they run."""
    config: dict[str, Any] = mp.current_process()._config  # type: ignore[attr-defined]
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is not None:
            config["daemon"] = daemon
