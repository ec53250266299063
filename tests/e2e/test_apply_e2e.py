"""`perfopt-engine apply` end to end against the embedded demo service (issue #5).

Each test runs the real CLI in a subprocess, as a pipeline would, and checks the
exit code, the printed summary and the written report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import psutil
import pytest

from tests.support.demo import free_port
from tests.support.specs import REPO, run_cli

pytestmark = pytest.mark.slow

SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: stats-{name}, component: stats-api}}
trigger: proactive
target:
{target}
journeys:
  - {{name: stats, request: {{method: GET, path: /stats}}}}
slos:
  - {{name: stats-p95, sli: latency, journey: stats, percentile: 95, objective: "< 10ms"}}
  - {{name: errors, sli: error_rate, objective: "< 1%"}}
load:
  baseline: {{rate: {rate}, duration: {duration}, connections: {connections}}}
report: {{formats: [markdown, json, junit], dir: reports}}
history: {{path: .perfopt/history.db}}
"""


def _spec(tmp: Path, name: str, target: str, rate: str = "50/s", duration: str = "5s",
          connections: int = 8) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, target=target, rate=rate, duration=duration,
                                connections=connections), encoding="utf-8")
    return path


def _demo(fix: str, args: str = "") -> str:
    extra = f", args: [{args}]" if args else ""
    return f"  demo: {{port: {free_port()}, fix: [{fix}]{extra}}}" if fix else \
        f"  demo: {{port: {free_port()}{extra}}}"


def _env() -> dict[str, str]:
    return {**os.environ, "PERFOPT_LOOPBACK_ONLY": "1", "PYTHONPATH": str(REPO)}


def _report(tmp: Path, name: str) -> dict:  # type: ignore[type-arg]
    loaded: dict = json.loads((tmp / "reports" / f"stats-{name}-latest.json").read_text())  # type: ignore[type-arg]
    return loaded


def test_slow_variant_breaks_the_slo_and_exits_1(tmp_path: Path) -> None:
    # 25/s for 10 s: the uncached /stats (20-30 ms a request) keeps up on a slower machine
    # (at 50/s one answered 46/s), and 250 requests are enough for a p95
    spec = _spec(tmp_path, "slow", _demo(""), rate="25/s", duration="10s")
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    doc = _report(tmp_path, "slow")
    assert doc["exit_code"] == 1 and doc["specs"][0]["verdict"] == "FAIL"
    check = next(c for c in doc["specs"][0]["slo_checks"] if c["slo"] == "stats-p95")
    assert check["status"] == "FAIL", check
    assert "SLO breached: stats p95" in result.stdout  # said on the console too
    # the measured p95 over its target; or, should the machine still fall behind, more
    # requests never answered than a p95 allows (they count as slower than any objective)
    assert check["message"].startswith("SLO breached: stats p95 "), check
    assert check["message"].endswith("exceeds target < 10ms") or \
        "never answered" in check["message"], check


def test_fast_variant_meets_the_slo_and_exits_0(tmp_path: Path) -> None:
    # a 60 s TTL: one cache miss (an uncached query blocking the loop 30-80 ms, more on a
    # slow host) in a 5 s run, not one every 5 s landing in the p95 of a small run
    spec = _spec(tmp_path, "fast", _demo("cache", '"--cache-ttl", "60"'))
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = _report(tmp_path, "fast")
    checks = {c["slo"]: c["status"] for c in doc["specs"][0]["slo_checks"]}
    assert checks == {"stats-p95": "PASS", "errors": "PASS"}
    gates = {g["name"]: g["status"] for g in doc["specs"][0]["gates"]}
    assert gates["regression"] == "INCONCLUSIVE"  # first run: no baseline, never PASS
    assert (tmp_path / ".perfopt" / "history.db").is_file()
    # the demo reports Server-Timing; the analysis stage's rows reach the run table
    rows = [t for r in doc["specs"][0]["runs"] for j in r["journeys"] for t in j["server_timing"]]
    assert rows and all(0.0 <= t["share"] <= 1.0 for t in rows)


