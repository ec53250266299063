"""When the resource sampler (engine.target.sampler) may back off: a reading that shows
nothing changed since the last one, judged against the noise of how CPU time is counted.

Backing off costs the analyses' means little: each CPU reading is the CPU time used over its
window and they weigh it by that window (engine.result.sample_seconds), so a sparser series
mostly loses time resolution; what it does cost is a reading straddling the load's start or
end over a longer window (up to ``max_interval_s``), whose value mixes both sides. Nor does
it change CPU quantiles (summarize's p90, headroom's p95): they are taken over 1 s bins of
CPU time (engine.result.rate_bins), not over the readings, each of which averages its own
window: at 10 Hz a burst of 0.3 s a second at 100% would read p95 100%, at 1 Hz 30%.
"""

from __future__ import annotations

import os
import sys

__all__ = ["CPU_SAME_POINTS", "TICK_S", "Gauges", "cpu_noise", "unchanged"]

Gauges = tuple[float, int, int, int, int]
"""One reading as the back-off compares it: CPU %, RSS, threads, fds, connections."""
CPU_SAME_POINTS = 2.0
"""A CPU reading within this many points of the last (and beyond the ticks' own noise,
``cpu_noise``) is unchanged, for the back-off."""


def _cpu_tick_s() -> float:
    """How coarsely psutil's process CPU times move: Linux counts them in clock ticks
    (/proc/<pid>/stat, 1/SC_CLK_TCK: 10 ms), macOS in nanoseconds (proc_pidinfo: no tick),
    Windows per clock interrupt (15.6 ms by default); elsewhere, the clock tick."""
    if sys.platform == "darwin":
        return 0.0
    if not hasattr(os, "sysconf"):
        return 1 / 64
    return 1.0 / os.sysconf("SC_CLK_TCK")


TICK_S = _cpu_tick_s()


def cpu_noise(wall_s: float, busy: int) -> float:
    """The CPU change (percentage points) two readings over ``wall_s`` can show with nothing
    changed: CPU time moves in clock ticks, so each process that ran reads up to a tick off
    at each end of the window (10 ms of 100 ms is 10 points), and 2 points at least. Only
    processes whose CPU time moved count: an idle one reads exactly 0, so a large tree of
    idle workers does not raise the floor. Under steady load a 0.1 s window's readings jump
    by tens of points: judged exactly, they kept the sampler at 10 Hz (1.2% of a core at
    5,000/s, benchmarks/peer_h2load.py), where a second's readings agree within a few."""
    return max(CPU_SAME_POINTS, 200.0 * TICK_S * max(1, busy) / max(wall_s, 1e-3))


def unchanged(now: Gauges, last: Gauges | None, wall_s: float, busy: int) -> bool:
    """Did nothing change from ``last`` to ``now``: CPU within the ticks' noise over the
    window ``wall_s`` with ``busy`` processes running (``cpu_noise``), memory and the counts
    exactly (a slow leak keeps the full rate: engine.analysis.leak)."""
    return (last is not None and abs(now[0] - last[0]) <= cpu_noise(wall_s, busy)
            and now[1:] == last[1:])
