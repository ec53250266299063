"""`perfopt-engine run` (quick mode), ``--stream`` and ``--metrics-port`` end to end (#16).

The real CLI in a subprocess against the embedded demo or a tiny loopback server; the
real-load tests drive 2-3 s each and are marked slow. Flag errors send no load at all.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import TestServer, free_port
from tests.support.specs import REPO, run_cli

SECRET = "qk-secret-7f3a9c21"
UNREACHABLE = "http://127.0.0.1:9/"  # never contacted: every test using it fails before load


def _env() -> dict[str, str]:
    return {**os.environ, "PERFOPT_LOOPBACK_ONLY": "1", "PYTHONPATH": str(REPO)}


def _cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=tmp, env=_env(), timeout=120)


def _report(folder: Path) -> dict[str, Any]:
    [latest] = folder.glob("*-latest.json")
    doc: dict[str, Any] = json.loads(latest.read_text(encoding="utf-8"))
    return doc


BAD_FLAGS = [
    (["--rate", "fast"], '--rate fast: expected a rate like "500/s"'),
    (["--rate", "0/s"], "--rate 0/s: expected a rate greater than zero"),
    (["--duration", "0s"], "--duration 0s: expected a duration greater than zero"),
    (["--vus", "ten"], "--vus ten: expected a whole number"),
    (["--slo", "p95~200ms"], "--slo 'p95~200ms': expected METRIC OP VALUE like \"p95<200ms\""),
    (["--slo", "p95<fast"], "--slo p95<fast: expected a comparison"),
    (["--header", "NoColon"], "--header 'NoColon': expected \"Name: value\""),
    (["--method", "FETCH"], "--method FETCH: expected one of GET"),
]


@pytest.mark.parametrize(("flags", "message"), BAD_FLAGS, ids=[f[0][0] + "=" + f[0][1]
                                                                for f in BAD_FLAGS])
def test_bad_flag_is_exit_2_naming_the_flag(tmp_path: Path, flags: list[str],
                                            message: str) -> None:
    result = _cli(tmp_path, "run", UNREACHABLE, *flags, "--out", "r", "--no-history")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing was run" in result.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("args", "message"), [
    ([], "expected a URL or demo"),
    (["ftp://127.0.0.1/"], "expected a URL like http://127.0.0.1:8080/path, or demo"),
    (["--rate", "5/s", "--vus", "2", "demo"], "not allowed with argument --rate"),
], ids=["no-target", "not-http", "rate-and-vus"])
def test_bad_target_or_shape_is_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = _cli(tmp_path, "run", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_states_the_default_load() -> None:
    result = run_cli("run", "--help")
    assert result.returncode == 0
    assert "open model at 50/s for 10s" in result.stdout


def test_save_writes_a_spec_that_validates_and_plans_the_same(tmp_path: Path) -> None:
    result = _cli(tmp_path, "run", "http://127.0.0.1:18999/items?page=2", "--rate", "20/s",
                  "--duration", "2s", "--slo", "p95<200ms", "--slo", "errors<1%",
                  "--header", "X-Team: perf", "--save", "saved/quick.yaml", "--dry-run")
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "saved" / "quick.yaml"
    text = saved.read_text(encoding="utf-8")
    assert '"/items?page=2"' in text and '"X-Team": "perf"' in text
    assert not list(saved.parent.glob(".*.tmp"))  # written atomically, no temp left
    assert "baseline: 20/s for 2s (open model)" in result.stdout
    validated = _cli(tmp_path, "validate", str(saved))
    assert validated.returncode == 0, validated.stderr
    assert "1 journeys, 2 SLOs, profiles: baseline" in validated.stdout
    planned = _cli(tmp_path, "apply", str(saved), "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "baseline: 20/s for 2s (open model)" in planned.stdout


def test_vus_and_default_load_become_the_spec_profile(tmp_path: Path) -> None:
    closed = _cli(tmp_path, "run", UNREACHABLE, "--vus", "4", "--duration", "3s",
                  "--save", "vus.yaml", "--dry-run")
    assert closed.returncode == 0, closed.stderr
    assert "vus: 4" in (tmp_path / "vus.yaml").read_text(encoding="utf-8")
    default = _cli(tmp_path, "run", UNREACHABLE, "--dry-run")
    assert default.returncode == 0, default.stderr
    assert "baseline: 50/s for 10s (open model)" in default.stdout


def test_save_that_cannot_be_written_is_exit_2_before_any_load(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    result = _cli(tmp_path, "run", UNREACHABLE, "--save", "a-file/q.yaml", "--out", "r")
    assert result.returncode == 2
    assert "--save a-file/q.yaml: cannot write" in result.stderr
    assert not (tmp_path / "r").exists()


def test_metrics_without_prometheus_client_is_exit_2_with_the_install_line(
        tmp_path: Path) -> None:
    code = ("import sys; sys.modules['prometheus_client'] = None\n"
            "from engine.cli import main\n"
            f"sys.exit(main(['run', {UNREACHABLE!r}, '--metrics-port', '0', '--out', 'r']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pip install 'perfopt-engine[metrics]'" in result.stderr
    assert not list(tmp_path.glob("r/*"))  # no run, no report


def test_metrics_port_in_use_is_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli(tmp_path, "run", UNREACHABLE, "--metrics-port", str(port), "--out", "r")
    assert result.returncode == 2
    assert f"--metrics-port {port}: cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.mark.slow
def test_run_a_url_then_apply_the_saved_spec_reproduces_it(tmp_path: Path) -> None:
    with TestServer("ok") as server:
        first = _cli(tmp_path, "run", f"{server.url}/ping", "--rate", "30/s", "--duration", "2s",
                     "--slo", "errors<1%", "--header", f"Authorization: Bearer {SECRET}",
                     "--save", "q.yaml", "--out", "r1", "--no-history",
                     "--stream", "lines.jsonl")
        assert first.returncode == 0, first.stderr
        assert any(SECRET.encode() in head for head in server.requests)
        again = _cli(tmp_path, "apply", "q.yaml", "--out", "r2", "--no-history")
    assert again.returncode == 0, again.stderr
    assert "--save writes the Authorization header's value into q.yaml" in first.stderr
    one, two = _report(tmp_path / "r1")["specs"][0], _report(tmp_path / "r2")["specs"][0]
    run1, run2 = one["runs"][0], two["runs"][0]
    assert (run1["profile"], run1["model"]) == (run2["profile"], run2["model"]) == \
        ("baseline", "open")
    assert run1["target_rate"] == pytest.approx(run2["target_rate"]) == pytest.approx(30.0)
    slos = [(c["slo"], c["target"]) for c in one["slo_checks"]]
    assert slos == [(c["slo"], c["target"]) for c in two["slo_checks"]] == [("error_rate", "< 1%")]
    assert run1["requests"] > 0 and run1["errors"] == 0
    lines = [json.loads(line) for line in
             (tmp_path / "lines.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [ln["interval"] for ln in lines] == list(range(len(run1["intervals"])))
    assert sum(ln["journeys"]["request"]["requests"] for ln in lines) == run1["requests"]
    assert {ln["profile"] for ln in lines} == {"baseline"}
    written = [first.stdout, first.stderr, again.stdout, again.stderr,
               (tmp_path / "lines.jsonl").read_text(encoding="utf-8")]
    written += [p.read_text(encoding="utf-8") for p in (tmp_path / "r1").rglob("*")
                if p.is_file()]
    assert not [w for w in written if SECRET in w]


@pytest.mark.slow
def test_run_demo_streams_json_lines_to_stdout(tmp_path: Path) -> None:
    result = _cli(tmp_path, "run", "demo", "--rate", "20/s", "--duration", "2s",
                  "--no-history", "--out", "r", "--stream", "-", "--quiet")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # nothing else on stdout
    run = _report(tmp_path / "r")["specs"][0]["runs"][0]
    assert len(lines) == len(run["intervals"]) >= 2
    assert {ln["spec"] for ln in lines} == {"quick-demo"}
    assert all(ln["target_rate"] == 20.0 and ln["journeys"]["request"]["errors"] == 0
               for ln in lines)
    assert all(ln["journeys"]["request"]["p95_ms"] > 0 for ln in lines
               if ln["journeys"]["request"]["requests"])
    assert "verdict:" in result.stderr


def _scrape(port: int) -> dict[str, Any] | None:
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.mark.slow
def test_metrics_endpoint_serves_the_run_while_it_drives_load(tmp_path: Path) -> None:
    pytest.importorskip("prometheus_client")  # in the test extra; the test checks the endpoint
    port = free_port()
    with TestServer("ok") as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "run", f"{server.url}/", "--rate", "40/s",
             "--duration", "3s", "--metrics-port", str(port), "--no-history", "--out", "r",
             "--quiet"], cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        families = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            families = _scrape(port)
            if families and families.get("perfopt_requests") and \
                    families["perfopt_requests"].samples:
                break
            time.sleep(0.2)  # polling the endpoint, not an assertion
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert families is not None, "no scrape answered while the run drove load"
    ok = [s for s in families["perfopt_requests"].samples if s.name == "perfopt_requests_total"
          and s.labels["outcome"] == "ok"]
    assert ok and ok[0].value > 0 and ok[0].labels["journey"] == "request"
    assert ok[0].labels["profile"] == "baseline"
    quantiles = {s.labels["quantile"] for s in families["perfopt_latency_seconds"].samples}
    assert quantiles == {"0.5", "0.95", "0.99"}
    assert [s.value for s in families["perfopt_target_rate_per_second"].samples] == [40.0]
    for name in ("perfopt_errors", "perfopt_achieved_rate_per_second",
                 "perfopt_in_flight_requests", "perfopt_run_active"):
        assert name in families
    assert f"metrics: http://127.0.0.1:{port}/metrics" in err
    assert _scrape(port) is None  # the endpoint closes with the command
