"""One worker's run: a uvloop event loop driving the open or the closed model to a Recorder.

The same code runs in the calling process (one worker) and in each worker process; only
the ``Hooks`` differ (direct callbacks, or messages on a pipe). Every run is bounded: load
stops at the planned duration, in-flight requests get at most the request timeout, and
the hard stop (``WorkerPlan.hard_stop_ns``) ends the run whatever happens.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from engine.answered import answers_in_row
from engine.driver.catalog import compile_catalog
from engine.driver.closed import UserController, VirtualUser
from engine.driver.http import Endpoint, ssl_context
from engine.driver.pool import OpenPool, Tracker, make_scheduler
from engine.driver.redirects import CROSS_ORIGIN
from engine.driver.servertiming import ServerTimings
from engine.driver.shapes import Shape
from engine.driver.stateful import Stats
from engine.driver.templates import load_data
from engine.hotpath.native import DROPPED, Histogram, Recorder
from engine.spec.model import DataFile, Journey, RunSettings, ThinkTime

HOUSEKEEPING_S = 0.02
"""Timeout sweep, user adjustment and stop checks run this often (seconds)."""
OPEN_HOUSEKEEPING_S = 0.1
"""The open model's shortest housekeeping gap (it has no users to adjust: the scheduler times
its own sends): the drain's poll, the timeout sweep's closest spacing, and how often a worker
polls for its parent's or coordinator's stop."""
OPEN_STOP_CHECK_S = 0.5
"""While the open model generates, housekeeping wakes when something is due (``_next_wait``:
an interval's end, a request's timeout, the schedule's end, the hard stop) and at least
this often for the stops only a poll sees (``Hooks.stop_poll_s``: Ctrl-C and the maximum run
time in apply's own process; a parent's or coordinator's order is polled every
OPEN_HOUSEKEEPING_S, so a tripped gate stops every worker as soon as before). At 100/s that is
~3 wake-ups a second instead of 10 at a fixed 0.1 s, each ~100 us of a cold CPU on a VM
(benchmarks/peer_idle.py)."""
_DUE_SLACK_NS = 2_000_000
"""Wake this long after a due time: the loop's timers have millisecond resolution, and a
wake-up a little early would find nothing due and sleep again."""
ABORT_GRACE_S = 1.0
"""In-flight requests get this long to finish after a stop request."""


@dataclass(frozen=True)
class WorkerPlan:
    """What one worker does. ``shape`` is the whole run's shape; the worker takes its share."""

    index: int
    count: int
    target_url: str
    journeys: tuple[Journey, ...]
    data: tuple[DataFile, ...]
    shape: Shape
    settings: RunSettings
    start_ns: int
    hard_stop_ns: int
    verify_tls: bool = True
    seed: int | None = None
    think_s: float = 0.0
    """Pause between a closed-model user's iterations (the profile's think time), s."""
    ca_file: str | None = None
    """PEM CA bundle to trust for an https target (target tls.ca_file)."""
    think: ThinkTime | None = None
    """The profile's think time as a distribution (``think_s`` is its mean)."""

    @property
    def shape_end_ns(self) -> int:
        """When the shape's last arrival is due at the latest (monotonic ns)."""
        return self.start_ns + int(self.shape.duration_s * 1e9)

    @property
    def connections(self) -> int:
        """This worker's share of the connection limit (at least 1)."""
        n = self.settings.connections
        return max(1, (n + self.count - 1 - self.index) // self.count)


@dataclass(frozen=True)
class WorkerReport:
    """What a worker sends back: recorder state and the generator's own measurements."""

    index: int
    state: dict[str, Any]
    lag: str
    """Encoded histogram of dispatch lateness (ns), open model."""
    lag_max_ns: int
    dispatched: int
    planned: float
    load_s: float
    """Seconds from start until load generation stopped (planned end or abort)."""
    cpu_s: float
    rss_growth_bytes: int
    wall_s: float = 0.0
    """Seconds from start until the worker finished (drain included): CPU is over this."""
    server_timing: list[dict[str, str]] = field(default_factory=list)
    aborted: str = ""
    cancelled: int = 0
    connect_error: str = ""
    """The worker's first connect failure in words (bounded, engine.driver.http)."""
    detail: dict[str, Any] = field(default_factory=dict)
    """Status codes, checks, early ends, per-step series (engine.driver.stateful.Stats)."""
    window_ns: int = 0
    """Open model: the scheduler's batching window (wake-ups at least this far apart), ns."""
    wakeups: int = 0
    """Open model: how many times the scheduler's timer woke it."""
    answerable: int | None = None
    """Answers the load could have (engine.answered.in_load): those recorded when it stopped
    plus the requests then handed to the target that did not fail after; None: not counted."""


class Hooks(Protocol):
    def interval(self, recorder: Any) -> str:
        """A new interval closed; a non-empty reason aborts the run."""

    def stop_requested(self) -> str:
        """A non-empty reason stops the run (Ctrl-C, max duration, parent's order)."""

    @property
    def stop_poll_s(self) -> float:
        """How soon a stop must be seen: the open model asks ``stop_requested`` at least this
        often while nothing else is due."""


def endpoint(url: str, connect_timeout_s: float, verify_tls: bool,
             ca_file: str | None = None) -> Endpoint:
    """Parse ``scheme://host:port``; ValueError for anything but http/https."""
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"target url {url!r}: expected http://HOST[:PORT] or https://...")
    tls = u.scheme == "https"
    port = u.port or (443 if tls else 80)
    host = u.hostname
    shown = f"[{host}]" if ":" in host else host
    header = shown if port == (443 if tls else 80) else f"{shown}:{port}"
    return Endpoint(host, port, ssl_context(verify_tls, ca_file) if tls else None,
                    host if tls else None, connect_timeout_s, header)


def run_worker(plan: WorkerPlan, hooks: Hooks) -> WorkerReport:
    """Run one worker to completion on a fresh uvloop loop (blocks the calling thread)."""
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:  # the driver still works, only slower
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_drive(plan, hooks, loop))
    finally:
        loop.close()


