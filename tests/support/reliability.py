"""Helpers of the reliability suite (tests/e2e/test_reliability*.py): a spec per case,
apply in a subprocess, and the process checks (alive, gone, children)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

from tests.support.specs import REPO, run_cli

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: rel-{name}, component: rel}}
trigger: proactive
target:
{target}
journeys:
  - {{name: stats, request: {{method: GET, path: /stats}}}}
slos:
  - {{name: errors, sli: error_rate, objective: "< 1%"}}
load:
  baseline: {{rate: 20/s, duration: {duration}, connections: 2}}
report: {{formats: [json], dir: reports}}
history: {{path: .perfopt/history.db}}
"""



NEVER_READY = f'[{sys.executable}, -c, "import time; time.sleep(60)"]'



def write_spec(tmp: Path, name: str, target: str, duration: str = "2s") -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, target=target, duration=duration), encoding="utf-8")
    return path



def loopback_env() -> dict[str, str]:
    return {**os.environ, "PERFOPT_LOOPBACK_ONLY": "1", "PYTHONPATH": str(REPO)}



def apply(spec: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli("apply", str(spec), "--quiet", *extra, cwd=spec.parent, env=loopback_env(),
                   timeout=timeout)



def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False



def wait_gone(procs: list[psutil.Process], timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p.pid for p in procs if alive(p)]



@contextmanager
def occupied_port(port: int = 0) -> Iterator[tuple[int, list[bytes]]]:
    """A plain loopback socket server on ``port`` (0: a free one); yields (port, bytes received)."""
    server = socket.create_server(("127.0.0.1", port))
    server.settimeout(0.2)
    received: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.5)
                with suppress(OSError):
                    received.append(conn.recv(4096))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1]), received
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()



def start_apply(spec: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "engine", "apply", str(spec), "--quiet"],
                            cwd=spec.parent, env=loopback_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)



def wait_children(proc: subprocess.Popen[str], timeout: float = 30.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        kids = [k for k in parent.children(recursive=True) if alive(k)]
        if kids:
            return kids
        time.sleep(0.1)
    raise AssertionError("apply started no target")



def demo_command(port: int) -> str:
    return f"{sys.executable} -m engine.demo --host 127.0.0.1 --port {port}"
