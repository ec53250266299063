"""Closed model: virtual users, each with its own keep-alive connection, looping journeys.

A virtual user sends a step, waits for its answer, pauses the step's think time, and goes
on; at the end of a journey it picks the next one from the weighted mix. A user only sends
when its previous request ended, so a stalled server makes users wait instead of piling up
late requests: the closed model HIDES stalls from the percentiles (coordinated omission),
which is why the open model is the default. Here intended time = actual send time.
"""

from __future__ import annotations

import asyncio
from time import monotonic_ns
from typing import Any

from engine.driver.catalog import Catalog
from engine.driver.http import Connection, Endpoint, open_connection
from engine.driver.pool import Timing, Tracker
from engine.driver.shapes import Shape
from engine.driver.stateful import Instance, Stats, connections_for
from engine.hotpath.native import CONNECT

RETRY_S = 0.05
"""Pause before a user retries after a failed connect, so a dead target is not hammered."""


class VirtualUser:
    """One user: a state machine driven by connection callbacks (no task per request)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ep: Endpoint, recorder: Any,
                 catalog: Catalog, tracker: Tracker, on_timing: Timing,
                 stats: Stats | None = None) -> None:
        self.loop, self.ep, self.rec, self.cat, self.tracker = (
            loop, ep, recorder, catalog, tracker)
        self.on_timing = on_timing
        self.stats = stats
        self.new_conn = connections_for(catalog, stats)
        self.inst = Instance()
        """The user's variables and cookie jar, kept over its iterations."""
        self.conn: Connection | None = None
        self.active = True
        self.journey = self.step = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._begin()

    def _begin(self) -> None:
        if self.active:
            self.journey, self.step = self.cat.next_journey(), 0
            self._go()

    def _go(self) -> None:
        if not self.active:
            return
        conn = self.conn
        if conn is None:
            self._task = self.loop.create_task(self._connect_and_send())
            return
        j, s, cat = self.journey, self.step, self.cat
        if cat.plans:
            conn.prepare(cat.plans[j][s], self.inst)  # type: ignore[attr-defined]
            data = cat.request_for(j, s, self.inst)
        else:
            data = cat.request(j, s)
        conn.send(data, j, s, monotonic_ns(), cat.expects[j][s], cat.heads[j][s],
                  cat.follows[j][s], cat.hops[j][s])

    async def _connect_and_send(self) -> None:
        conn = self.new_conn(self.rec, self, self.on_timing)
        t0 = monotonic_ns()
        if not await open_connection(self.loop, self.ep, conn):
            done = monotonic_ns()
            self.rec.record(self.journey, t0, t0, done, CONNECT)
            if self.stats is not None and self.cat.plans:
                plan = self.cat.plans[self.journey][self.step]
                self.stats.step_record(plan.series, t0, t0, done, CONNECT)
            self.loop.call_later(RETRY_S, self._begin)
            return
        self.tracker.conns.add(conn)
        if not self.active:
            conn.close()
            return
        self.conn = conn
        conn.repeat(self.cat.repeatable())  # fast path: no Python call between requests
        self._go()

    # -- Owner ---------------------------------------------------------------------------
    def released(self, conn: Connection, reusable: bool) -> None:
        if not reusable:
            self.conn = None
        last = self.cat.steps(self.journey) - 1
        if self.inst.ended:  # an extraction failed: this iteration ends here
            self.inst.ended = ""
            self.step = last
        think = self.cat.think(self.journey, self.step)
        nxt = self._begin if self.step >= last else self._next_step
        if think > 0:
            self.loop.call_later(think / 1e9, nxt)
        else:
            nxt()

    def _next_step(self) -> None:
        self.step += 1
        self._go()

    def lost(self, conn: Connection) -> None:
        self.tracker.conns.discard(conn)
        if self.conn is conn:
            self.conn = None

    def stop(self) -> None:
        """Send nothing more; a request in flight still completes (or times out)."""
        self.active = False
        if self.conn is not None:
            self.conn.repeat(None)
        if self._task is not None and not self._task.done():
            self._task.cancel()


class UserController:
    """Keeps the number of active users at this worker's share of the shape's level."""

    def __init__(self, make: Any, shape: Shape, start_ns: int, worker: int,
                 workers: int) -> None:
        self.make, self.shape, self.start_ns = make, shape, start_ns
        self.worker, self.workers = worker, workers
        self.users: list[VirtualUser] = []
        self.finished = False

    def share(self, t_s: float) -> int:
        """This worker's users at ``t_s``: round(level) split as evenly as possible."""
        total = round(self.shape.level(t_s))
        return (total + self.workers - 1 - self.worker) // self.workers

    def adjust(self, now_ns: int) -> None:
        """Start or stop users to match the shape; called every few tens of ms."""
        if self.finished:
            return
        t = (now_ns - self.start_ns) / 1e9
        if t >= self.shape.duration_s:
            self.stop()
            return
        want = self.share(t)
        while len(self.users) < want:
            user = self.make()
            self.users.append(user)
            user.start()
        while len(self.users) > want:
            self.users.pop().stop()

    def stop(self) -> None:
        self.finished = True
        for u in self.users:
            u.stop()
        self.users.clear()
