"""Tracing overhead (#21): driver CPU per request with traceparent on vs off, and the
receiver's CPU per 1,000 spans. Run by hand, never in the test suite:

    python benchmarks/traces_overhead.py --rounds 3 --seconds 3 --rate 2000

The target is benchmarks/driver_cpu.py's canned-answer server; each driver run is its own
process (open model at --rate over 20 connections, or closed with 20 users at --rate 0;
GET /), plain or with the traceparent
template engine.traces.inject adds (sampled at 1.0). The receiver figure posts 200 export
requests of 50 spans each (3 attributes), built with the real OpenTelemetry SDK's OTLP
protobuf encoder, to a receiver on loopback and reads its thread CPU.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def child(kind: str, url: str, seconds: float, rate: float) -> None:
    from engine.driver import run_profile
    from engine.spec.model import Journey, LoadProfile, Request, RunSettings
    from engine.traces.inject import traced_journeys

    js = (Journey("plain", 1, (Request("GET", "/"),)),)
    if kind == "traced":
        js = traced_journeys(js, 0x1234ABCD, 1.0)
    if rate > 0:
        profile = LoadProfile("bench", "baseline", RunSettings(connections=20), rate=rate,
                              duration_s=seconds)
    else:  # closed model: 20 users without think time
        profile = LoadProfile("bench", "baseline", RunSettings(model="closed", connections=20),
                              vus=20, duration_s=seconds)
    r = run_profile(url, js, profile)
    print(json.dumps({"requests": r.requests, "cpu_s": r.extra["generator_cpu_s"]}))


def driver_rows(rounds: int, seconds: float, rate: float) -> None:
    from driver_cpu import serve

    recv, send = mp.Pipe(duplex=False)
    server = mp.get_context("spawn").Process(target=serve, args=(send,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{recv.recv()}"
    per: dict[str, list[float]] = {"plain": [], "traced": []}
    try:
        for _ in range(rounds):
            for k in per:
                out = subprocess.run([sys.executable, __file__, "--child", k, url, str(seconds),
                                      str(rate)], capture_output=True, text=True, check=True)
                s = json.loads(out.stdout.strip().splitlines()[-1])
                per[k].append(1e6 * s["cpu_s"] / max(1, s["requests"]))
    finally:
        server.kill()
    for k, v in per.items():
        print(f"| {k} | {statistics.median(v):.1f} | {', '.join(f'{x:.1f}' for x in v)} |")


def receiver_cpu(requests: int = 200, per: int = 50) -> float:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

    from engine.traces.receiver import Receiver

    got: list = []  # type: ignore[type-arg]

    class Keep(SpanExporter):
        def export(self, spans):  # type: ignore[no-untyped-def]
            got.extend(spans)

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Keep()))
    tracer = provider.get_tracer("bench")
    for i in range(per):
        with tracer.start_as_current_span("SELECT", attributes={
                "db.system": "sqlite", "db.statement": f"SELECT * FROM t WHERE id = {i}",
                "server.address": "db"}):
            pass
    body = encode_spans(got).SerializeToString()
    r = Receiver().start()
    try:
        for _ in range(requests):
            req = urllib.request.Request(r.endpoint + "/v1/traces", body,
                                         {"Content-Type": "application/x-protobuf"})
            urllib.request.urlopen(req, timeout=5).read()
        return 1000 * r.stats.cpu_s / max(1, r.stats.spans)
    finally:
        r.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rate", type=float, default=2000.0, help="0: closed model, 20 users")
    ap.add_argument("--child", nargs=4)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], float(a.child[2]), float(a.child[3]))
        return
    print("| journey | driver CPU µs per request (median) | rounds |\n|---|---:|---|")
    driver_rows(a.rounds, a.seconds, a.rate)
    print(f"\nreceiver CPU per 1,000 spans: {receiver_cpu() * 1000:.1f} ms")


if __name__ == "__main__":
    main()
