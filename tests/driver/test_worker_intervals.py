"""A local multi-worker run's live merge is per interval index (engine.driver.worker with
engine.driver.interval_merge): the abort check and progress see interval k of every
worker together, in order, each once; a worker ahead never lends the others its later
data. No child processes: the workers' states come from real recorders over real pipes."""

from __future__ import annotations

from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

from engine.driver.assemble import merge_states
from engine.driver.run import ParentHooks
from engine.driver.worker import Processes
from engine.result import RunInterval
from tests.support.intervals import IntervalSource, run_info


class _Parent:
    """Processes' receiving side, fed through real pipes by two workers' recorders."""

    def __init__(self, abort_at: int = -1) -> None:
        self.seen: list[tuple[int, int]] = []
        """(interval index, requests in it) for each interval the abort check saw."""

        def on_interval(ri: RunInterval, recorder: Any) -> bool:
            self.seen.append((ri.index, sum(sum(o) for o in ri.outcomes)))
            return ri.index == abort_at

        hooks = ParentHooks(run_info(2), on_interval, None, None, None)
        self.procs = Processes(2, hooks, merge_states)
        pipes = [Pipe() for _ in range(2)]
        self.procs.conns = [p[0] for p in pipes]
        self.children: list[Connection] = [p[1] for p in pipes]
        self.live = {id(c): i for i, c in enumerate(self.procs.conns)}

    def send(self, worker: int, *msg: Any) -> None:
        self.children[worker].send(msg)
        self.procs._receive(self.live, self.procs.conns[worker])


def test_the_abort_check_sees_each_whole_interval_once_in_order() -> None:
    parent = _Parent(abort_at=2)
    a, b = IntervalSource(3), IntervalSource(5)
    for _ in range(3):
        parent.send(0, "interval", a.closed())  # worker 0 is two intervals ahead
    parent.send(1, "interval", b.closed())
    assert parent.seen == [(0, 8)]  # not interval 2 with only worker 0's 3 requests
    parent.send(1, "interval", b.closed())
    assert parent.seen == [(0, 8), (1, 8)]
    parent.send(0, "interval", a.closed())
    parent.send(1, "interval", b.closed())
    parent.send(1, "interval", b.closed())
    assert parent.seen == [(0, 8), (1, 8), (2, 8)]  # interval 2 aborts: 3 is never checked
    assert parent.procs.abort == "aborted by a check at interval 2"
    assert [c.recv() for c in parent.children] == [("stop", parent.procs.abort)] * 2


def test_a_finished_worker_ends_the_live_intervals_at_its_last() -> None:
    parent = _Parent()
    a, b = IntervalSource(3), IntervalSource(5)
    parent.send(0, "interval", a.closed())
    parent.send(0, "interval", a.closed())
    parent.send(0, "done", "report")
    for _ in range(3):
        parent.send(1, "interval", b.closed())
    # interval 2 has worker 1's requests only: worker 0's part of it never came live
    assert parent.seen == [(0, 8), (1, 8)]
    assert list(parent.procs.reports) == [0]


def test_a_dead_worker_is_no_longer_waited_for() -> None:
    parent = _Parent()
    a, b = IntervalSource(3), IntervalSource(5)
    parent.send(0, "interval", a.closed())
    parent.send(1, "interval", b.closed())
    parent.send(1, "interval", b.closed())
    assert parent.seen == [(0, 8)]
    parent.children[0].close()
    parent.procs._receive(parent.live, parent.procs.conns[0])
    assert parent.seen == [(0, 8), (1, 5)]
    assert id(parent.procs.conns[0]) not in parent.live
