"""Profiler overhead (#21): the sampler's rate and its CPU cost on the target. Run by hand,
never in the test suite:

    python benchmarks/profiler_overhead.py --rounds 3 --requests 200 --rate 100
    python benchmarks/profiler_overhead.py --tool perf --rounds 3 --requests 20000 --rate 99

Starts the demo with ``linear`` off (GET /recommendations?n=2000 is ~10-15 ms of pure
Python), then alternates rounds without and with ``engine.target.profiler`` attached (the
py-spy command apply runs). Each round sends --requests requests one after another over one
keep-alive connection and reads the target's CPU seconds (psutil) before and after; the
profiler's own CPU is py-spy's (children's rusage). Printed: target CPU ms per request off
and on (median of rounds), py-spy's CPU per second of sampling, the samples it kept per
second of the target's on-CPU time and per wall second.

``--tool perf``: the target is a local nginx (1 worker, ``return 200``; benchmarks/peer_wrk.py
starts it) and each request is GET /; perf's CPU is perf record's plus perf script's (the
children's rusage across start and stop), per second of sampling; the target's CPU is the
nginx tree's (master and worker), which includes the kernel's work of taking each sample.
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.target.perf import PerfProfiler
from engine.target.profiler import CpuProfiler, start_profiler
from tests.support.demo import demo_process

PATHS = {"py-spy": "/recommendations?n=2000", "perf": "/"}


def _load(port: int, n: int, path: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t0 = time.monotonic()
    for _ in range(n):  # bounded: n requests
        conn.request("GET", path)
        conn.getresponse().read()
    conn.close()
    return time.monotonic() - t0


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _tree_cpu(pid: int) -> float:
    import psutil

    root = psutil.Process(pid)
    times = [p.cpu_times() for p in (root, *root.children(recursive=True))]
    return sum(t.user + t.system for t in times)


def _round(pid: int, port: int, n: int, rate: int, tool: str,
           profiled: bool) -> dict[str, float]:
    before, kids = _tree_cpu(pid), _children_cpu()
    spy = start_profiler((pid,), None, rate, 600.0, tool) if profiled else None
    wall = _load(port, n, PATHS[tool])
    folded = spy.stop() if isinstance(spy, (CpuProfiler, PerfProfiler)) else None
    if folded is not None and folded.note:
        sys.exit(f"{tool}: {folded.note}")
    cpu = _tree_cpu(pid) - before
    out = {"target_ms_per_req": 1000 * cpu / n, "wall_s": wall, "target_cpu_s": cpu}
    if folded is not None:
        samples = sum(folded.stacks.values())
        out |= {"spy_cpu_s": _children_cpu() - kids, "samples": samples,
                "sampled_s": folded.duration_s, "per_target_cpu_s": samples / cpu,
                "per_wall_s": samples / folded.duration_s}
    return out


@contextmanager
def _target(tool: str) -> Iterator[tuple[int, int]]:
    """(pid, port) of the demo (py-spy) or of a local nginx (perf)."""
    if tool == "perf":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import psutil
        from peer_wrk import nginx  # the benchmarks folder is not a package

        with nginx() as url:
            port = int(url.rsplit(":", 1)[1])
            [pid] = [c.pid for c in psutil.Process().children() if c.name() == "nginx"]
            yield pid, port
        return
    with demo_process(fix=("pool", "index"), extra=("--users", "2000")) as (url, managed):
        assert managed.pid is not None
        yield managed.pid, int(url.rsplit(":", 1)[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", choices=sorted(PATHS), default="py-spy")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--rate", type=int, default=100)
    args = ap.parse_args()
    with _target(args.tool) as (pid, port):
        _load(port, 20, PATHS[args.tool])  # warm-up
        rows: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(args.rounds):
            for kind in ("off", "on"):
                rows[kind].append(_round(pid, port, args.requests, args.rate, args.tool,
                                         kind == "on"))
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in rows.items()}
    on, off = med["on"], med["off"]
    print(json.dumps(rows, indent=1))
    change = on["target_ms_per_req"] / off["target_ms_per_req"] - 1
    print(f"target CPU per request: off {off['target_ms_per_req']:.4f} ms, on "
          f"{on['target_ms_per_req']:.4f} ms ({change:+.1%})")
    print(f"{args.tool} CPU: {on['spy_cpu_s'] / on['sampled_s']:.1%} of a core while sampling "
          f"at {args.rate}/s; kept {on['per_target_cpu_s']:.0f} samples per target CPU-s, "
          f"{on['per_wall_s']:.0f} per wall s")


if __name__ == "__main__":
    main()
