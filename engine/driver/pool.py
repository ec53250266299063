"""Open model: a schedule of intended send times feeding a bounded keep-alive pool.

Requests are dispatched at their intended time whatever the server does (no coordinated
omission): a free connection takes the request at once, otherwise a new connection is
opened (up to the limit), otherwise the request waits in a bounded FIFO queue, and when
that is full it is counted DROPPED. Response time always runs from the intended time.
"""

from __future__ import annotations

import asyncio
import importlib
from collections import deque
from collections.abc import Iterator
from time import monotonic_ns
from typing import Any

from engine.driver.catalog import Catalog
from engine.driver.http import Connection, Endpoint, Timings, open_connection
from engine.driver.shapes import Shape, arrivals
from engine.driver.stateful import Instance, Stats, connections_for
from engine.driver.timer import PreciseTimer
from engine.hotpath.native import CONNECT, DROPPED

Timing = Timings | None
SPIN_NS = 1_500_000
"""Without timerfd, below this gap the scheduler polls every loop turn (libuv timers are
ms-coarse)."""
BATCH_WINDOW_NS = 1_000_000
"""Open-model wake-ups are at least this far apart (ns), and each also sends what is due
within half a window after it, so every send leaves within window/2 (0.5 ms) of its
intended time, early or late. A late send is timed from its intended time (the wait
counts: no coordinated omission), an early one from the wake-up that sent it; the lag
histogram records lateness (0 for an early send). Half the wake-ups of a late-only window
of the same worst lateness (the run's extra says dispatch_window_ns). At 1,000/s or below
sends are a window apart or more and each gets its own wake-up at its time."""
MAX_BATCH = 4096
"""At most this many sends per wake-up: a generator that fell behind still returns to the
event loop (answers, housekeeping, stop checks) between batches, and its lag keeps growing
from each send's intended time."""


class Tracker:
    """Every live connection of a worker, for the timeout sweep and the final close."""

    def __init__(self, timeout_s: float) -> None:
        self.conns: set[Connection] = set()
        self.timeout_ns = int(timeout_s * 1e9)

    def sweep(self, now_ns: int) -> None:
        """Abort requests sent more than the timeout ago (recorded as TIMEOUT)."""
        deadline = now_ns - self.timeout_ns
        for c in [c for c in self.conns if c.busy and c.sent < deadline]:
            c.expire(deadline)

    def next_deadline(self) -> int | None:
        """When the oldest request in flight times out (ns, monotonic); None when none is."""
        sent = [c.sent for c in self.conns if c.busy]
        return min(sent) + self.timeout_ns if sent else None

    def busy(self) -> int:
        return sum(1 for c in self.conns if c.busy)

    def close_all(self, record_as_timeout: bool) -> int:
        """Close every connection; returns how many had a request in flight."""
        inflight = 0
        for c in list(self.conns):
            if c.busy:
                inflight += 1
                if record_as_timeout:
                    c.expire(monotonic_ns() + 1)
            c.close()
        return inflight


