"""Reliability of `apply` (issue #15): taken ports, signals while a target starts,
report folders that cannot be written, unsafe input, secrets, broken pipes.

Each test drives the real CLI in a subprocess and checks the exit code, a time
bound, the absence of a traceback, of stray processes and of secrets.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest

from tests.support.demo import free_port
from tests.support.specs import REPO, run_cli

pytestmark = pytest.mark.slow

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


def _spec(tmp: Path, name: str, target: str, duration: str = "2s") -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, target=target, duration=duration), encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "PERFOPT_LOOPBACK_ONLY": "1", "PYTHONPATH": str(REPO)}


def _apply(spec: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli("apply", str(spec), "--quiet", *extra, cwd=spec.parent, env=_env(),
                   timeout=timeout)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(procs: list[psutil.Process], timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p.pid for p in procs if _alive(p)]


@contextmanager
def _occupied_port(port: int = 0) -> Iterator[tuple[int, list[bytes]]]:
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


@pytest.mark.parametrize("kind", ["demo", "start"])
def test_taken_port_fails_with_its_owner_and_exit_3(tmp_path: Path, kind: str) -> None:
    with _occupied_port() as (port, received):
        target = (f"  demo: {{port: {port}}}" if kind == "demo" else
                  f"  url: http://127.0.0.1:{port}\n  start: {{command: {NEVER_READY}}}")
        started = time.monotonic()
        result = _apply(_spec(tmp_path, f"taken-{kind}", target))
        elapsed = time.monotonic() - started
    out = result.stdout + result.stderr
    assert result.returncode == 3, out
    assert f"port {port} is in use by pid {os.getpid()} (" in out
    assert "Traceback" not in out
    assert elapsed < 20
    assert not any(received), received  # no HTTP request reached the foreign server
    doc = json.loads((tmp_path / "reports" / f"rel-taken-{kind}-latest.json").read_text())
    assert doc["specs"][0]["runs"] == []


def _start_apply(spec: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "engine", "apply", str(spec), "--quiet"],
                            cwd=spec.parent, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_children(proc: subprocess.Popen[str], timeout: float = 30.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        kids = [k for k in parent.children(recursive=True) if _alive(k)]
        if kids:
            return kids
        time.sleep(0.1)
    raise AssertionError("apply started no target")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_waiting_for_readiness_stops_within_2s(tmp_path: Path,
                                                            sig: signal.Signals) -> None:
    target = (f"  url: http://127.0.0.1:{free_port()}\n  start: {{command: {NEVER_READY}, "
              f"ready: {{tcp: {free_port()}, timeout: 30s}}}}")
    proc = _start_apply(_spec(tmp_path, "ready", target))
    try:
        children = _wait_children(proc)
        time.sleep(2.0)
        signalled = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
        elapsed = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert elapsed < 4.0, elapsed  # 2 s in the engine, plus slack for a busy machine
    assert "Traceback" not in err
    assert _wait_gone(children) == []
    doc = json.loads((tmp_path / "reports" / "rel-ready-latest.json").read_text())
    assert doc["exit_code"] == 130


def test_kill_9_of_apply_takes_the_demo_down(tmp_path: Path) -> None:
    proc = _start_apply(_spec(tmp_path, "k9", f"  demo: {{port: {free_port()}}}", "60s"))
    try:
        children = _wait_children(proc)
        proc.kill()
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    try:
        assert _wait_gone(children) == []
    finally:
        for child in children:
            if _alive(child):
                child.kill()


def _demo_command(port: int) -> str:
    return f"{sys.executable} -m engine.demo --host 127.0.0.1 --port {port}"


def test_a_child_the_start_command_detached_is_stopped_with_it(tmp_path: Path) -> None:
    port, pid_path = free_port(), tmp_path / "detached.pid"
    script = (f"(setsid sh -c 'echo $$ > {pid_path}; exec sleep 300' &); "
              f"exec {_demo_command(port)}")
    target = (f"  url: http://127.0.0.1:{port}\n"
              f"  start: {{command: [sh, -c, \"{script}\"], ready: {{path: /health}}}}")
    started = time.monotonic()
    result = _apply(_spec(tmp_path, "detach", target, "1s"))
    elapsed = time.monotonic() - started
    try:
        detached = psutil.Process(int(pid_path.read_text()))
    except psutil.NoSuchProcess:
        detached = None  # gone already
    try:
        assert result.returncode in (0, 1), result.stdout + result.stderr
        assert "Traceback" not in result.stderr and elapsed < 60
        assert detached is None or _wait_gone([detached], 2.0) == [], "it outlived apply"
    finally:
        if detached is not None and _alive(detached):
            detached.kill()


def test_a_port_taken_after_the_check_is_never_measured(tmp_path: Path) -> None:
    port = free_port()
    target = (f"  url: http://127.0.0.1:{port}\n  start: {{command: {NEVER_READY}, "
              f"ready: {{tcp: {port}, timeout: 30s}}}}")
    proc = _start_apply(_spec(tmp_path, "swap", target))
    try:
        children = _wait_children(proc)  # launched: the port check has passed
        with _occupied_port(port) as (_, received):  # another server takes the port now
            started = time.monotonic()
            out, err = proc.communicate(timeout=30)
            elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, out + err
    assert f"port {port} is answered by pid {os.getpid()} (" in out, out
    assert "Traceback" not in err and elapsed < 10
    assert not any(received), received  # not one request reached it
    assert _wait_gone(children) == []
    doc = json.loads((tmp_path / "reports" / "rel-swap-latest.json").read_text())
    assert doc["specs"][0]["runs"] == []


def test_the_next_apply_stops_a_target_a_killed_apply_left(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "engine.demo", "--host", "127.0.0.1", "--port", str(port)]
    orphan = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        record = {"pid": orphan.pid, "create_time": psutil.Process(orphan.pid).create_time(),
                  "cmdline": command, "marker": "", "apply_pid": 0}
        folder = tmp_path / ".perfopt" / "targets"
        folder.mkdir(parents=True)
        (folder / f"target-{orphan.pid}.json").write_text(json.dumps(record))
        result = _apply(_spec(tmp_path, "stale", f"  demo: {{port: {port}}}", "1s"))
        assert orphan.poll() is not None, "the leftover target is still running"
    finally:
        orphan.kill()
        orphan.wait()
    assert result.returncode in (0, 1), result.stdout + result.stderr  # its port was freed
    warning = f"warning: stopping pid {orphan.pid} ({' '.join(command)}), a target an earlier"
    assert warning in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not list(folder.glob("*.json"))


def test_a_second_signal_while_the_target_stops_ends_within_half_a_second(
        tmp_path: Path) -> None:
    stubborn = (f'[{sys.executable}, -c, "import signal, time; '
                f'signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"]')
    target = (f"  url: http://127.0.0.1:{free_port()}\n  start: {{command: {stubborn}, "
              f"ready: {{tcp: {free_port()}, timeout: 30s}}}}")
    proc = _start_apply(_spec(tmp_path, "twice", target))
    try:
        children = _wait_children(proc)
        time.sleep(0.5)  # let the stubborn target install its SIGTERM handler
        first = time.monotonic()
        proc.send_signal(signal.SIGINT)  # stop begins: SIGTERM is ignored, 1 s grace
        time.sleep(0.3)
        second = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        done = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert done - second < 0.5, done - second
    assert done - first < 2.0, done - first
    assert "Traceback" not in err
    assert _wait_gone(children, 1.0) == []
    doc = json.loads((tmp_path / "reports" / "rel-twice-latest.json").read_text())
    assert doc["exit_code"] == 130


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_run_ends_within_2s_with_a_partial_report(tmp_path: Path,
                                                                sig: signal.Signals) -> None:
    spec = _spec(tmp_path, "mid", f"  demo: {{port: {free_port()}}}", "60s")
    proc = subprocess.Popen([sys.executable, "-m", "engine", "apply", str(spec)], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    running = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("run baseline:"):
                running.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert running.wait(60), "".join(lines)
        children = [c for c in psutil.Process(proc.pid).children(recursive=True) if _alive(c)]
        time.sleep(1.0)  # some load on the target
        signalled = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
        elapsed = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    assert code == 130, "".join(lines)
    assert elapsed < 2.0, elapsed
    assert "Traceback" not in "".join(lines)
    assert _wait_gone(children, 1.0) == []
    doc = json.loads((tmp_path / "reports" / "rel-mid-latest.json").read_text())
    assert doc["exit_code"] == 130 and doc["specs"][0]["runs"][0]["requests"] > 0


def test_out_under_a_regular_file_is_a_usage_error_before_any_load(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    spec = _spec(tmp_path, "out", f"  demo: {{port: {free_port()}}}")
    started = time.monotonic()
    result = _apply(spec, "--out", str(tmp_path / "file" / "reports"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert time.monotonic() - started < 15  # the demo was never started
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("report folder ") and "nothing was run" in line, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / ".perfopt").exists()


def test_a_read_only_report_folder_is_refused(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.report import writer

    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root may write anyway
    assert writer.report_dir_problem(tmp_path) == f"report folder {str(tmp_path)!r} is not writable"
    assert writer.report_dir_problem(tmp_path / "new" / "dir").endswith("is not writable")


def test_reports_that_fail_late_print_one_line_and_exit_3(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    from engine import cli
    from engine.report import writer

    def full_disk(*args: object, **kwargs: object) -> list[Path]:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "reports"))

    monkeypatch.setattr(writer, "write_reports", full_disk)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFOPT_LOOPBACK_ONLY", "1")
    spec = _spec(tmp_path, "late", f"  demo: {{port: {free_port()}, fix: [all]}}", "1s")
    code = cli.main(["apply", str(spec), "--quiet", "--no-history"])
    out, err = capsys.readouterr()
    assert code == 3, out + err
    assert f"reports not written: No space left on device ({tmp_path / 'reports'})" in err
    assert "Traceback" not in err and out.strip()  # the terminal summary is still printed


BAD_INPUT = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: bad, component: rel}}
trigger: proactive
target: {{url: "{url}"}}
journeys:
  - name: stats
    request:
      path: /stats
      headers: {{{headers}}}
load:
  baseline: {{rate: 5/s, duration: 1s}}
"""


