"""Reliability of `apply` with managed targets (issue #15): taken ports, detached
children, servers that are not ours, leftovers of a killed apply, signals.

Each test drives the real CLI in a subprocess and checks the exit code, a time
bound, the absence of a traceback and of stray processes.
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

import psutil
import pytest

from tests.support.demo import free_port
from tests.support.reliability import (
    NEVER_READY,
    alive,
    apply,
    demo_command,
    loopback_env,
    occupied_port,
    start_apply,
    wait_children,
    wait_gone,
    write_spec,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["demo", "start"])
def test_taken_port_fails_with_its_owner_and_exit_3(tmp_path: Path, kind: str) -> None:
    with occupied_port() as (port, received):
        target = (f"  demo: {{port: {port}}}" if kind == "demo" else
                  f"  url: http://127.0.0.1:{port}\n  start: {{command: {NEVER_READY}}}")
        started = time.monotonic()
        result = apply(write_spec(tmp_path, f"taken-{kind}", target))
        elapsed = time.monotonic() - started
    out = result.stdout + result.stderr
    assert result.returncode == 3, out
    assert f"port {port} is in use by pid {os.getpid()} (" in out
    assert "Traceback" not in out
    assert elapsed < 20
    assert not any(received), received  # no HTTP request reached the foreign server
    doc = json.loads((tmp_path / "reports" / f"rel-taken-{kind}-latest.json").read_text())
    assert doc["specs"][0]["runs"] == []



@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_waiting_for_readiness_stops_within_2s(tmp_path: Path,
                                                            sig: signal.Signals) -> None:
    target = (f"  url: http://127.0.0.1:{free_port()}\n  start: {{command: {NEVER_READY}, "
              f"ready: {{tcp: {free_port()}, timeout: 30s}}}}")
    proc = start_apply(write_spec(tmp_path, "ready", target))
    try:
        children = wait_children(proc)
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
    assert wait_gone(children) == []
    doc = json.loads((tmp_path / "reports" / "rel-ready-latest.json").read_text())
    assert doc["exit_code"] == 130



def test_kill_9_of_apply_takes_the_demo_down(tmp_path: Path) -> None:
    proc = start_apply(write_spec(tmp_path, "k9", f"  demo: {{port: {free_port()}}}", "60s"))
    try:
        children = wait_children(proc)
        proc.kill()
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    try:
        assert wait_gone(children) == []
    finally:
        for child in children:
            if alive(child):
                child.kill()



def test_a_child_the_start_command_detached_is_stopped_with_it(tmp_path: Path) -> None:
    port, pid_path = free_port(), tmp_path / "detached.pid"
    script = (f"(setsid sh -c 'echo $$ > {pid_path}; exec sleep 300' &); "
              f"exec {demo_command(port)}")
    target = (f"  url: http://127.0.0.1:{port}\n"
              f"  start: {{command: [sh, -c, \"{script}\"], ready: {{path: /health}}}}")
    started = time.monotonic()
    result = apply(write_spec(tmp_path, "detach", target, "1s"))
    elapsed = time.monotonic() - started
    try:
        detached = psutil.Process(int(pid_path.read_text()))
    except psutil.NoSuchProcess:
        detached = None  # gone already
    try:
        assert result.returncode in (0, 1), result.stdout + result.stderr
        assert "Traceback" not in result.stderr and elapsed < 60
        assert detached is None or wait_gone([detached], 2.0) == [], "it outlived apply"
    finally:
        if detached is not None and alive(detached):
            detached.kill()



def test_a_port_taken_after_the_check_is_never_measured(tmp_path: Path) -> None:
    port = free_port()
    target = (f"  url: http://127.0.0.1:{port}\n  start: {{command: {NEVER_READY}, "
              f"ready: {{tcp: {port}, timeout: 30s}}}}")
    proc = start_apply(write_spec(tmp_path, "swap", target))
    try:
        children = wait_children(proc)  # launched: the port check has passed
        with occupied_port(port) as (_, received):  # another server takes the port now
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
    assert wait_gone(children) == []
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
        result = apply(write_spec(tmp_path, "stale", f"  demo: {{port: {port}}}", "1s"))
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
    proc = start_apply(write_spec(tmp_path, "twice", target))
    try:
        children = wait_children(proc)
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
    assert wait_gone(children, 1.0) == []
    doc = json.loads((tmp_path / "reports" / "rel-twice-latest.json").read_text())
    assert doc["exit_code"] == 130



@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_run_ends_within_2s_with_a_partial_report(tmp_path: Path,
                                                                sig: signal.Signals) -> None:
    spec = write_spec(tmp_path, "mid", f"  demo: {{port: {free_port()}}}", "60s")
    proc = subprocess.Popen([sys.executable, "-m", "engine", "apply", str(spec)], cwd=tmp_path,
                            env=loopback_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
        children = [c for c in psutil.Process(proc.pid).children(recursive=True) if alive(c)]
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
    assert wait_gone(children, 1.0) == []
    doc = json.loads((tmp_path / "reports" / "rel-mid-latest.json").read_text())
    assert doc["exit_code"] == 130 and doc["specs"][0]["runs"][0]["requests"] > 0
