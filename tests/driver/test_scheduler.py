"""The open model's send loop: the native CScheduler (ext/scheduler.pxi) and its Python
twin (engine.driver.pool.Scheduler) send the same schedule, each dispatch timed from its
own intended time, and a run reports its batching window.

No timing assertions: the schedules start in the past, so every arrival is already due
and each twin must dispatch exactly the intended times engine.driver.shapes.arrivals gives.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest

from engine.driver import pool as pool_mod
from engine.driver.shapes import Shape, arrivals
from engine.hotpath.native import monotonic_ns


class _Cat:
    def next_journey(self) -> int:
        return 0


class _Pool:
    """What the scheduler needs of an OpenPool: every dispatch lands in ``sent``."""

    def __init__(self) -> None:
        self.idle: list[Any] = []
        self.single = None
        self.cat = _Cat()
        self.sent: list[int] = []
        self.data: list[bytes] = []

    def dispatch(self, journey: int, step: int, intended_ns: int) -> None:
        assert (journey, step) == (0, 0)
        self.sent.append(intended_ns)


SHAPE = Shape("open", ((0.0, 0.0), (0.5, 400.0), (0.5, 100.0), (1.0, 300.0)))
"""A ramp, a vertical step down and a ramp up: every branch of the arrival arithmetic."""


def _drive(make: Any, hist: Any, window_ns: int, shape: Shape = SHAPE,
           pool: _Pool | None = None) -> tuple[_Pool, Any]:
    loop = asyncio.new_event_loop()
    pool = pool or _Pool()
    start = monotonic_ns() - 5_000_000_000  # the whole schedule is already due
    sched = make(loop, pool, shape, start, 0.25, hist, window_ns)

    async def until_done() -> None:
        sched.start()
        for _ in range(1000):  # bounded: one wake-up sends everything that is due
            if sched.finished:
                return
            await asyncio.sleep(0.001)

    try:
        loop.run_until_complete(until_done())
    finally:
        loop.close()
    pool.start = start  # type: ignore[attr-defined]
    return pool, sched


def _expected(start: int) -> list[int]:
    return [start + int(t * 1e9) for t in arrivals(SHAPE, 0.25)]


def test_native_scheduler_sends_the_python_schedule(native: ModuleType) -> None:
    pool, sched = _drive(native.CScheduler, native.Histogram(), 300_000)
    assert pool.sent == _expected(pool.start)  # type: ignore[attr-defined]
    assert len(pool.sent) == round(SHAPE.planned()) == sched.dispatched
    assert sched.finished and sched.window_ns == 300_000 and sched.wakeups >= 1
    # every dispatch's lateness counted from its own intended time: all were seconds late
    assert sched.lag_max_ns >= 4_000_000_000


def test_native_lag_histogram_counts_every_dispatch(native: ModuleType) -> None:
    hist = native.Histogram()
    pool, sched = _drive(native.CScheduler, hist, 0)
    assert hist.total_count == len(pool.sent) == sched.dispatched
    assert hist.value_at_percentile(0) >= 4_000_000_000 * 0.99  # the earliest arrival's lag


def test_python_scheduler_sends_the_same_schedule(pure: ModuleType) -> None:
    hist = pure.Histogram()
    pool, sched = _drive(pool_mod.Scheduler, hist, pool_mod.BATCH_WINDOW_NS)
    assert pool.sent == _expected(pool.start)  # type: ignore[attr-defined]
    assert hist.total_count == len(pool.sent) == sched.dispatched
    assert sched.window_ns == pool_mod.BATCH_WINDOW_NS


def test_make_scheduler_picks_the_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.hotpath import native

    loop = asyncio.new_event_loop()
    try:
        monkeypatch.setenv("PERFOPT_PURE", "1")
        py = pool_mod.make_scheduler(loop, _Pool(), SHAPE, monotonic_ns(), 0.0,  # type: ignore[arg-type]
                                     native.Histogram())
        assert isinstance(py, pool_mod.Scheduler)
        py.stop()
        monkeypatch.delenv("PERFOPT_PURE")
        c = pool_mod.make_scheduler(loop, _Pool(), SHAPE, monotonic_ns(), 0.0,  # type: ignore[arg-type]
                                    native.Histogram())
        want = "CScheduler" if native.IMPLEMENTATION == "c" else "Scheduler"
        assert type(c).__name__ == want and c.window_ns == pool_mod.BATCH_WINDOW_NS
        c.stop()
        c.stop()  # idempotent
    finally:
        loop.close()


@pytest.mark.parametrize("twin", ["c", "py"])
def test_open_run_reports_its_batching_window(twin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.driver import run_profile
    from engine.hotpath import native
    from engine.spec.model import Journey, LoadProfile, Request, RunSettings
    from tests.support.servers import TestServer

    monkeypatch.setenv("PERFOPT_LOOPBACK_ONLY", "1")
    if twin == "py":
        monkeypatch.setenv("PERFOPT_PURE", "1")
    elif native.IMPLEMENTATION != "c":
        pytest.skip("PERFOPT_PURE=1: only the Python twins are under test")
    profile = LoadProfile("p", "baseline", RunSettings(connections=4), duration_s=1.0,
                          rate=200)
    with TestServer("ok") as s:
        r = run_profile(s.url, [Journey("j", 1.0, (Request("GET", "/"),))], profile)
    assert r.journeys[0].outcomes["ok"] == 200 == r.extra["dispatched"]
    assert r.extra["dispatch_window_ns"] == pool_mod.BATCH_WINDOW_NS
    assert 1 <= r.extra["scheduler_wakeups"] <= 200  # at most one wake-up per send


BEHIND = Shape("open", ((0.0, 5000.0), (2.0, 5000.0)))
"""10,000 arrivals, all due at once: more than one wake-up's batch."""