class _Run:
    """The objects of one worker run, wired together."""

    def __init__(self, plan: WorkerPlan, loop: asyncio.AbstractEventLoop) -> None:
        s = plan.settings
        self.plan, self.loop = plan, loop
        self.ep = ep = endpoint(plan.target_url, s.connect_timeout_s, plan.verify_tls,
                                plan.ca_file)
        cat = compile_catalog(plan.journeys, load_data(plan.data), ep.host_header,
                              plan.index, plan.count, plan.seed, plan.think_s, plan.think)
        self.rec = Recorder(list(cat.names), plan.start_ns, int(s.interval_s * 1e9))
        # per-step series keep run totals only: one interval spanning the whole run, so a
        # long soak does not carry a histogram per second and step back to the parent
        self.stats = stats = Stats(len(cat.names), list(cat.check_counts), list(cat.series),
                                   plan.start_ns, max(1, plan.hard_stop_ns - plan.start_ns))
        self.lag = Histogram()
        self.timings = ServerTimings(len(cat.names))
        self.tracker = Tracker(s.timeout_s)
        self.pool = OpenPool(loop, ep, self.rec, cat, self.tracker, plan.connections,
                             s.max_queue, self.timings, stats)
        self.share = plan.shape.scaled(1.0 / plan.count)
        self.sched: Any = None  # pool.Scheduler or its native twin (make_scheduler)
        self.users: UserController | None = None
        self.answerable: int | None = None
        self.every_s = OPEN_HOUSEKEEPING_S if plan.shape.model == "open" else HOUSEKEEPING_S
        if plan.shape.model == "open":
            self.sched = make_scheduler(loop, self.pool, self.share, plan.start_ns,
                                        plan.index / plan.count, self.lag)
        else:
            self.users = UserController(
                lambda: VirtualUser(loop, ep, self.rec, cat, self.tracker, self.timings, stats),
                plan.shape, plan.start_ns, plan.index, plan.count)

    async def start(self) -> None:
        """Arm the scheduler (it times the first arrival itself) or start the users."""
        if self.sched is not None:
            self.sched.start()
            return
        await asyncio.sleep(max(0.0, (self.plan.start_ns - time.monotonic_ns()) / 1e9))
        self.generating(time.monotonic_ns())

    def generating(self, now_ns: int) -> bool:
        if self.sched is not None:
            return not self.sched.finished
        assert self.users is not None
        self.users.adjust(now_ns)
        return not self.users.finished

    def stop_generating(self) -> None:
        if self.sched is not None:
            self.sched.stop()
        if self.users is not None:
            self.users.stop()

    def pending(self) -> int:
        return self.pool.pending() if self.sched is not None else self.tracker.busy()

    def counted(self) -> tuple[int, int]:
        """(answers, failures) recorded so far, every journey: ANSWERED outcomes, and the
        others but DROPPED (a request handed to the target that got no answer)."""
        totals = [sum(o) for o in zip(*(self.rec.outcomes(j)
                                        for j in range(len(self.rec.journeys))), strict=True)]
        if not totals:
            return 0, 0
        answered = int(answers_in_row(totals))
        return answered, sum(totals) - answered - totals[DROPPED]

    def in_flight(self) -> int:
        """Requests handed to a connection (sent or connecting) and not yet answered; the
        ones queued in the generator are not."""
        return self.pending() - (len(self.pool.queue) if self.sched is not None else 0)

    def dispatched(self) -> int:
        if self.sched is not None:
            return int(self.sched.dispatched)
        return sum(sum(self.rec.outcomes(j)) for j in range(len(self.rec.journeys)))