class OpenPool:
    """Keep-alive connections (at most ``limit``) and the bounded wait queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ep: Endpoint, recorder: Any,
                 catalog: Catalog, tracker: Tracker, limit: int, max_queue: int,
                 on_timing: Timing = None, stats: Stats | None = None) -> None:
        self.loop, self.ep, self.rec, self.cat = loop, ep, recorder, catalog
        self.tracker, self.limit, self.max_queue = tracker, max(1, limit), max(0, max_queue)
        self.on_timing = on_timing
        self.stats = stats
        self.new_conn = connections_for(catalog, stats)
        self.idle: list[Connection] = []
        self.queue: deque[tuple[int, int, int, Instance | None]] = deque()
        self.connecting = 0
        self.closing = False
        self.multi_step = any(catalog.steps(j) > 1 for j in range(len(catalog.names)))
        self.single = catalog.single()
        self._tasks: set[asyncio.Task[None]] = set()

    def dispatch(self, journey: int, step: int, intended_ns: int,
                 inst: Instance | None = None) -> None:
        """Send now, open a connection, queue, or count DROPPED (in that order)."""
        if self.idle:
            self._send(self.idle.pop(), journey, step, intended_ns, inst)
        elif len(self.tracker.conns) + self.connecting < self.limit:
            self._connect(journey, step, intended_ns, inst)
        elif len(self.queue) < self.max_queue:
            self.queue.append((journey, step, intended_ns, inst))
        else:
            self._unsent(journey, step, intended_ns, intended_ns, DROPPED)

    def _unsent(self, journey: int, step: int, intended_ns: int, t0: int, outcome: int) -> None:
        """A request that never got an answer from a connection (DROPPED, CONNECT)."""
        done = intended_ns if outcome == DROPPED else monotonic_ns()
        self.rec.record(journey, intended_ns, t0, done, outcome)
        if self.stats is not None and self.cat.plans:
            self.stats.step_record(self.cat.plans[journey][step].series, intended_ns, t0,
                                   done, outcome)

    def _send(self, conn: Connection, journey: int, step: int, intended_ns: int,
              inst: Instance | None = None) -> None:
        cat = self.cat
        if cat.plans:  # stateful: the instance's variables and cookies
            if inst is None:
                inst = Instance()
            conn.prepare(cat.plans[journey][step], inst)  # type: ignore[attr-defined]
            data = cat.request_for(journey, step, inst)
        else:
            data = cat.request(journey, step)
        conn.send(data, journey, step, intended_ns, cat.expects[journey][step],
                  cat.heads[journey][step], cat.follows[journey][step], cat.hops[journey][step])

    def _connect(self, journey: int, step: int, intended_ns: int,
                 inst: Instance | None) -> None:
        self.connecting += 1
        task = self.loop.create_task(self._open(journey, step, intended_ns, inst))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, journey: int, step: int, intended_ns: int,
                    inst: Instance | None) -> None:
        conn = self.new_conn(self.rec, self, self.on_timing)
        t0 = monotonic_ns()
        ok = await open_connection(self.loop, self.ep, conn)
        self.connecting -= 1
        if not ok:
            self._unsent(journey, step, intended_ns, t0, CONNECT)
            self._serve_queue()
            return
        self.tracker.conns.add(conn)
        if self.closing:
            conn.close()
            return
        if not self.multi_step:  # released() would only put it back on the idle list
            conn.rejoin(self.idle, self.queue)
        self._send(conn, journey, step, intended_ns, inst)

    def _serve_queue(self) -> None:
        if self.queue and not self.closing:
            self.dispatch(*self.queue.popleft())

    # -- Owner ---------------------------------------------------------------------------
    def released(self, conn: Connection, reusable: bool) -> None:
        # read before the connection takes a queued request (it overwrites them)
        journey, step = conn.journey, conn.step
        inst = getattr(conn, "state", None) if self.multi_step else None
        if reusable and not self.closing:
            if self.queue:
                self._send(conn, *self.queue.popleft())
            else:
                self.idle.append(conn)
        if self.multi_step:
            self._chain(journey, step, inst)

    def _chain(self, journey: int, step: int, inst: Instance | None) -> None:
        """Multi-step journeys: the next step is due when this one ends (+ think time),
        unless the instance ended (an extraction failed)."""
        if step + 1 >= self.cat.steps(journey) or self.closing or (inst and inst.ended):
            return
        think = self.cat.think(journey, step)
        if think <= 0:
            self.dispatch(journey, step + 1, monotonic_ns(), inst)
        else:
            self.loop.call_later(think / 1e9, self._due, journey, step + 1, inst)

    def _due(self, journey: int, step: int, inst: Instance | None) -> None:
        if not self.closing:
            self.dispatch(journey, step, monotonic_ns(), inst)

    def lost(self, conn: Connection) -> None:
        self.tracker.conns.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)
        self._serve_queue()

    def pending(self) -> int:
        """Requests not yet finished: queued, connecting or in flight."""
        return len(self.queue) + self.connecting + self.tracker.busy()

    def shut(self, record: bool) -> int:
        """Stop; queued requests are DROPPED when ``record``. Returns how many were queued."""
        self.closing = True
        for conn in self.tracker.conns:  # released() decides again: nothing rejoins now
            conn.rejoin(None, None)
        queued = len(self.queue)
        if record:
            for journey, step, intended, _ in self.queue:
                self._unsent(journey, step, intended, intended, DROPPED)
        self.queue.clear()
        for t in list(self._tasks):
            t.cancel()
        return queued


def make_scheduler(loop: asyncio.AbstractEventLoop, pool: OpenPool, shape: Shape,
                   start_ns: int, phase: float, lag: Any,
                   window_ns: int = BATCH_WINDOW_NS) -> Any:
    """The native send loop (ext/scheduler.pxi) when the native hot path is selected and a
    timerfd is available, else the Python ``Scheduler`` below (PERFOPT_PURE=1 forces it)."""
    from engine.hotpath import native

    if native.IMPLEMENTATION == "c" and not native.pure_requested():
        cls = getattr(importlib.import_module("engine.hotpath._native"), "CScheduler", None)
        if cls is not None:
            try:
                return cls(loop, pool, shape, start_ns, phase, lag, window_ns)
            except OSError:
                pass  # no timerfd: the Python one falls back to call_later
    return Scheduler(loop, pool, shape, start_ns, phase, lag, window_ns)


class Scheduler:
    """Dispatches arrivals at their intended times; records how late each dispatch was."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: OpenPool, shape: Shape,
                 start_ns: int, phase: float, lag: Any, window_ns: int = BATCH_WINDOW_NS
                 ) -> None:
        self.loop, self.pool, self.lag, self.start_ns = loop, pool, lag, start_ns
        self.window_ns = max(0, window_ns)
        self._times: Iterator[float] = arrivals(shape, phase)
        self.dispatched = self.wakeups = 0
        self.finished = False
        self.lag_max_ns = 0
        self._armed_ns = 0
        self.next_ns = self._advance()
        self.timer = PreciseTimer.create()
        if self.timer is not None:
            loop.add_reader(self.timer.fd, self._on_timer)

    def _advance(self) -> int:
        t = next(self._times, None)
        if t is None:
            self.finished = True
            return 0
        return self.start_ns + int(t * 1e9)

    def start(self) -> None:
        if self.finished:
            return
        if self.timer is not None:  # the first arrival at its time, as CScheduler.start does
            self._armed_ns = self.next_ns
            self.timer.arm(self.next_ns)
        else:
            self._arm(self.next_ns, monotonic_ns())

    def stop(self) -> None:
        self.finished = True
        if self.timer is not None:
            self.loop.remove_reader(self.timer.fd)
            self.timer.close()
            self.timer = None

    def _arm(self, when_ns: int, now_ns: int, earliest_ns: int | None = None) -> None:
        """The next wake-up at ``when_ns``, not before ``earliest_ns`` (default a window
        after ``now_ns``)."""
        if self.timer is not None:
            # re-arming also resets a pending expiry
            at = max(when_ns, now_ns + self.window_ns if earliest_ns is None else earliest_ns)
            self._armed_ns = at
            self.timer.arm(at)
        elif when_ns - now_ns > SPIN_NS:
            self.loop.call_later((when_ns - now_ns - SPIN_NS + 500_000) / 1e9, self._run)
        else:
            self.loop.call_soon(self._run)

    def _on_timer(self) -> None:
        # no read(): _run re-arms (timerfd_settime zeroes the expiry count) or clears
        self._run()

    def _run(self) -> None:
        if self.finished:
            return
        now = monotonic_ns()
        nxt, cat, pool, lag = self.next_ns, self.pool.cat, self.pool, self.lag
        idle, single = pool.idle, pool.single
        n, horizon = 0, now + (self.window_ns >> 1)
        self.wakeups += 1
        while nxt <= horizon and n < MAX_BATCH:
            at = nxt if nxt <= now else now  # due within half a window: goes now, from now
            if single is not None and idle:  # the common case, without the general path
                data = single[0]  # the one request, or its TraceTemplate: written anew
                idle.pop().send(data if isinstance(data, bytes) else data.next_request(), 0, 0,
                                at, single[1], single[2], single[3], single[4])
            else:
                pool.dispatch(cat.next_journey(), 0, at)
            late = now - at
            lag.record(late)
            if late > self.lag_max_ns:
                self.lag_max_ns = late
            n += 1
            nxt = self._advance()
            if self.finished:
                break
        self.dispatched += n
        self.next_ns = nxt
        if self.finished:
            self.stop()
        else:
            # behind by more than a batch: arm for "now" (no window) so it goes on at once
            # the window counts from this wake-up's PLANNED time, as CScheduler's does: from
            # `now`, each late wake-up pushed the next one later (at 1,000/s lateness crept up
            # to half a window)
            self._arm(nxt, now - self.window_ns if nxt <= now else now,
                      None if nxt <= now else self._armed_ns + self.window_ns)
