"""A real Dask cluster on loopback for the scale-out tests: one scheduler and named
generator workers, each a `dask` CLI subprocess bound to 127.0.0.1 (standing in for
machines), importing the engine from this checkout. Torn down by the process handles."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.specs import REPO

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalCluster:
    """Handles of the cluster's processes and its scheduler address."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = dict(os.environ, PYTHONPATH=str(REPO))

    def _start(self, name: str, args: Sequence[str]) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        dask = [sys.executable, "-m", "distributed.cli.dask_" + args[0]]
        self.procs[name] = subprocess.Popen([*dask, *args[1:]], stdout=log, stderr=log,
                                            env=self.env, cwd=str(REPO),
                                            start_new_session=True)

    def start(self, workers: Sequence[str]) -> None:
        # --no-dashboard leaves the HTTP server (health, metrics) on all interfaces at
        # :8787 / a random port: --dashboard-address keeps it on loopback too
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                  "--no-dashboard", "--dashboard-address", "127.0.0.1:0"])
        for name in workers:
            self._start(name, ["worker", self.address, "--host", "127.0.0.1", "--name", name,
                               "--resources", "generator=1", "--nthreads", "1",
                               "--no-dashboard", "--dashboard-address", "127.0.0.1:0"])
        self.wait_for(len(workers))

    def client(self) -> Any:
        from distributed import Client

        return Client(self.address, timeout=10, set_as_default=False)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with self.client() as c:
                    if len(c.scheduler_info(n_workers=-1)["workers"]) >= count:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"dask cluster did not start; logs in {self.log_dir}")

    def worker_pids(self) -> dict[str, int]:
        """Name -> pid of each Dask worker process (under its nanny)."""
        with self.client() as c:
            info = c.scheduler_info(n_workers=-1)["workers"]
            pids = c.run(os.getpid)
            return {str(w["name"]): int(pids[a]) for a, w in info.items() if a in pids}

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


@contextmanager
def local_cluster(log_dir: Path, workers: Sequence[str] = ("node-a", "node-b")
                  ) -> Iterator[LocalCluster]:
    cluster = LocalCluster(log_dir)
    try:
        cluster.start(workers)
        yield cluster
    finally:
        cluster.stop()
