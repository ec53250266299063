"""How fast this machine runs a fixed piece of work during a run (issue #14).

A shared VM sometimes runs the same code ~1.7x slower for seconds at a time (a fixed
SQLite scan took 4.7 ms or 8.2 ms in episodes, on either core, with flat steal time and
no busy neighbour process). The regression gate then FAILs an A-vs-A comparison and
nothing says the machine changed. ``SpeedProbe`` times the same small CPU+memory work
(sorting a copy of a fixed 16,384-value float64 array: ~0.5 ms on the 2-core dev VM) in
the probing thread's own CPU time, so preemption by other processes (engine.analysis.
host_load's business) does not count: only "this CPU did the same work slower" does.

numpy releases the GIL while it copies and sorts, so a probe barely delays a driver
sharing the process (a pure-Python loop in another thread saw no gap over 0.2 ms while
probes ran back to back; a pure-Python sort of the same values made 6.6 ms gaps). The
resource sampler's thread (engine.target.sampler) probes once when it starts, every
``PROBE_EVERY_S`` while it samples, and once when it stops: ~0.5 ms of CPU every 2 s is
0.03% of a core. The drive stage keeps ``summary()`` in ``RunResult.extra`` under
engine.analysis.machine_speed's ``MACHINE_SPEED``, which compares it with the baseline's.
"""

from __future__ import annotations

import math
import statistics
import time
from array import array
from typing import Any

import numpy as np

__all__ = ["PROBE_EVERY_S", "PROBE_VALUES", "SpeedProbe"]

PROBE_EVERY_S = 2.0
"""Seconds between probes while a run is sampled (plus one at its start and its end)."""
PROBE_VALUES = 16_384
"""Values sorted per probe: 128 KiB, ~0.5 ms of one core on the dev VM."""


def _values(count: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``count`` distinct values in [0, 1) in a fixed scrambled order (Knuth's
    multiplicative hash of 0..count-1): the same work every time, and no RNG to set up
    (numpy.random's first use costs ~11 ms)."""
    index = np.arange(count, dtype=np.uint64)
    hashed = (index * np.uint64(2654435761)) % np.uint64(1 << 32)
    return hashed.astype(np.float64) / float(1 << 32)


class SpeedProbe:
    """The fixed work and the thread CPU time (ns) of every probe so far. Not thread-safe:
    one thread probes; read ``summary`` after it stopped."""

    def __init__(self, every_s: float = PROBE_EVERY_S) -> None:
        self.every_s = float(every_s)
        self._source = _values(PROBE_VALUES)
        self._work = self._source.copy()  # touched: no page faults in the first timing
        self._work.sort()  # untimed warm-up: the first sort of a process runs cold
        self._times = array("q")
        self._next_at: float | None = None

    def probe(self) -> int:
        """Run the work once; its thread CPU time in ns (also kept)."""
        start = time.thread_time_ns()
        np.copyto(self._work, self._source)  # into the same buffer: no allocation
        self._work.sort()
        took = time.thread_time_ns() - start
        self._times.append(took)
        return took

    def maybe(self, now: float | None = None) -> bool:
        """Probe when ``every_s`` passed since the last scheduled probe (the first call
        always probes); ``now``: ``time.monotonic()``. True when it probed."""
        now = time.monotonic() if now is None else now
        if self._next_at is not None and now < self._next_at:
            return False
        self.probe()
        self._next_at = now + self.every_s
        return True

    @property
    def count(self) -> int:
        return len(self._times)

    def summary(self) -> dict[str, Any] | None:
        """{median_ns, p90_ns, probes} of the probes so far; None before any."""
        if not self._times:
            return None
        ordered = sorted(self._times)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest rank
        return {"median_ns": int(statistics.median(ordered)), "p90_ns": int(p90),
                "probes": len(ordered)}
