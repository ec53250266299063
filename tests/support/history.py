"""History test helpers: seeded synthetic runs and a store pre-filled with them.

Built on tests/support/analysis.py (J, interval, sample): runs here add a start time, a
log-normal latency distribution from a seeded RNG, intervals and resource samples, so the
store has every table to write and read back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.history.fingerprint import GitInfo, HostFingerprint, make_fingerprint
from engine.history.store import HistoryStore
from engine.result import RunResult
from tests.support.analysis import J, interval, make_run, sample

DAY = 86400.0
HOST = make_fingerprint("Test CPU 9000", 2, "6.1.0-test", "3.11.7")
OTHER_HOST = make_fingerprint("Other CPU 1", 64, "5.15.0-other", "3.11.7")
GIT = GitInfo("0" * 40, "main")
SPEC = "user-lookup"


def latencies(seed: int, n: int, median_s: float = 0.02, sigma: float = 0.4) -> np.ndarray:
    """``n`` log-normal latencies (seconds) around ``median_s``, deterministic per seed."""
    rng = np.random.default_rng(seed)
    return np.asarray(median_s * np.exp(sigma * rng.standard_normal(n)))


def history_run(seed: int = 1, *, started_at: float = 1.7e9, scale: float = 1.0,
                n: int = 2000, journeys: Sequence[str] = ("lookup", "signup"),
                n_intervals: int = 3, timeouts: int = 0, profile: str = "baseline",
                aborted: bool = False) -> RunResult:
    """A run with ``n`` requests per journey, latencies multiplied by ``scale``."""
    js = [J(name, latencies(seed * 31 + i, n) * scale, {"timeout": timeouts} if timeouts else {},
            {"db": latencies(seed * 37 + i, n // 4, 0.005)})
          for i, name in enumerate(journeys)]
    ivs = [interval(k, float(k), [list(latencies(seed + 100 * k + i, 50) * scale)
                                  for i in range(len(journeys))], target_rate=100.0)
           for k in range(n_intervals)]
    run = make_run(js, duration_s=float(max(n_intervals, 1)) * 10, rate=100.0,
                   intervals=ivs, resources=[sample(0.5), sample(1.5, cpu=55.5)],
                   profile=profile)
    return dataclasses.replace(run, started_at=started_at, aborted=aborted,
                               abort_reason="stopped" if aborted else "")


def add_runs(store: HistoryStore, ages_days: Sequence[float], *, now: float,
             verdict: str = "PASS", host: HostFingerprint = HOST, scale: float = 1.0,
             seed0: int = 1, n: int = 400, profile: str = "baseline") -> list[int]:
    """Record one run per age (days before ``now``); returns their ids in the given order."""
    ids = []
    for k, age in enumerate(ages_days):
        run = history_run(seed0 + k, started_at=now - age * DAY, scale=scale, n=n,
                          n_intervals=1, profile=profile)
        ids.append(store.record(SPEC, "hash1", run, verdict, host, GIT))
    return ids


def store_at(tmp: Path) -> HistoryStore:
    """A fresh store in ``tmp``."""
    return HistoryStore(tmp / "history.db")