@pytest.mark.parametrize("twin", ["c", "py"])
def test_a_generator_far_behind_sends_in_batches_and_in_order(twin: str,
                                                              request: pytest.FixtureRequest
                                                              ) -> None:
    mod = request.getfixturevalue("native" if twin == "c" else "pure")
    make = mod.CScheduler if twin == "c" else pool_mod.Scheduler
    pool, sched = _drive(make, mod.Histogram(), 300_000, BEHIND)
    assert pool.sent == [pool.start + int(t * 1e9) for t in arrivals(BEHIND, 0.25)]  # type: ignore[attr-defined]
    assert len(pool.sent) == 10_000 == sched.dispatched
    assert sched.wakeups >= -(-10_000 // pool_mod.MAX_BATCH)  # returned to the loop between


class _Conn:
    """An idle connection that answers at once: every send lands in ``sent`` and it is idle
    again (what the pool does when the answer comes)."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool

    def send(self, data: bytes, journey: int, step: int, intended_ns: int, *rest: object
             ) -> None:
        self.pool.sent.append(intended_ns)
        self.pool.data.append(data)
        self.pool.idle.append(self)


@pytest.mark.parametrize("twin", ["c", "py"])
def test_a_traced_single_request_is_written_anew_per_send_on_the_fast_path(
        twin: str, request: pytest.FixtureRequest) -> None:
    """A one-request catalog whose request carries a traceparent (engine.driver.catalog
    single() gives its TraceTemplate): the fast path writes each send with the next sequence
    number and never falls back to the pool's dispatch."""
    from engine.driver.templates import RenderContext

    mod = request.getfixturevalue("native" if twin == "c" else "pure")
    make = mod.CScheduler if twin == "c" else pool_mod.Scheduler
    tpl = mod.TraceTemplate(b"GET / HTTP/1.1\r\ntraceparent: ", b"\r\n\r\n", "ab" * 8, 1.0,
                            0x10, 1)
    tpl.ctx = RenderContext({}, seq_start=0, seq_step=1)

    class _TracedPool(_Pool):
        def __init__(self) -> None:
            super().__init__()
            self.idle = [_Conn(self)]
            self.single = (tpl, (), False, None, 0)  # type: ignore[assignment]

        def dispatch(self, journey: int, step: int, intended_ns: int) -> None:
            raise AssertionError("the traced one-request catalog left the fast path")

    pool, sched = _drive(make, mod.Histogram(), 0, pool=_TracedPool())
    n = round(SHAPE.planned())
    assert len(pool.data) == n == sched.dispatched
    assert pool.data == [b"GET / HTTP/1.1\r\ntraceparent: 00-" + b"ab" * 8
                         + f"{k:08x}00000010-00000010{k:08x}-01".encode() + b"\r\n\r\n"
                         for k in range(n)]


def _drive_future(make: Any, hist: Any, rate: float, seconds: float) -> tuple[list[int], list[int]]:
    """A schedule starting 2 ms from now at ``rate``: (starts passed to dispatch, intended)."""
    loop = asyncio.new_event_loop()
    pool = _Pool()
    shape = Shape("open", ((0.0, rate), (seconds, rate)))
    start = monotonic_ns() + 2_000_000
    sched = make(loop, pool, shape, start, 0.0, hist, pool_mod.BATCH_WINDOW_NS)

    async def until_done() -> None:
        sched.start()
        for _ in range(int(seconds * 1000) + 2000):  # bounded by count, not by the clock
            if sched.finished:
                return
            await asyncio.sleep(0.0005)

    try:
        loop.run_until_complete(until_done())
    finally:
        sched.stop()
        loop.close()
    return pool.sent, [start + int(t * 1e9) for t in arrivals(shape, 0.0)]


@pytest.mark.parametrize("twin", ["c", "py"])
def test_a_send_due_within_half_a_window_goes_early_timed_from_its_wake_up(
        twin: str, native: ModuleType, pure: ModuleType) -> None:
    """4,000/s against a 1 ms window: a wake-up also sends what is due in the next 0.5 ms.
    Each such send is passed the wake-up's time (earlier than intended, by at most half a
    window), so its latency starts when it left; a late send keeps its intended time."""
    make = native.CScheduler if twin == "c" else pool_mod.Scheduler
    hist = (native if twin == "c" else pure).Histogram()
    sent, intended = _drive_future(make, hist, 4000.0, 0.25)
    assert len(sent) == len(intended) == 1000 == hist.total_count
    half = pool_mod.BATCH_WINDOW_NS // 2
    early = [i - s for s, i in zip(sent, intended, strict=True) if s != i]
    assert all(0 < e <= half for e in early)  # never later than intended, never > 0.5 ms early
    assert early  # sends 0.25 ms apart: most wake-ups take the next one or two along
    # an early send is recorded as lateness 0: at least that many lag records are under the
    # histogram's lowest trackable value (1 us), where a late send's would be its lateness
    assert hist.value_at_percentile(100.0 * (len(early) - 1) / len(sent)) < 1000
