"""One real Prometheus for the production tests: generated histories backfilled with
``promtool tsdb create-blocks-from openmetrics``, served on a free loopback port.

Every scenario ends at ``end`` (a whole minute, two minutes ago: backfilled data must be
older than now); tests evaluate at ``end`` explicitly. The shipped example's rules are loaded.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.production.rules import rule_groups, to_yaml
from engine.spec.loader import load_paths
from tests.production.synth import SCENARIOS, openmetrics

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "production.yaml"
"""Its rules are loaded into the test Prometheus (the checklist's 'alerts configured')."""
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Prom:
    url: str
    end: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _backfill(work: Path, end: float) -> Path:
    data = work / "history.om"
    with data.open("w", encoding="utf-8") as out:
        for line in openmetrics(end, list(SCENARIOS.values())):
            out.write(line + "\n")
    tsdb = work / "tsdb"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q",
                    "--max-block-duration=384h", str(data), str(tsdb)],
                   check=True, capture_output=True, timeout=300)
    data.unlink()
    return tsdb


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"prometheus not ready at {url} within {READY_TIMEOUT_S:g} s")


@pytest.fixture(scope="session")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prom]:
    """The running test Prometheus with every scenario loaded."""
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (apt-get install prometheus; .ci/run does)")
    work = tmp_path_factory.mktemp("prometheus")
    # up to two minutes ago: apply (which evaluates at "now") sees recent samples too
    end = float((int(time.time()) // 60 - 2) * 60)
    tsdb = _backfill(work, end)
    config = work / "prometheus.yml"
    rules = work / "rules.yaml"
    rules.write_text(to_yaml(rule_groups(load_paths([str(EXAMPLE)]).specs)), encoding="utf-8")
    config.write_text(f"global:\n  scrape_interval: 1m\nrule_files: [{str(rules)!r}]\n",
                      encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (work / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=60d"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, proc)
        yield Prom(url, end)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