def test_unreachable_target_exits_3(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "down", f"  url: http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp_path, env=_env(), timeout=60)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "target unreachable" in result.stdout
    assert time.monotonic() - started < 30


def test_generator_that_cannot_keep_its_schedule_is_invalid_and_exits_3(tmp_path: Path) -> None:
    # one worker asked for far more arrivals than one core can dispatch: its schedule slips
    # (the native send loop dispatches ~2M/s, nearly all DROPPED at 1 connection: ask for 10x)
    spec = _spec(tmp_path, "flood", _demo("all"), rate="20000000/s", duration="2s", connections=1)
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "load generator" in result.stdout
    doc = _report(tmp_path, "flood")
    run = doc["specs"][0]["runs"][0]
    assert run["validity"]["valid"] is False
    assert all(r.startswith("load generator") for r in run["validity"]["reasons"])
    assert all(c["status"] == "INVALID" for c in doc["specs"][0]["slo_checks"])


def test_overloaded_target_fails_its_slos_and_exits_1_not_3(tmp_path: Path) -> None:
    # the uncached /stats serves a few dozen requests a second on 2 cores: 200/s overloads it.
    # 8 s, not 4: a slower VM answered 46/s, 191 requests in 4 s, under the 200 a p95 needs
    # (the strict slo gate still FAILed it, as unevaluable; this test wants the breach)
    spec = _spec(tmp_path, "overload", _demo(""), rate="200/s", duration="8s")
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SLO breached: stats p95" in result.stdout, result.stdout
    assert "target did not keep up" in result.stdout  # the terminal names the cause
    doc = _report(tmp_path, "overload")
    spec_doc = doc["specs"][0]
    validity = spec_doc["runs"][0]["validity"]
    assert validity["valid"] is True and validity["notes"]
    assert validity["achieved_rate"] < 200 * 0.98  # completed, not sent
    assert spec_doc["verdict"] == "FAIL" and doc["exit_code"] == 1
    gates = {g["name"]: g["status"] for g in spec_doc["gates"]}
    assert gates["slo"] == "FAIL" and gates["validity"] == "PASS"


def test_managed_target_that_fails_to_start_shows_its_output(tmp_path: Path) -> None:
    command = f'[{sys.executable}, -c, "import sys; print(\'db migration failed\'); sys.exit(4)"]'
    target = f"  url: http://127.0.0.1:{free_port()}\n  start: {{command: {command}}}"
    spec = _spec(tmp_path, "nostart", target)
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp_path, env=_env(), timeout=60)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "failed to start" in result.stdout
    assert "db migration failed" in result.stdout  # the terminal shows why, not only the JSON
    doc = _report(tmp_path, "nostart")
    assert "db migration failed" in (doc["specs"][0]["target"]["output_tail"] or "")
    assert "Traceback" not in result.stderr


def test_sigint_mid_run_exits_130_keeps_partial_result_and_no_stray_process(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "int", _demo("all"), duration="60s")
    proc = subprocess.Popen([sys.executable, "-m", "engine", "apply", str(spec)], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    err: list[str] = []
    running = threading.Event()
    readers = [_reader(proc.stdout, out), _reader(proc.stderr, err, "run baseline:", running)]
    try:
        # load has started when progress says so (not a fixed sleep: a slow host may still be
        # seeding the demo), then a second of it on the target
        assert running.wait(60), "".join(out + err)
        time.sleep(1.0)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("engine.demo" in " ".join(_cmd(k)) for k in children), children
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for reader in readers:
        reader.join(timeout=5)
    assert proc.returncode == 130, "".join(out + err)
    time.sleep(0.5)
    assert [c.pid for c in children if _alive(c)] == []
    doc = _report(tmp_path, "int")
    assert doc["verdict"] == "ABORTED" and doc["exit_code"] == 130
    assert doc["specs"][0]["runs"][0]["requests"] > 0


def _reader(stream: IO[str] | None, lines: list[str], marker: str = "",
            seen: threading.Event | None = None) -> threading.Thread:
    """Drain ``stream`` into ``lines`` on a thread (a full pipe would block apply); set
    ``seen`` at the first line starting with ``marker``."""
    assert stream is not None

    def read() -> None:
        for line in stream:
            lines.append(line)
            if seen is not None and line.startswith(marker):
                seen.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _cmd(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_abort_on_fail_stops_a_breaking_run_early(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "abort", _demo(""), duration="30s")
    text = spec.read_text(encoding="utf-8").replace(
        "report:", "gates:\n  - {name: slo, kind: slo, abort_on_fail: true, abort_delay: 1s}\n"
                   "report:")
    spec.write_text(text, encoding="utf-8")
    result = run_cli("apply", str(spec), "--quiet", cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    doc = _report(tmp_path, "abort")
    run = doc["specs"][0]["runs"][0]
    assert run["aborted"] is True and run["abort_reason"].startswith("abort_on_fail: stats p95")
    # the load itself stopped early (the demo's start-up is not the run's): p95 decides after
    # 200 responses: ~6 s of a few dozen a second here, ~12 s on a host twice as slow
    assert run["duration_s"] < 20.0, run["duration_s"]  # of the planned 30 s
    assert run["validity"]["valid"] is True  # an abort is the target's FAIL, never INVALID
    assert doc["specs"][0]["verdict"] == "FAIL"


def test_secrets_in_the_spec_reach_no_output(tmp_path: Path) -> None:
    token, key = "Bearer s3cr3t-token-4711", "k3y-0815-do-not-leak"
    spec = _spec(tmp_path, "secret", _demo("cache"), duration="2s")
    text = spec.read_text(encoding="utf-8").replace(
        "request: {method: GET, path: /stats}",
        f'request: {{method: GET, path: /stats, headers: {{Authorization: "{token}", '
        f'X-Api-Key: "{key}"}}}}').replace("report:", "secrets: [X-Api-Key]\nreport:")
    spec.write_text(text.replace("formats: [markdown, json, junit]",
                                 "formats: [markdown, json, html, junit]"), encoding="utf-8")
    result = run_cli("apply", str(spec), cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    # every file, the ADRs, runbooks and lessons beside the reports and the ledger included
    outputs = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    outputs += [p for p in (tmp_path / ".perfopt").rglob("*") if p.is_file()]
    assert len(outputs) >= 8
    assert any(p.parent.name == "lessons" for p in outputs)  # the documents were scanned too
    for path in outputs:
        data = path.read_bytes()
        assert b"s3cr3t-token-4711" not in data and key.encode() not in data, path
    assert "s3cr3t" not in result.stdout + result.stderr and key not in result.stdout