async def _drive(plan: WorkerPlan, hooks: Hooks, loop: asyncio.AbstractEventLoop
                 ) -> WorkerReport:
    CROSS_ORIGIN.clear()  # this run's, not an earlier run's in the same process
    run = _Run(plan, loop)
    # long-lived objects out of the collector's way while the load runs; no gc.collect()
    # first: in apply's process it takes ~50 ms, past the planned start (run.START_DELAY_S)
    # and so counted as schedule lag; unfreeze() at the end returns everything to the
    # collector, garbage included
    gc.freeze()
    rss0, cpu0 = _rss(), time.process_time()
    await run.start()
    aborted, load_end = await _generate(run, hooks)
    cancelled = await _drain(run, aborted != "")
    _finish(run.rec, plan, aborted != "")
    if run.stats.steps is not None:
        _finish(run.stats.steps, plan, aborted != "")
    gc.unfreeze()
    sched = run.sched
    return WorkerReport(
        plan.index, run.rec.to_state(), run.lag.encode(),
        sched.lag_max_ns if sched else 0, run.dispatched(),
        run.share.planned() if sched else 0.0, (load_end - plan.start_ns) / 1e9,
        time.process_time() - cpu0, max(0, _rss() - rss0), (time.monotonic_ns() - plan.start_ns) / 1e9,
        run.timings.encoded(), aborted, cancelled, next(iter(run.ep.errors), ""),
        {**run.stats.report(), "cross_origin": sorted(CROSS_ORIGIN)},
        sched.window_ns if sched else 0, sched.wakeups if sched else 0, run.answerable)


async def _generate(run: _Run, hooks: Hooks) -> tuple[str, int]:
    """Generate load until the shape ends, a stop, an abort or the hard stop."""
    plan, rec = run.plan, run.rec
    last_index = -1
    while True:  # the wait from the clock after the hooks ran: their time is not added to it
        await asyncio.sleep(_next_wait(run, time.monotonic_ns(), hooks.stop_poll_s))
        now = time.monotonic_ns()
        run.tracker.sweep(now)
        rec.tick(now)
        snap = rec.last_interval()
        if snap is not None and snap.index != last_index:
            last_index = snap.index
            reason = hooks.interval(rec)
            if reason:
                return reason, now
        reason = hooks.stop_requested()
        if reason:
            return reason, now
        if not run.generating(now) or now >= plan.hard_stop_ns:
            return "", min(now, plan.shape_end_ns)


def _next_wait(run: _Run, now: int, poll_s: float) -> float:
    """Seconds until housekeeping has something to do: the closed model's users adjust every
    HOUSEKEEPING_S; the open model wakes at its next due time, ``poll_s`` at most. Timeouts
    are swept at most every OPEN_HOUSEKEEPING_S (a target that stops answering at 20,000/s
    would otherwise wake it every few ms) and at least once a timeout from now (a request
    sent after this has its deadline no sooner): each is recorded at most 0.1 s late."""
    if run.sched is None:
        return run.every_s
    plan = run.plan
    interval = max(1, int(plan.settings.interval_s * 1e9))
    elapsed = max(0, now - plan.start_ns)
    due = [now + int(poll_s * 1e9), plan.hard_stop_ns,
           plan.start_ns + (elapsed // interval + 1) * interval + _DUE_SLACK_NS]
    end = plan.shape_end_ns + _DUE_SLACK_NS
    if end > now:
        due.append(end)
    # the oldest request in flight times out first; with none, one sent now would
    timeout = run.tracker.next_deadline() or now + run.tracker.timeout_ns
    due.append(max(timeout + _DUE_SLACK_NS, now + int(OPEN_HOUSEKEEPING_S * 1e9)))
    return max(0.001, (min(due) - now) / 1e9)


async def _drain(run: _Run, aborting: bool) -> int:
    """Let in-flight and queued requests finish; returns how many were cancelled."""
    run.stop_generating()
    (answered, failed), in_flight = run.counted(), run.in_flight()
    limit = run.plan.hard_stop_ns
    if aborting:
        limit = min(limit, time.monotonic_ns() + int(ABORT_GRACE_S * 1e9))
    while run.pending() > 0 and time.monotonic_ns() < limit:
        await asyncio.sleep(run.every_s)
        run.tracker.sweep(time.monotonic_ns())
    # past the limit: unanswered requests count (TIMEOUT/DROPPED) unless the user aborted
    queued = run.pool.shut(record=not aborting)
    inflight = run.tracker.close_all(record_as_timeout=not aborting)
    await asyncio.sleep(0)  # let the transports report connection_lost
    # answers beyond these are the backlog's; failures since the stop are taken from the
    # requests then in flight first (the oldest time out first)
    run.answerable = answered + max(0, in_flight - (run.counted()[1] - failed))
    return queued + inflight if aborting else 0


def _finish(rec: Any, plan: WorkerPlan, aborted: bool) -> None:
    """Close the recorder at the planned end, or later if answers came after it.

    A run whose last answers arrived before the planned end still covers the plan; one
    with none after it gets no empty trailing interval, so results have the same intervals
    whatever the worker count and housekeeping phase."""
    now = time.monotonic_ns()
    planned = min(plan.hard_stop_ns, plan.shape_end_ns)
    if aborted or now <= planned:
        rec.finish(now if aborted else planned)
        return
    rec.tick(planned)
    closed = sum(sum(o) for snap in rec.intervals() for o in snap.outcomes)
    total = sum(sum(rec.outcomes(j)) for j in range(len(rec.journeys)))
    rec.finish(planned if closed == total else now)


def _rss() -> int:
    try:
        import psutil
        return int(psutil.Process(os.getpid()).memory_info().rss)
    except (ImportError, OSError):
        return 0
