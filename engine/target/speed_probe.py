"""How fast this machine runs a fixed piece of work during a run (issue #14).

A shared VM sometimes runs the same code ~1.7x slower for seconds at a time (a fixed
SQLite scan took 3.5 ms or 6.1 ms in episodes of 8-90 s, on either core, with flat steal
time and no busy neighbour process). The regression gate then FAILs an A-vs-A comparison
and nothing says the machine changed. ``SpeedProbe`` times the same small piece of work,
a full scan of a fixed in-memory SQLite table, in the probing thread's own CPU time, so
preemption by other processes (engine.analysis.host_load's business) does not count: only
"this CPU did the same work slower" does.

Why a SQLite scan: side by side every 0.25 s for 4 minutes on the dev VM (two slow
episodes), a scan slowed +75% in them, a pure-Python loop +70% and a numpy sort of 16,384
floats only +20-35% (log correlation with the scan 0.84): interpreted, branchy work like a
service's slows the most, and vectorised numpy the least. The scan holds no GIL while
SQLite steps (the sqlite3 module lets go of it), so a probe barely delays a driver sharing
the process. The resource sampler's thread (engine.target.sampler) probes once when it
starts, every ``PROBE_EVERY_S`` while it samples, and once when it stops: ~0.7 ms of CPU
every 2 s is 0.04% of a core. The drive stage keeps ``summary()`` in ``RunResult.extra``
under engine.analysis.machine_speed's ``MACHINE_SPEED``, which compares it with the
baseline's.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
import time
from array import array
from typing import Any

from engine.analysis.machine_speed import PROBE_ROWS, probe_work

__all__ = ["PROBE_EVERY_S", "PROBE_ROWS", "SpeedProbe"]

PROBE_EVERY_S = 2.0
"""Seconds between probes while a run is sampled (plus one at its start and its end)."""
_QUERY = "SELECT count(*) FROM probe WHERE email = 'nobody@probe.test'"
"""No index and no match: every row is read and compared, the same work every time."""


def _database(rows: int) -> sqlite3.Connection:
    """The fixed table, in memory (built once per probe object, ~20 ms)."""
    db = sqlite3.connect(":memory:", check_same_thread=False)  # one thread probes at a time
    db.execute("CREATE TABLE probe(id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
    db.executemany("INSERT INTO probe(email) VALUES (?)",
                   ((f"user{i}@probe.test",) for i in range(rows)))
    db.commit()
    return db


class SpeedProbe:
    """The fixed work and the thread CPU time (ns) of every probe so far. Not thread-safe:
    one thread probes; read ``summary`` after it stopped."""

    def __init__(self, every_s: float = PROBE_EVERY_S, rows: int = PROBE_ROWS) -> None:
        self.every_s = float(every_s)
        self.rows = rows
        # built here, before the run (~20 ms holding the GIL: not in the sampler's thread
        # while the driver sends), and scanned once untimed: a first scan runs cold
        self._db = _database(rows)
        self._db.execute(_QUERY).fetchone()
        self._times = array("q")
        self._next_at: float | None = None

    def probe(self) -> int:
        """Run the work once; its thread CPU time in ns (also kept)."""
        start = time.thread_time_ns()
        self._db.execute(_QUERY).fetchone()
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
        """{median_ns, p90_ns, probes, work} of the probes so far; None before any."""
        if not self._times:
            return None
        ordered = sorted(self._times)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest rank
        return {"median_ns": int(statistics.median(ordered)), "p90_ns": int(p90),
                "probes": len(ordered), "work": probe_work(self.rows)}
