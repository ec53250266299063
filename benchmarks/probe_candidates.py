"""Which fixed work slows the way a service does when this machine has a slow episode.

Run by hand, ideally for minutes (episodes come and go):

    python benchmarks/probe_candidates.py --seconds 240

Every 0.25 s, times three candidate probes in thread CPU time, one after another: a full
scan of a 100,000-row in-memory SQLite table (the demo service's kind of work), a
pure-Python loop, and the first version's numpy sort of 16,384 floats. Prints each one's
median / p10 / p90, their pairwise log correlations, and the medians of 8 s windows (the
quick start's run length), where an episode shows as a step in every column that tracks
it. This is how engine.target.speed_probe's workload was chosen (docs/BENCHMARKS.md, #14).
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import Callable

import numpy as np

WINDOW_S = 8.0


def _scan() -> Callable[[], int]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT)")
    db.executemany("INSERT INTO users(email) VALUES (?)",
                   ((f"u{i}@demo.test",) for i in range(100_000)))
    query = "SELECT count(*) FROM users WHERE email = 'nobody@demo.test'"

    def run() -> int:
        start = time.thread_time_ns()
        db.execute(query).fetchone()
        return time.thread_time_ns() - start
    return run


def _loop() -> int:
    start, total = time.thread_time_ns(), 0
    for i in range(20_000):
        total += i * i
    return time.thread_time_ns() - start


def _sorter() -> Callable[[], int]:
    source = (np.arange(16_384, dtype=np.uint64) * np.uint64(2654435761)
              % np.uint64(1 << 32)).astype(np.float64)
    work = source.copy()

    def run() -> int:
        start = time.thread_time_ns()
        np.copyto(work, source)
        work.sort()
        return time.thread_time_ns() - start
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=240.0)
    args = ap.parse_args()
    names = ("SQLite scan", "Python loop", "numpy sort")
    probes = (_scan(), _loop, _sorter())
    rows: list[tuple[float, ...]] = []
    end = time.monotonic() + args.seconds  # bounded: stops by itself
    while time.monotonic() < end:
        rows.append((time.monotonic(), *(p() / 1e6 for p in probes)))
        time.sleep(0.25)
    data = np.array(rows)
    print("| work | median ms | p10 | p90 |\n|---|---:|---:|---:|")
    for k, name in enumerate(names, start=1):
        v = data[:, k]
        print(f"| {name} | {np.median(v):.3f} | {np.percentile(v, 10):.3f} | "
              f"{np.percentile(v, 90):.3f} |")
    corr = np.corrcoef(np.log(data[:, 1:].T))
    print(f"\nlog correlation: scan~loop {corr[0, 1]:.2f}, scan~sort {corr[0, 2]:.2f}, "
          f"loop~sort {corr[1, 2]:.2f}")
    print(f"\nmedians of {WINDOW_S:g} s windows (ms): " + ", ".join(names))
    window = ((data[:, 0] - data[0, 0]) // WINDOW_S).astype(int)
    for w in sorted(set(window.tolist())):
        part = data[window == w]
        print(f"{w:3d} " + " ".join(f"{np.median(part[:, k]):7.3f}" for k in (1, 2, 3)))
    print(f"\n(command: python benchmarks/probe_candidates.py --seconds {args.seconds:g})")


if __name__ == "__main__":
    main()
