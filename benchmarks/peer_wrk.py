"""Peer benchmark: perfopt-engine's load driver vs wrk on the same local nginx endpoint.

Run by hand, never in the test suite (timing on a shared machine is noisy):

    apt-get install nginx wrk          # Debian/Ubuntu packages; both must be on PATH
    pip install -e . --no-build-isolation
    python benchmarks/peer_wrk.py --rounds 3 --seconds 5

It starts nginx on a free loopback port (temporary prefix and config, ``return 200 "ok"``),
then alternates wrk and perfopt-engine for several rounds so drift hits both equally, and
prints a markdown table: requests/s, generator CPU-seconds, requests per generator
CPU-second and the ratio to wrk (closed model, 50 connections); the 1-connection medians
(measurement overhead); and open-model runs at fixed rates (achieved rate, schedule lag).

CPU accounting: wrk's CPU is its process rusage (user + system, from wait4); the driver's
is its own process CPU during the run (``RunResult.extra['generator_cpu_s']``), so Python
start-up and imports are not charged to it. Each driver run is a separate process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.bench.nginx import nginx_conf


@dataclass(frozen=True)
class Sample:
    tool: str
    requests: int
    seconds: float
    cpu_s: float
    p50_us: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def per_cpu(self) -> float:
        return self.requests / self.cpu_s if self.cpu_s > 0 else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def nginx() -> Iterator[str]:
    """A throwaway nginx on 127.0.0.1; yields its URL."""
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(exe).exists():
        sys.exit("nginx not found: install Debian's package (apt-get install nginx)")
    port = free_port()
    with tempfile.TemporaryDirectory() as prefix:
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(nginx_conf(str(prefix), port))
        proc = subprocess.Popen([exe, "-c", str(conf), "-p", prefix],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_port(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)


def _wait_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit("nginx did not start")


def run_wrk(url: str, connections: int, seconds: float) -> Sample:
    """wrk with one thread (one core, like one driver worker); CPU from wait4 rusage."""
    exe = shutil.which("wrk")
    if exe is None:
        sys.exit("wrk not found: install Debian's package (apt-get install wrk)")
    proc = subprocess.Popen([exe, "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency",
                             url + "/"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, _, ru = os.wait4(proc.pid, 0)
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    took = re.search(r"requests in ([\d.]+)(m?s)", out)
    secs = float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1.0, "ms": 1e3, "s": 1e6}[p50.group(2)]  # type: ignore[union-attr]
    return Sample("wrk", total, secs, ru.ru_utime + ru.ru_stime,
                  float(p50.group(1)) * scale)  # type: ignore[union-attr]


def run_driver(url: str, model: str, level: float, seconds: float, connections: int) -> dict[str, Any]:
    """perfopt-engine in a child process (``--child``); returns its JSON summary."""
    cmd = [sys.executable, __file__, "--child", model, str(level), str(seconds),
           str(connections), url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def child(model: str, level: float, seconds: float, connections: int, url: str) -> None:
    """Run one profile with workers=1 and print a JSON summary (the benchmark's child)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from engine.driver import run_profile
    from engine.spec.model import Journey, LoadProfile, Request, RunSettings

    settings = RunSettings(workers=1, connections=connections, model=model,  # type: ignore[arg-type]
                           max_queue=100000)
    kw = {"vus": int(level)} if model == "closed" else {"rate": level}
    profile = LoadProfile("bench", "baseline", settings, duration_s=seconds, **kw)
    r = run_profile(url, [Journey("get", 1.0, (Request("GET", "/"),))], profile)
    j = r.journeys[0]
    print(json.dumps({
        "requests": r.requests, "ok": j.ok, "seconds": r.duration_s,
        "cpu_s": r.extra["generator_cpu_s"], "p50_us": j.response.value_at_percentile(50) / 1e3,
        "service_p50_us": j.service.value_at_percentile(50) / 1e3,
        "achieved": r.validity.achieved_rate, "target": r.validity.target_rate,
        "lag_p99_ms": r.validity.schedule_lag_p99_s * 1e3, "dropped": r.validity.dropped,
        "valid": r.validity.valid, "cpu_pct": r.validity.generator_cpu_pct,
        "rss_growth": r.validity.generator_rss_growth_bytes}))


def driver_sample(d: dict[str, Any]) -> Sample:
    return Sample("perfopt", int(d["requests"]), float(d["seconds"]), float(d["cpu_s"]),
                  float(d["p50_us"]))


def closed_table(url: str, rounds: int, seconds: float, conns: int) -> list[str]:
    wrk, ours = [], []
    for _ in range(rounds):
        wrk.append(run_wrk(url, conns, seconds))
        ours.append(driver_sample(run_driver(url, "closed", conns, seconds, conns)))
    rows = [f"### Closed model, {conns} connections, {rounds} rounds x {seconds:.0f} s "
            "(alternating)", "",
            "| tool | req/s (median) | generator CPU-s (median) | req per CPU-s (median) "
            "| ratio to wrk |", "|---|---:|---:|---:|---:|"]
    base = statistics.median(s.per_cpu for s in wrk)
    for name, runs in (("wrk -t1", wrk), ("perfopt-engine (1 worker)", ours)):
        per = statistics.median(s.per_cpu for s in runs)
        rows.append(f"| {name} | {statistics.median(s.rps for s in runs):,.0f} | "
                    f"{statistics.median(s.cpu_s for s in runs):.2f} | {per:,.0f} | "
                    f"{per / base:.2f}x |")
    return rows


def latency_table(url: str, rounds: int, seconds: float) -> list[str]:
    wrk, ours, opened = [], [], []
    for _ in range(rounds):
        wrk.append(run_wrk(url, 1, seconds).p50_us)
        ours.append(run_driver(url, "closed", 1, seconds, 1)["p50_us"])
        opened.append(run_driver(url, "open", 1000, seconds, 1)["p50_us"])
    w = statistics.median(wrk)
    return ["### One connection: median latency (measurement overhead)", "",
            "| tool | p50 (µs, median of rounds) | difference to wrk (µs) |", "|---|---:|---:|",
            f"| wrk -t1 -c1 (closed, full speed) | {w:.1f} | 0 |",
            f"| perfopt-engine closed, 1 VU | {statistics.median(ours):.1f} | "
            f"{statistics.median(ours) - w:+.1f} |",
            f"| perfopt-engine open, 1,000/s, 1 connection | {statistics.median(opened):.1f} | "
            f"{statistics.median(opened) - w:+.1f} |"]


def open_table(url: str, rates: list[float], seconds: float, conns: int) -> list[str]:
    rows = [f"### Open model, one worker, {conns} connections, {seconds:.0f} s", "",
            "| target /s | achieved /s | within 1% | schedule lag p99 (ms) | dropped "
            "| generator CPU % | valid |", "|---:|---:|---|---:|---:|---:|---|"]
    for rate in rates:
        d = run_driver(url, "open", rate, seconds, conns)
        ok = d["achieved"] >= 0.99 * rate
        rows.append(f"| {rate:,.0f} | {d['achieved']:,.0f} | {'yes' if ok else 'no'} | "
                    f"{d['lag_p99_ms']:.2f} | {d['dropped']:,} | {d['cpu_pct']:.0f} | "
                    f"{d['valid']} |")
    return rows


def memory_table(url: str, seconds: float, conns: int) -> list[str]:
    """One long closed-model run: how much the generator's RSS grew over it."""
    d = run_driver(url, "closed", conns, seconds, conns)
    return ["### Generator memory over a long run", "",
            "| requests | seconds | RSS growth (MB) | target |", "|---:|---:|---:|---|",
            f"| {d['requests']:,} | {d['seconds']:.0f} | {d['rss_growth'] / 1e6:.1f} "
            "| < 10 MB over 10M requests |"]


NGINX_ANSWER = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
                b"Date: Fri, 27 Nov 2026 12:00:00 GMT\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 2\r\nConnection: keep-alive\r\nX-Pad: 0\r\n\r\nok")
