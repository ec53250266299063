"""Peer benchmark, open model: ``perfopt-engine apply`` vs h2load at fixed arrival rates.

Run by hand, never in the test suite (timing on a shared machine is noisy):

    apt-get install -y nginx nghttp2-client     # h2load is in nghttp2-client
    pip install -e . --no-build-isolation
    python benchmarks/peer_h2load.py --rounds 3 --seconds 10 --rates 1000,5000,20000,50000

It starts one nginx (1 worker, ``return 200 "ok"``) on a free loopback port (the same
throwaway server as benchmarks/peer_wrk.py), then for each round and rate runs h2load
(``--h1 -c50 -t1 --rps R/50``: h2load's --rps is per client) and the engine's CLI as a
user runs it (``perfopt-engine apply`` of a generated spec: 50 connections, one worker,
the target's processes sampled, live progress on a pseudo-terminal), alternating so
drift hits both equally. ``--idle-rate`` (default 100/s) adds a low rate: what the
scheduler, the progress line, the sampler and the interval roll cost when there is almost
nothing to send, beside h2load's cost for the same sends (the floor: a wake-up to send and
one to read each answer).

Columns: generator CPU-seconds of the whole process (user + system from wait4, start-up
and report writing included), the engine's CPU during the load alone (the report's
generator_cpu_pct x the run's wall time: start-up excluded), the ratio of whole-process
CPU to h2load's, achieved rate and the engine's schedule lag p99. Medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_wrk import nginx  # the benchmarks folder is not a package

CONNECTIONS = 50
SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: peer, component: nginx}}
trigger: proactive
target:
  url: {url}
  process: {{name: nginx}}
journeys:
  - {{name: get, weight: 1, request: {{method: GET, path: /}}}}
load:
  baseline: {{rate: {rate}/s, duration: {seconds}s, connections: {conns}, max_queue: 100000}}
report: {{formats: [json], dir: reports}}
"""


@dataclass(frozen=True)
class Sample:
    cpu_s: float
    """Whole process, user + system (wait4)."""
    achieved: float
    run_cpu_s: float = 0.0
    """Engine only: CPU during the load (start-up excluded)."""
    lag_p99_ms: float = 0.0
    valid: str = ""


def run_h2load(url: str, rate: float, seconds: float) -> Sample:
    exe = shutil.which("h2load")
    if exe is None:
        sys.exit("h2load not found: apt-get install -y nghttp2-client")
    per_client = max(1.0, rate / CONNECTIONS)
    total = int(rate * seconds)
    proc = subprocess.Popen([exe, "--h1", f"-c{CONNECTIONS}", "-t1", f"--rps={per_client:g}",
                             f"-n{total}", url + "/"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, _, ru = os.wait4(proc.pid, 0)
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    achieved = float(m.group(3)) if m else 0.0
    return Sample(ru.ru_utime + ru.ru_stime, achieved)


def run_engine(url: str, rate: float, seconds: float) -> Sample:
    """``perfopt-engine apply`` of a generated spec, its output on a pseudo-terminal (the
    live progress line is drawn as for a user)."""
    with tempfile.TemporaryDirectory() as work:
        spec = Path(work) / "peer.yaml"
        spec.write_text(SPEC.format(url=url, rate=f"{rate:g}", seconds=f"{seconds:g}",
                                    conns=CONNECTIONS), encoding="utf-8")
        master, slave = os.openpty()
        cmd = [sys.executable, "-m", "engine", "apply", str(spec), "--profile", "baseline",
               "--no-hypotheses", "--no-history"]
        proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave, close_fds=True)
        os.close(slave)
        shown: list[bytes] = []
        drain = threading.Thread(target=_drain, args=(master, shown), daemon=True)
        drain.start()
        _, _, ru = os.wait4(proc.pid, 0)
        drain.join(5)
        os.close(master)
        report = Path(work) / "reports" / "peer-latest.json"
        if not report.exists():
            sys.exit("apply wrote no report:\n" + b"".join(shown).decode(errors="replace"))
        run = json.loads(report.read_text())
        r = run["specs"][0]["runs"][0]
    v = r["validity"]
    wall = float(r["duration_s"])
    return Sample(ru.ru_utime + ru.ru_stime, float(v["achieved_rate"]),
                  float(v["generator_cpu_pct"]) / 100 * wall,
                  float(v["schedule_lag_p99_s"]) * 1e3, "yes" if v["valid"] else "no")


def _drain(fd: int, keep: list[bytes] | None = None) -> None:
    """Read the child's terminal until it closes (EIO); keep its last output."""
    try:
        while chunk := os.read(fd, 65536):
            if keep is not None:
                keep.append(chunk)
                del keep[:-64]
    except OSError:
        return


def table(url: str, rates: list[float], rounds: int, seconds: float,
          idle_rate: float) -> list[str]:
    every = [*rates, idle_rate] if idle_rate > 0 else list(rates)
    peer: dict[float, list[Sample]] = {r: [] for r in every}
    ours: dict[float, list[Sample]] = {r: [] for r in every}
    for _ in range(rounds):
        for rate in every:  # the idle rate too: h2load's CPU there is the floor of the
            peer[rate].append(run_h2load(url, rate, seconds))  # wake-ups both need
            ours[rate].append(run_engine(url, rate, seconds))
    rows = [f"### Open model at fixed rates, {CONNECTIONS} connections, {seconds:g} s runs, "
            f"{rounds} round(s) alternating (medians); load average "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}", "",
            "| rate /s | h2load CPU-s | h2load achieved /s | engine CPU-s (process) "
            "| engine CPU-s (load only) | ratio (process) | ratio (load only) "
            "| engine achieved /s | lag p99 (ms) | valid |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for rate, runs in sorted(ours.items()):
        rows.append(_row(rate, peer.get(rate, []), runs))
    return rows


def _row(rate: float, peer: list[Sample], ours: list[Sample]) -> str:
    med = statistics.median
    cpu, run_cpu = med(s.cpu_s for s in ours), med(s.run_cpu_s for s in ours)
    base = med(s.cpu_s for s in peer) if peer else 0.0
    ratio = f"{cpu / base:.2f}x" if base else "–"
    run_ratio = f"{run_cpu / base:.2f}x" if base else "–"
    h_cpu = f"{base:.2f}" if peer else "–"
    h_ach = f"{med(s.achieved for s in peer):,.0f}" if peer else "–"
    valid = "/".join(s.valid for s in ours)
    return (f"| {rate:,.0f} | {h_cpu} | {h_ach} | {cpu:.2f} | {run_cpu:.2f} | {ratio} | "
            f"{run_ratio} | {med(s.achieved for s in ours):,.0f} | "
            f"{med(s.lag_p99_ms for s in ours):.3f} | {valid} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rates", default="1000,5000,20000,50000")
    ap.add_argument("--idle-rate", type=float, default=100.0,
                    help="also run the engine alone at this rate (0: skip)")
    a = ap.parse_args()
    started = time.monotonic()
    with nginx() as url:
        lines = table(url, [float(r) for r in a.rates.split(",")], a.rounds, a.seconds,
                      a.idle_rate)
    lines += ["", f"(command: python benchmarks/peer_h2load.py --rounds {a.rounds} "
              f"--seconds {a.seconds:g} --rates {a.rates} --idle-rate {a.idle_rate:g}; "
              f"took {time.monotonic() - started:.0f} s)"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
