"""Driver CPU per request: a plain journey vs a stateful one (extract + checks + cookies).

Run by hand, never in the test suite (timing on a shared machine is noisy):

    python benchmarks/driver_cpu.py --rounds 3 --seconds 4
    PYTHONPATH=/path/to/older/checkout python benchmarks/driver_cpu.py --only plain

The target is a canned-answer HTTP/1.1 server (uvloop + httptools, its own process, one
core): POST /login sets a cookie, GET /me answers 200 with it and 401 without, POST /orders
answers ``{"id": 7, "name": "widget"}``, GET /orders/7 the order, anything else ``ok``.
Each driver run is its own process, closed model (``--vus`` users, no think time; or the
open model at ``--rate`` journeys/s over ``--vus`` connections); the
figure is the driver's own CPU over the run (``RunResult.extra['generator_cpu_s']``, so
start-up and imports are not charged) divided by the requests it completed. The median of
``--rounds`` rounds is printed as a markdown table, journeys alternating so drift hits both.

- plain: ``GET /`` (one static step: the native connection, no headers kept)
- stateful: POST /login (cookie kept) -> GET /me (cookie sent, check status 200)
  -> POST /orders (extract $.id) -> GET /orders/{var:id} (checks: status, json equals)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import subprocess
import sys
from typing import Any

ANSWERS = {
    ("POST", "/login"): (200, "Set-Cookie: sid=s3cret; Path=/\r\n", b'{"ok":true}'),
    ("POST", "/orders"): (201, "", b'{"id": 7, "name": "widget"}'),
    ("GET", "/orders/7"): (200, "", b'{"id": 7, "name": "widget"}'),
}


def serve(port_out: Any) -> None:
    """The canned-answer server (runs in a child process until killed)."""
    import httptools
    import uvloop

    class Proto(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.t = transport
            self.p = httptools.HttpRequestParser(self)
            self.url = b""
            self.cookie = False

        def data_received(self, data: bytes) -> None:
            self.p.feed_data(data)

        def on_url(self, url: bytes) -> None:
            self.url = url

        def on_header(self, name: bytes, value: bytes) -> None:
            if name.lower() == b"cookie" and b"sid=s3cret" in value:
                self.cookie = True

        def on_message_complete(self) -> None:
            key = (self.p.get_method().decode(), self.url.decode())
            status, extra, body = ANSWERS.get(key, (200, "", b"ok"))
            if key == ("GET", "/me"):
                status, body = (200, b'{"name":"alice"}') if self.cookie else (401, b"{}")
            self.cookie = False
            self.t.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
                         .encode() + body)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Proto, "127.0.0.1", 0, backlog=1024)
        port_out.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    uvloop.run(main())


def journeys(kind: str) -> list[Any]:
    from engine.spec.model import Journey, Request

    if kind == "plain":  # also runs on checkouts from before #16 (no Check, Extract)
        return [Journey("plain", 1, (Request("GET", "/"),))]
    from engine.spec.model import Check, Extract

    steps = (
        Request("POST", "/login", body="u=alice"),
        Request("GET", "/me", checks=(Check("status is 200", "status", "in", codes=(200,)),)),
        Request("POST", "/orders", body="{}", extract=(Extract("id", "json", "$.id"),)),
        Request("GET", "/orders/{var:id}", checks=(
            Check("status is 200", "status", "in", codes=(200,)),
            Check("name", "json", "equals", "$.name", "widget"))),
    )
    return [Journey("stateful", 1, steps)]


def child(kind: str, url: str, vus: int, seconds: float, rate: float) -> None:
    from engine.driver import run_profile
    from engine.spec.model import LoadProfile, RunSettings

    if rate > 0:  # open model: a fixed arrival rate over vus connections
        profile = LoadProfile("bench", "baseline", RunSettings(connections=vus), rate=rate,
                              duration_s=seconds)
    else:
        profile = LoadProfile("bench", "baseline", RunSettings(model="closed", connections=vus),
                              vus=vus, duration_s=seconds)
    r = run_profile(url, journeys(kind), profile)
    print(json.dumps({"requests": r.requests, "errors": r.errors,
                      "cpu_s": r.extra["generator_cpu_s"], "load_s": r.duration_s}))


def measure(kind: str, url: str, vus: int, seconds: float, rate: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, url, str(vus),
                          str(seconds), str(rate)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--vus", type=int, default=20)
    ap.add_argument("--only", choices=["plain", "stateful"], default=None)
    ap.add_argument("--rate", type=float, default=0.0,
                    help="open model at this many journeys/s (default: closed model)")
    ap.add_argument("--child", nargs=5, metavar=("KIND", "URL", "VUS", "SECONDS", "RATE"))
    args = ap.parse_args()
    if args.child:
        kind, url, vus, secs, rate = args.child
        child(kind, url, int(vus), float(secs), float(rate))
        return
    kinds = [args.only] if args.only else ["plain", "stateful"]
    recv, send = mp.Pipe(duplex=False)
    server = mp.get_context("spawn").Process(target=serve, args=(send,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{recv.recv()}"
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    try:
        for _ in range(args.rounds):
            for k in kinds:
                rows[k].append(measure(k, url, args.vus, args.seconds, args.rate))
    finally:
        server.kill()
    print("| journey | requests/s | errors | driver CPU µs per request (median) | rounds |")
    print("|---|---:|---:|---:|---|")
    for k, samples in rows.items():
        per = [1e6 * s["cpu_s"] / max(1, s["requests"]) for s in samples]
        rate = statistics.median(s["requests"] / s["load_s"] for s in samples)
        errors = sum(s["errors"] for s in samples)
        print(f"| {k} | {rate:,.0f} | {errors} | {statistics.median(per):.1f} | "
              f"{', '.join(f'{p:.1f}' for p in per)} |")


if __name__ == "__main__":
    main()
