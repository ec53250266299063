"""The coordinator's live merge is per interval index (engine.driver.interval_merge):
interval k of every live host, together, in order; a host ahead never lends the others its
later data.
No Dask cluster: hosts' states come from real recorders, the channels are a stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from engine.driver.interval_merge import IntervalMerge
from engine.driver.run import ParentArgs
from engine.result import RunInterval
from engine.scale import cluster, coordinator
from engine.scale.plan import Host
from tests.support.intervals import IntervalSource, run_info


def test_an_interval_goes_out_when_every_host_has_it_in_order() -> None:
    a, b = IntervalSource(3), IntervalSource(5)
    merge = IntervalMerge(["a", "b"])
    for _ in range(3):
        merge.add("a", a.closed())  # a is two intervals ahead
    merge.add("b", b.closed())
    assert [k for k, _ in merge.ready()] == [0]
    merge.add("b", b.closed())
    merge.add("b", b.closed())
    out = merge.ready()
    assert [k for k, _ in out] == [1, 2]
    assert [[s["intervals"][-1]["index"] for s in states] for _, states in out] == [[1, 1],
                                                                                   [2, 2]]
    assert merge.ready() == []


def test_an_interval_a_host_skipped_is_skipped_for_all_and_late_ones_are_ignored() -> None:
    a, b = IntervalSource(1), IntervalSource(1)
    merge = IntervalMerge(["a", "b"])
    merge.add("a", a.closed())
    merge.add("a", a.closed())
    b.closed()  # b's interval 0 message was lost
    merge.add("b", b.closed())
    assert [k for k, _ in merge.ready()] == [1]
    merge.add("a", {"intervals": [{"index": 0}]})  # too late: never handed out again
    merge.add("a", a.closed())
    merge.add("b", b.closed())
    assert [k for k, _ in merge.ready()] == [2]


def test_a_lost_host_is_no_longer_waited_for_nor_merged() -> None:
    a, b = IntervalSource(1), IntervalSource(1)
    merge = IntervalMerge(["a", "b"])
    merge.add("b", b.closed())
    merge.add("a", a.closed())
    merge.add("a", a.closed())
    assert [k for k, _ in merge.ready()] == [0]
    merge.lose("b")
    merge.add("b", b.closed())
    (k, states), = merge.ready()
    assert k == 1 and len(states) == 1


def test_a_host_far_ahead_keeps_a_bounded_backlog() -> None:
    a = IntervalSource(1)
    merge = IntervalMerge(["a", "b"], backlog=4)
    for _ in range(10):
        merge.add("a", a.closed())
    assert sorted(merge.states["a"]) == [6, 7, 8, 9]


class _Queue:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def get(self, batch: bool = False) -> list[tuple[str, dict[str, Any]]]:
        out, self.items = self.items, []
        return out


class _Channels:
    def __init__(self, run_id: str, client: Any) -> None:
        self.intervals = _Queue()
        self.stopped = False
        self.stop = self

    def set(self) -> None:
        self.stopped = True


def _run(monkeypatch: pytest.MonkeyPatch, seen: list[tuple[int, int]],
         abort_at: int) -> coordinator._Run:
    monkeypatch.setattr(cluster, "Channels", _Channels)
    info = run_info(2)

    def on_interval(ri: RunInterval, recorder: Any) -> bool:
        seen.append((ri.index, sum(sum(o) for o in ri.outcomes)))
        return ri.index == abort_at

    hosts = [Host(n, f"tcp://{n}", 1, 0, 0) for n in ("a", "b")]
    return coordinator._Run(None, "tcp://scheduler", info, hosts, [1, 1],
                            ParentArgs(on_interval, None, None, None))


def test_the_abort_check_sees_each_whole_interval_once_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    run = _run(monkeypatch, seen, abort_at=2)
    a, b = IntervalSource(3), IntervalSource(5)
    queue = run.channels.intervals
    queue.items += [("a", a.closed()) for _ in range(3)] + [("b", b.closed())]
    run._intervals()
    assert seen == [(0, 8)]  # not interval 2 with only a's 3 requests
    queue.items += [("b", b.closed()), ("b", b.closed()), ("a", a.closed()),
                    ("b", b.closed())]
    run._intervals()
    assert seen == [(0, 8), (1, 8), (2, 8)]  # interval 2 aborts: 3 is never checked
    assert run.abort == "aborted by a check at interval 2" and run.channels.stop.stopped