"""nginx's keep-alive answer to ``return 200 "ok"`` (6 headers), for ``--parser``."""


def parser_table(n: int) -> list[str]:
    """CPU per parsed answer with httptools, with and without header callbacks (the
    driver's two parser modes, see engine/driver/servertiming.py)."""
    from httptools import HttpResponseParser

    class Bare:
        def on_headers_complete(self) -> None: ...

        def on_message_complete(self) -> None: ...

    class Headers(Bare):
        def on_header(self, name: bytes, value: bytes) -> None: ...

    rows = [f"### httptools, {n:,} answers of {len(NGINX_ANSWER)} bytes", "",
            "| callbacks | µs per answer (best of 5) |", "|---|---:|"]
    for label, cb in (("status/complete only", Bare()), ("every header", Headers())):
        feed = HttpResponseParser(cb).feed_data
        best = min(_time_feed(feed, n) for _ in range(5))
        rows.append(f"| {label} | {best / n / 1e3:.2f} |")
    return rows


def _time_feed(feed: Any, n: int) -> int:
    t0 = time.process_time_ns()
    for _ in range(n):
        feed(NGINX_ANSWER)
    return time.process_time_ns() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--rates", default="10000,25000,50000")
    ap.add_argument("--memory-seconds", type=float, default=0.0,
                    help="also run one closed-model run this long and report RSS growth")
    ap.add_argument("--child", nargs=5, metavar=("MODEL", "LEVEL", "SECONDS", "CONNS", "URL"))
    ap.add_argument("--parser", type=int, default=0, metavar="N",
                    help="only time httptools on N nginx answers (no nginx, no wrk)")
    a = ap.parse_args()
    if a.parser > 0:
        print("\n".join(parser_table(a.parser)))
        return
    if a.child:
        m, lvl, secs, conns, url = a.child
        child(m, float(lvl), float(secs), int(conns), url)
        return
    with nginx() as url:
        lines = closed_table(url, a.rounds, a.seconds, a.connections)
        lines += ["", *latency_table(url, a.rounds, a.seconds)]
        rates = [float(r) for r in a.rates.split(",")]
        lines += ["", *open_table(url, rates, a.seconds, a.connections)]
        if a.memory_seconds > 0:
            lines += ["", *memory_table(url, a.memory_seconds, a.connections)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