@pytest.mark.parametrize(("url", "headers", "expected"), [
    ("http://127.0.0.1:99999", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:65536", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:abc", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:0", "", "target.url: expected a URL like"),
    ("http://127.0.0.1:8080", '"X-A": "1\\r\\nX-Evil: 1"', "headers.X-A: expected a header value"),
    ("http://127.0.0.1:8080", '"X-A": "1\\nX-Evil: 1"', "headers.X-A: expected a header value"),
    ("http://127.0.0.1:8080", '"bad name": "v"', "headers: expected a header name"),
    ("http://127.0.0.1:8080", '"X-A\\r\\nX-Evil": "v"', "headers: expected a header name"),
])
def test_validate_rejects_bad_ports_and_header_injection(tmp_path: Path, url: str, headers: str,
                                                         expected: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD_INPUT.format(url=url, headers=headers), encoding="utf-8")
    for command in ("validate", "apply"):
        result = run_cli(command, str(spec), cwd=tmp_path, env=_env(), timeout=60)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "bad.yaml:" in result.stderr + result.stdout and expected in result.stderr + \
            result.stdout, result.stderr
        assert "Traceback" not in result.stderr


def test_good_urls_still_validate(tmp_path: Path) -> None:
    spec = tmp_path / "good.yaml"
    for url in ("http://127.0.0.1:65535", "http://[::1]:8080", "http://localhost",
                "https://admin:pw@127.0.0.1:1/"):
        spec.write_text(BAD_INPUT.format(url=url, headers='"X-Ok_1": "a: b"'), encoding="utf-8")
        result = run_cli("validate", str(spec), cwd=tmp_path, env=_env(), timeout=60)
        assert result.returncode == 0, url + result.stdout + result.stderr


def test_semantic_validation_reports_a_url_port_out_of_range() -> None:
    from engine.spec.build_target import build_target
    from engine.spec.context import Ctx
    from engine.spec.source import Document

    for url in ("http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://127.0.0.1:0"):
        doc = Document("s.yaml", 0, 1, {}, {}, "")
        ctx = Ctx(doc, Path("."))
        build_target(ctx, {"url": url}, ("target",))
        assert [e.message for e in ctx.errors] == \
            [f"expected a URL port from 1 to 65535, got {url!r}"]


def _outputs(tmp: Path) -> list[Path]:
    return [p for d in ("reports", ".perfopt") if (tmp / d).is_dir()
            for p in (tmp / d).iterdir() if p.is_file()]


def test_url_password_reaches_no_terminal_report_or_history(tmp_path: Path) -> None:
    port = free_port()
    demo = f'[{sys.executable}, -m, engine.demo, --host, 127.0.0.1, --port, "{port}"]'
    target = (f"  url: http://admin:pw@127.0.0.1:{port}\n"
              f"  start: {{command: {demo}, ready: {{path: /health}}}}")
    spec = _spec(tmp_path, "pw", target, "1s")
    result = run_cli("apply", str(spec), "--format", "json", "--format", "markdown",
                     "--format", "html", cwd=tmp_path, env=_env(), timeout=120)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "admin:pw" not in result.stdout + result.stderr
    assert "127.0.0.1" in result.stderr  # the progress line still names the target
    outputs = _outputs(tmp_path)
    assert any(p.suffix == ".db" for p in outputs) and len(outputs) >= 4
    for path in outputs:
        assert b"admin:pw" not in path.read_bytes(), path


def test_secret_start_env_is_redacted_from_the_target_output(tmp_path: Path) -> None:
    token = "tok-5ecr3t-4711"
    command = (f'[{sys.executable}, -c, "import os, sys; print(\'token=\' + '
               f'os.environ[\'API_TOKEN\'] + \' ok\'); sys.exit(4)"]')
    target = (f"  url: http://127.0.0.1:{free_port()}\n"
              f"  start: {{command: {command}, env: {{API_TOKEN: {token}}}}}")
    spec = _spec(tmp_path, "env", target)
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "report:", "secrets: [API_TOKEN]\nreport:"), encoding="utf-8")
    result = _apply(spec, "--format", "markdown", "--format", "json")
    assert result.returncode == 3, result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
    doc = json.loads((tmp_path / "reports" / "rel-env-latest.json").read_text())
    tail = doc["specs"][0]["target"]["output_tail"]
    assert "ok" in tail and token not in tail  # the output is kept, the value is not
    for path in _outputs(tmp_path):
        assert token.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("args", [("schema",), ("schema", "--report"), ("--help",)])
