"""The target's busiest thread, for the resource sampler (engine.target.sampler).

A single-threaded server at 100% of its core is saturated, whatever share of the machine
its process tree shows (half of a 2-core machine, an eighth of an 8-core one). The busiest
thread is read over windows of at least ``WINDOW_S``: a thread's CPU time moves in clock
ticks (10 ms), so over a 0.1 s sample one thread's reading steps by 10 points, and the
largest of many threads' readings would pick the upward steps; the max is taken per window,
never averaged across windows. Between windows a sample carries the last window's figure,
a reading held forward as RSS is (engine.result.sample_seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.target.proc_read import GONE

__all__ = ["HOT_THREADS_MAX", "WINDOW_S", "HotThread"]

WINDOW_S = 1.0
"""The shortest window the busiest thread is read over (100 clock ticks)."""
HOT_THREADS_MAX = 64
"""Threads of one process read (psutil reads a /proc file per thread, checked first with
``num_threads``, one file); a tree with a process of more leaves the figure unread: its
busiest thread could be there, and a sample must stay well under a millisecond."""

Key = tuple[tuple[int, float], int]
"""(process key (pid, create time), thread id)."""


class HotThread:
    """The busiest thread's CPU, percent of one core, over the latest window; ``read`` at
    each kept sample with the sampler's processes (key -> an object with ``.proc``)."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._cpu: dict[Key, float] = {}
        self.value: float | None = None
        """The latest window's figure; None before the first window closed, or unread."""

    def read(self, procs: Mapping[tuple[int, float], Any], now: float) -> float | None:
        """The figure for a sample at ``now`` (monotonic s): a new window's when at least
        WINDOW_S passed since the last one (the first call only starts one), else the held
        one."""
        if self._since is not None and now - self._since < WINDOW_S:
            return self.value
        readings = _thread_cpu(procs)
        if self._since is not None:
            before = self._cpu
            self.value = None if readings is None else min(100.0, max(0.0, 100.0 * max(
                (cpu - before[k] for k, cpu in readings.items() if k in before), default=0.0)
                / (now - self._since)))
        self._since, self._cpu = now, readings or {}
        return self.value


def _thread_cpu(procs: Mapping[tuple[int, float], Any]) -> dict[Key, float] | None:
    """Each thread's CPU-seconds so far; None when a process has too many to read."""
    out: dict[Key, float] = {}
    for key, p in procs.items():
        try:
            if p.proc.num_threads() > HOT_THREADS_MAX:
                return None
            out.update(((key, t.id), t.user_time + t.system_time) for t in p.proc.threads())
        except GONE:
            continue
    return out
