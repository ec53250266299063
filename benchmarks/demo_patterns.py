"""Before/after latency of each demo bottleneck (run by hand, not in CI).

Starts the demo twice (no fixes / all fixes) on free loopback ports, sends N
sequential keep-alive requests per pattern endpoint, prints client latency
(median, p95) and the server's Server-Timing app median.

    python benchmarks/demo_patterns.py [N]
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.demo import PROBES, parse_server_timing, running_demo


def measure(port: int, method: str, path: str, n: int) -> tuple[float, float, float]:
    """(client median ms, client p95 ms, server app median ms) over n requests."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    client, server = [], []
    for i in range(n):
        body = json.dumps({"name": f"b{i}", "email": f"b{i}@x.io"}) if method == "POST" else None
        t0 = time.perf_counter()
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        resp.read()
        client.append((time.perf_counter() - t0) * 1000)
        server.append(parse_server_timing(resp.getheader("Server-Timing", ""))["app"])
    conn.close()
    client.sort()
    return statistics.median(client), client[int(0.95 * (n - 1))], statistics.median(server)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with running_demo(()) as slow, running_demo(("all",)) as fast:
        ports = (int(slow.rsplit(":", 1)[1]), int(fast.rsplit(":", 1)[1]))
        print(f"{'pattern':9} {'endpoint':32} {'before p50/p95 (app)':>26} "
              f"{'after p50/p95 (app)':>26} {'p50 ratio':>9}")
        for name, (method, path) in PROBES.items():
            b = measure(ports[0], method, path, n)
            a = measure(ports[1], method, path, n)
            print(f"{name:9} {method + ' ' + path:32} "
                  f"{b[0]:8.3f}/{b[1]:8.3f} ({b[2]:7.3f}) {a[0]:8.3f}/{a[1]:8.3f} ({a[2]:7.3f})"
                  f" {b[0] / a[0]:8.1f}x")


if __name__ == "__main__":
    main()