def test_a_reader_that_goes_away_early_gets_no_traceback(args: tuple[str, ...]) -> None:
    for _ in range(3):  # the race between head exiting and our write: try it a few times
        proc = subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=REPO, env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.read(1)
        proc.stdout.close()  # like `| head -c 1`
        _, err = proc.communicate(timeout=30)
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
        assert proc.returncode in (0, 1), proc.returncode


def test_parallel_applies_into_one_folder_keep_their_own_reports(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "par", f"  url: http://127.0.0.1:{free_port()}")
    procs = [subprocess.Popen([sys.executable, "-m", "engine", "apply", str(spec), "--quiet",
                               "--no-history"], cwd=tmp_path, env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(3)]
    try:
        codes = [p.wait(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert codes == [3, 3, 3]  # the target is down: each run still writes its report
    stamped = sorted((tmp_path / "reports").glob("rel-par-2*.json"))
    assert len(stamped) == 3, stamped
    assert (tmp_path / "reports" / "rel-par-latest.json").is_file()


def test_every_test_named_in_reliability_md_exists() -> None:
    import re

    text = (REPO / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    last, named = "", 0
    for match in re.finditer(r"`(tests/[\w/]+\.py)?::(test_\w+)`", text):
        last = match.group(1) or last
        source = (REPO / last).read_text(encoding="utf-8")
        assert f"def {match.group(2)}(" in source, (last, match.group(2))
        named += 1
    assert named >= 15


SECRETS_SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: rel-secrets, component: rel}}
trigger: proactive
secrets: [X-Api-Key, token, API_TOKEN, CI_TOKEN]
target:
  url: http://admin:userinfo-S3CRET-e1@127.0.0.1:{port}
  start:
    command: [sh, -c, "echo started $API_TOKEN $CI_TOKEN; {tail}"]
    env: {{API_TOKEN: env-S3CRET-f1}}
    ready: {{path: /health, timeout: 30s}}
journeys:
  - name: stats
    request:
      path: /stats?token=query-S3CRET-d1
      headers: {{Authorization: "Bearer auth-S3CRET-a1", Cookie: "sid=cookie-S3CRET-b1",
                 X-Api-Key: apikey-S3CRET-c1}}
slos:
  - {{name: errors, sli: error_rate, objective: "< 1%"}}
load:
  baseline: {{rate: 20/s, duration: 1s, connections: 2}}
report: {{formats: [markdown, json, html, junit], dir: reports}}
history: {{path: .perfopt/history.db}}
"""


def _every_output(tmp: Path, result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    import sqlite3

    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    for path in tmp.rglob("*"):
        if path.is_file() and path.suffix != ".yaml":
            outputs[str(path.relative_to(tmp))] = path.read_bytes().decode("utf-8", "replace")
    for db in tmp.rglob("*.db"):
        with sqlite3.connect(db) as conn:
            outputs[f"{db.name} dump"] = "\n".join(conn.iterdump())
    return outputs


@pytest.mark.parametrize("target", ["serves", "fails"])
def test_a_secret_planted_in_each_place_reaches_no_output(tmp_path: Path, target: str) -> None:
    port = free_port()
    tail = f"exec {_demo_command(port)}" if target == "serves" else "exit 4"
    spec = tmp_path / "secrets.yaml"
    spec.write_text(SECRETS_SPEC.format(port=port, tail=tail), encoding="utf-8")
    summary = tmp_path / "step-summary.md"
    env = {**_env(), "CI_TOKEN": "environ-S3CRET-g1", "GITHUB_STEP_SUMMARY": str(summary)}
    result = run_cli("apply", str(spec), cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == (3 if target == "fails" else 0), result.stdout + result.stderr
    outputs = _every_output(tmp_path, result)
    expected = {"reports/rel-secrets-latest.md", "reports/rel-secrets-latest.json",
                "reports/rel-secrets-latest.html", "reports/rel-secrets-latest.xml",
                "step-summary.md", "history.db dump"}
    assert expected <= set(outputs), sorted(outputs)
    leaks = {name: text[max(0, text.find("S3CRET") - 60):text.find("S3CRET") + 20]
             for name, text in outputs.items() if "S3CRET" in text}
    assert leaks == {}
    assert "Traceback" not in result.stderr
    doc = json.loads(outputs["reports/rel-secrets-latest.json"])
    if target == "fails":  # the output is kept, the values are not
        assert "started [REDACTED] [REDACTED]" in doc["specs"][0]["target"]["output_tail"]
    else:
        assert doc["specs"][0]["runs"], "nothing was measured"


def test_a_validation_error_does_not_repeat_a_secret(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    text = SECRETS_SPEC.format(port=99999, tail="exit 4").replace(
        "X-Api-Key: apikey-S3CRET-c1", 'X-Api-Key: "apikey-S3CRET-c1\\r\\nX-Evil: 1"').replace(
        "path: /stats?token", "path: stats?token")
    spec.write_text(text, encoding="utf-8")
    for command in ("validate", "apply"):
        result = run_cli(command, str(spec), cwd=tmp_path, env=_env(), timeout=60)
        out = result.stdout + result.stderr
        assert result.returncode == 2, out
        assert "headers.X-Api-Key: expected a header value" in out  # the error is still named
        assert "target.url: expected a URL like" in out and "path: expected a path" in out
        assert "S3CRET" not in out, out
        assert "Traceback" not in out
