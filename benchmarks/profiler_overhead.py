"""Profiler overhead (#21): py-spy's sampling rate and its CPU cost on the target. Run by
hand, never in the test suite:

    python benchmarks/profiler_overhead.py --rounds 3 --requests 200 --rate 100

Starts the demo with ``linear`` off (GET /recommendations?n=2000 is ~10-15 ms of pure
Python), then alternates rounds without and with ``engine.target.profiler`` attached (the
py-spy command apply runs). Each round sends --requests requests one after another over one
keep-alive connection and reads the target's CPU seconds (psutil) before and after; the
profiler's own CPU is py-spy's (children's rusage). Printed: target CPU ms per request off
and on (median of rounds), py-spy's CPU per second of sampling, the samples it kept per
second of the target's on-CPU time and per wall second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.target.profiler import CpuProfiler, start_profiler
from tests.support.demo import demo_process


def _load(port: int, n: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t0 = time.monotonic()
    for _ in range(n):  # bounded: n requests
        conn.request("GET", "/recommendations?n=2000")
        conn.getresponse().read()
    conn.close()
    return time.monotonic() - t0


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _round(pid: int, port: int, n: int, rate: int, profiled: bool) -> dict[str, float]:
    import psutil

    target = psutil.Process(pid)
    before, kids = target.cpu_times(), _children_cpu()
    spy = start_profiler((pid,), None, rate, 600.0) if profiled else None
    wall = _load(port, n)
    folded = spy.stop() if isinstance(spy, CpuProfiler) else None
    after = target.cpu_times()
    cpu = (after.user + after.system) - (before.user + before.system)
    out = {"target_ms_per_req": 1000 * cpu / n, "wall_s": wall, "target_cpu_s": cpu}
    if folded is not None:
        samples = sum(folded.stacks.values())
        out |= {"spy_cpu_s": _children_cpu() - kids, "samples": samples,
                "sampled_s": folded.duration_s, "per_target_cpu_s": samples / cpu,
                "per_wall_s": samples / folded.duration_s}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--rate", type=int, default=100)
    args = ap.parse_args()
    with demo_process(fix=("pool", "index"), extra=("--users", "2000")) as (url, managed):
        port = int(url.rsplit(":", 1)[1])
        pid = managed.pid
        assert pid is not None
        _load(port, 20)  # warm-up
        rows: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(args.rounds):
            for kind in ("off", "on"):
                rows[kind].append(_round(pid, port, args.requests, args.rate, kind == "on"))
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in rows.items()}
    on, off = med["on"], med["off"]
    print(json.dumps(rows, indent=1))
    change = on["target_ms_per_req"] / off["target_ms_per_req"] - 1
    print(f"target CPU per request: off {off['target_ms_per_req']:.2f} ms, on "
          f"{on['target_ms_per_req']:.2f} ms ({change:+.1%})")
    print(f"py-spy CPU: {on['spy_cpu_s'] / on['sampled_s']:.1%} of a core while sampling at "
          f"--rate {args.rate}; kept {on['per_target_cpu_s']:.0f} samples per target CPU-s, "
          f"{on['per_wall_s']:.0f} per wall s")


if __name__ == "__main__":
    main()
