"""Scale-out coordinator overhead per generator host (run by hand; docs/BENCHMARKS.md).

    python benchmarks/scale_overhead.py [--hosts 1 2 4 8 16] [--live 2]

* merge: time to merge 60 one-second intervals from N hosts into one RunResult
  (engine.scale.merge.merge_hosts: rebase + the same histogram merge a local run uses),
  from synthetic host reports with real recorders (2 journeys, ~200 requests/s per host);
* bytes: what one host sends per second (one pickled interval message a second plus its
  final report spread over the run), the same synthetic recorders;
* live: a real loopback cluster (scheduler + N generator workers, subprocesses), a 3 s run
  at 200/s against a local server: start-up seconds from the call to the first closed
  interval (connect, discover, 12 clock probes per host, submit, ready, start lead), and
  the whole run's wall time minus its planned duration.

Load goes only to 127.0.0.1; every run is bounded.
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.driver.assemble import RunInfo
from engine.driver.runtime import WorkerReport
from engine.driver.shapes import shape_of
from engine.hotpath.native import OK, Histogram, Recorder
from engine.scale.merge import HostOutcome, merge_hosts
from engine.scale.plan import Host, HostReport
from engine.spec.loader import load_text

INTERVALS = 60
RATE_PER_HOST = 200
SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: scale, component: bench}}
trigger: proactive
target: {{url: "{url}"}}
journeys:
  - {{name: a, weight: 80, request: {{method: GET, path: /a}}}}
  - {{name: b, weight: 20, request: {{method: GET, path: /b}}}}
load:
  baseline: {{rate: {rate}/s, duration: {duration}s}}
execution: {{engine: dask, scheduler: "{scheduler}", nodes: {nodes}, workers_per_node: 1}}
"""


def _recorder(seed: int) -> Recorder:
    rnd = random.Random(seed)
    rec = Recorder(["a", "b"], 0, 1_000_000_000)
    for i in range(INTERVALS):
        for k in range(RATE_PER_HOST):
            t = i * 1_000_000_000 + k * (1_000_000_000 // RATE_PER_HOST)
            lat = int(rnd.lognormvariate(15.0, 0.5))  # ~3 ms
            rec.record(0 if k % 5 else 1, t, t, t + lat, OK)
    rec.finish(INTERVALS * 1_000_000_000)
    return rec


def _report(name: str, rec: Recorder) -> HostReport:
    w = WorkerReport(0, rec.to_state(), Histogram().encode(), 0, RATE_PER_HOST * INTERVALS,
                     float(RATE_PER_HOST * INTERVALS), float(INTERVALS), 1.0, 0,
                     float(INTERVALS))
    return HostReport(name, (w,), 0, 0)


def synthetic(hosts: list[int]) -> None:
    spec = load_text(SPEC.format(url="http://127.0.0.1:1", rate=RATE_PER_HOST, duration=INTERVALS,
                                 scheduler="tcp://127.0.0.1:1", nodes=1))[0][0]
    profile = spec.profiles[0]
    recs = [_recorder(i) for i in range(max(hosts))]
    msg = recs[0].to_state()
    msg["intervals"] = msg["intervals"][-1:]
    per_interval = len(pickle.dumps(("node-00", msg)))
    final = len(pickle.dumps(_report("node-00", recs[0])))
    print(f"bytes per host: {per_interval} B per interval message (1/s) + {final} B final "
          f"report over {INTERVALS} s = {per_interval + final / INTERVALS:.0f} B/s")
    print("hosts  merge of 60 intervals (s, best of 3)")
    for n in hosts:
        info = RunInfo(profile, "", "http://127.0.0.1:1", shape_of(profile).scaled(n), n,
                       0.0, 0)
        outcomes = [HostOutcome(Host(f"node-{i:02d}", "x", 1, 0, 0), 1,
                                _report(f"node-{i:02d}", recs[i])) for i in range(n)]
        best = min(_timed(lambda o=outcomes, inf=info: merge_hosts(inf, o, "", {}))
                   for _ in range(3))
        print(f"{n:5d}  {best:.3f}")


def _timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


def live(nodes: int) -> None:
    from engine.driver import IntervalProgress, run_profile
    from tests.scale.localcluster import local_cluster
    from tests.support.servers import TestServer

    names = [f"node-{i}" for i in range(nodes)]
    with local_cluster(Path(tempfile.mkdtemp()), names) as c, TestServer("ok") as s:
        for _ in range(3):
            spec = load_text(SPEC.format(url=s.url, rate=200, duration=3, scheduler=c.address,
                                         nodes=nodes))[0][0]
            first: list[float] = []
            t0 = time.monotonic()

            def progress(e: object, first: list[float] = first) -> None:
                if isinstance(e, IntervalProgress) and not first:
                    first.append(time.monotonic())

            run = run_profile(s.url, spec.journeys, spec.profiles[0], progress=progress)
            wall = time.monotonic() - t0
            print(f"live {nodes} hosts: start-up {first[0] - t0 - 1.0:.2f} s, wall - planned "
                  f"{wall - 3.0:.2f} s, requests {run.requests}, valid {run.validity.valid}, "
                  f"offsets ms {[h['clock_offset_ms'] for h in run.extra['hosts']]} ± "
                  f"{[h['clock_uncertainty_ms'] for h in run.extra['hosts']]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, nargs="*", default=[1, 2, 4, 8, 16])
    ap.add_argument("--live", type=int, default=2, help="generator workers (0: skip)")
    args = ap.parse_args()
    synthetic(args.hosts)
    if args.live:
        live(args.live)


if __name__ == "__main__":
    main()
