"""Worker processes: one uvloop process per worker, coordinated over pipes.

Each child imports the driver, says ``ready``, receives its WorkerPlan (all children share
one start time on the system-wide monotonic clock), runs it, streams a trimmed recorder
state per closed interval, and sends its WorkerReport at the end. The parent merges the
workers' states interval by interval (engine.driver.interval_merge: interval k once every
worker delivered k, in order, each once) for ``on_interval``/progress, and forwards stop
orders.
Children ignore SIGINT: the parent decides how a Ctrl-C ends the run.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from engine.driver.interval_merge import IntervalMerge
from engine.driver.runtime import (
    OPEN_HOUSEKEEPING_S,
    Hooks,
    WorkerPlan,
    WorkerReport,
    run_worker,
)

READY_TIMEOUT_S = 60.0
KILL_AFTER_S = 10.0
"""A child still running this long after the hard stop is killed."""


class PipeHooks:
    """Child side: intervals go up the pipe; a ``stop`` message comes down it."""

    stop_poll_s = OPEN_HOUSEKEEPING_S
    """The parent's stop (a tripped gate on the merged intervals) reaches every worker fast."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.reason = ""

    def interval(self, recorder: Any) -> str:
        state = recorder.to_state()
        state["intervals"] = state["intervals"][-1:]  # constant size per message
        self.conn.send(("interval", state))
        return ""

    def stop_requested(self) -> str:
        while not self.reason and self.conn.poll():
            msg = self.conn.recv()
            if msg[0] == "stop":
                self.reason = str(msg[1])
        return self.reason


def child_main(conn: Connection) -> None:
    """Entry point of a worker process (spawned)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(("ready",))
    plan = conn.recv()
    try:
        report = run_worker(plan, PipeHooks(conn))
    except Exception as exc:  # reported to the parent, which raises it there
        conn.send(("error", f"worker {plan.index}: {type(exc).__name__}: {exc}"))
        return
    conn.send(("done", report))


class Processes:
    """Parent side of a multi-worker run."""

    def __init__(self, count: int, hooks: Hooks,
                 merge: Callable[[list[dict[str, Any]]], Any]) -> None:
        self.count, self.hooks, self.merge = count, hooks, merge
        ctx = mp.get_context("spawn")  # no fork: the parent may hold threads (the sampler's)
        pipes = [ctx.Pipe() for _ in range(count)]
        self.conns = [p[0] for p in pipes]
        self.procs = [ctx.Process(target=child_main, args=(p[1],), daemon=True)
                      for p in pipes]
        self.live = IntervalMerge(range(count))
        self.reports: dict[int, WorkerReport] = {}
        self.abort = ""

    def run(self, make_plan: Callable[[int], WorkerPlan]) -> tuple[list[WorkerReport], str]:
        """Start the children, run the plans, return their reports and any abort reason."""
        for p in self.procs:
            p.start()
        try:
            self._await_ready()
            plans = [make_plan(i) for i in range(self.count)]
            for conn, plan in zip(self.conns, plans, strict=True):
                conn.send(plan)
            self._loop(plans[0].hard_stop_ns + int(KILL_AFTER_S * 1e9))
        finally:
            self._reap()
        return [self.reports[i] for i in sorted(self.reports)], self.abort

    def _await_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        for i, conn in enumerate(self.conns):
            if not conn.poll(max(0.0, deadline - time.monotonic())) or conn.recv()[0] != "ready":
                raise RuntimeError(f"worker {i} did not start within {READY_TIMEOUT_S:.0f}s")

    def _loop(self, kill_ns: int) -> None:
        live = {id(c): i for i, c in enumerate(self.conns)}
        while len(self.reports) < self.count and time.monotonic_ns() < kill_ns:
            for conn in wait([c for c in self.conns if id(c) in live], timeout=0.05):
                assert isinstance(conn, Connection)
                self._receive(live, conn)
            if not self.abort:
                self._stop_if(self.hooks.stop_requested())
            if not any(p.is_alive() for p in self.procs) and len(self.reports) < self.count:
                raise RuntimeError("a worker process died without a report")

    def _receive(self, live: dict[int, int], conn: Connection) -> None:
        i = live[id(conn)]
        try:
            msg = conn.recv()
        except EOFError:  # died: not waited for (the run fails without its report)
            del live[id(conn)]
            self.live.lose(i)
            self._intervals()
            return
        if msg[0] == "interval":
            self.live.add(i, msg[1])
            self._intervals()
        elif msg[0] == "done":  # what it sent still merges; what it did not is never whole
            self.reports[i] = msg[1]
            del live[id(conn)]
        elif msg[0] == "error":
            raise RuntimeError(str(msg[1]))

    def _intervals(self) -> None:
        """Hand the hooks each interval every worker has closed, merged, in index order."""
        for _, states in self.live.ready():
            if self.abort:
                return
            self._stop_if(self.hooks.interval(self.merge(states)))

    def _stop_if(self, reason: str) -> None:
        if reason:
            self.abort = reason
            for conn in self.conns:
                with contextlib.suppress(OSError, EOFError):
                    conn.send(("stop", reason))

    def _reap(self) -> None:
        for p in self.procs:
            p.join(timeout=2.0)
            if p.is_alive():
                p.kill()
                p.join(timeout=2.0)
