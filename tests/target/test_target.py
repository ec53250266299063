"""Managed targets: start, readiness, failure reports, stop without strays."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import psutil
import pytest

from engine.spec.build_target import demo_command
from engine.target.managed import ManagedTarget, StartConfig, TargetStartError
from tests.support.demo import demo_config, free_port, request

PY = sys.executable


def py(code: str) -> tuple[str, ...]:
    return (PY, "-c", textwrap.dedent(code))


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for_line(target: ManagedTarget, prefix: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in target.output_tail().splitlines():
            if line.startswith(prefix):
                return line
        time.sleep(0.02)
    raise AssertionError(f"no line starting with {prefix!r} in: {target.output_tail()!r}")


HTTP_SERVER = ("import http.server as h, sys; "
               "h.test(h.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind='127.0.0.1')")


def test_http_readiness_then_stop() -> None:
    port = free_port()
    cfg = StartConfig((PY, "-c", HTTP_SERVER, str(port)),
                      ready_url=f"http://127.0.0.1:{port}/", ready_timeout_s=20)
    with ManagedTarget(cfg) as target:
        pid = target.pid
        assert pid is not None and alive(pid)
    assert not alive(pid)
    assert target.returncode is not None


def test_tcp_readiness() -> None:
    port = free_port()
    cfg = StartConfig((PY, "-c", HTTP_SERVER, str(port)), ready_tcp=("127.0.0.1", port))
    with ManagedTarget(cfg) as target:
        assert target.pid is not None and alive(target.pid)
    assert not alive(target.pid)


def test_demo_target_via_demo_command() -> None:
    port = free_port()
    with ManagedTarget(demo_config(port, ["index"], ["--users", "1000"])) as target:
        reply = request(f"http://127.0.0.1:{port}", "GET", "/")
        assert isinstance(reply.body, dict) and reply.body["fixed"] == ["index"]
        assert "listening on http://127.0.0.1:" in target.output_tail()
    assert target.returncode == 0  # SIGTERM is a clean shutdown for the demo


def test_demo_command_shape() -> None:
    cmd = demo_command(8081, ["index", "join"], ["--leak-kb", "4"])
    assert cmd[:3] == (PY, "-m", "engine.demo")
    assert cmd[cmd.index("--port") + 1] == "8081"
    assert cmd[cmd.index("--fix") + 1] == "index,join"
    assert cmd[-2:] == ("--leak-kb", "4")
    assert demo_command(1, [])[-1] == "none"


def test_env_and_cwd_reach_the_target(tmp_path: os.PathLike[str]) -> None:
    code = "import os; print('V=' + os.environ['PERFOPT_T'], 'CWD=' + os.getcwd(), flush=True)"
    target = ManagedTarget(StartConfig(py(code), env={"PERFOPT_T": "x1"}, cwd=str(tmp_path)))
    with target:
        line = wait_for_line(target, "V=")
    assert line == f"V=x1 CWD={os.path.realpath(tmp_path)}"


def test_exits_immediately_reports_tail_and_code() -> None:
    code = """
        import sys
        for i in range(100):
            print('line', i)
        print('fatal: config missing', file=sys.stderr)
        sys.exit(3)
    """
    cfg = StartConfig(py(code), ready_tcp=("127.0.0.1", free_port()), ready_timeout_s=60)
    with pytest.raises(TargetStartError) as info:
        ManagedTarget(cfg).start()
    err = info.value
    assert err.exit_code == 3
    assert "exited with code 3" in err.message
    assert "fatal: config missing" in err.output_tail
    assert "line 99" in err.output_tail and "line 10\n" not in err.output_tail  # bounded tail
    assert "fatal: config missing" in str(err)


def test_never_ready_times_out_and_is_stopped() -> None:
    cfg = StartConfig(py("import time; print('booting', flush=True); time.sleep(60)"),
                      ready_url=f"http://127.0.0.1:{free_port()}/health", ready_timeout_s=0.5)
    target = ManagedTarget(cfg)
    with pytest.raises(TargetStartError, match=r"not ready after 0\.5 s") as info:
        target.start()
    assert info.value.exit_code is None
    assert target.pid is not None and not alive(target.pid)


def test_missing_command_is_a_start_error() -> None:
    with pytest.raises(TargetStartError, match="cannot start target"):
        ManagedTarget(StartConfig(("/nonexistent/perfopt-binary",))).start()


@pytest.mark.parametrize("bad", [
    {"command": ()}, {"command": ("x",), "ready_timeout_s": 0},
    {"command": ("x",), "ready_url": "ftp://h/"},
])
def test_config_validation(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        StartConfig(**bad)  # type: ignore[arg-type]


SPAWNER = """
    import os, signal, subprocess, sys, time
    kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    escapee = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],
                               start_new_session=True)
    print('KIDS', kid.pid, escapee.pid, flush=True)
    signal.signal(signal.SIGTERM, signal.SIG_IGN) if len(sys.argv) > 1 else None
    time.sleep(60)
"""


@pytest.mark.parametrize("stubborn", [False, True], ids=["polite", "ignores-sigterm"])
def test_stop_leaves_no_stray_process(stubborn: bool) -> None:
    command = (*py(SPAWNER), "stubborn") if stubborn else py(SPAWNER)
    with ManagedTarget(StartConfig(command)) as target:
        kids = [int(p) for p in wait_for_line(target, "KIDS").split()[1:]]
        time.sleep(0.1)  # let the stubborn one install its handler
        assert all(alive(k) for k in kids)
    assert target.pid is not None
    assert not alive(target.pid)
    assert not any(alive(k) for k in kids)


def test_stop_is_idempotent_and_safe_before_start() -> None:
    target = ManagedTarget(StartConfig(py("import time; time.sleep(60)")))
    target.stop()
    target.start()
    target.stop()
    target.stop()
    assert target.returncode is not None


def test_keyboard_interrupt_inside_block_stops_target() -> None:
    with pytest.raises(KeyboardInterrupt), \
            ManagedTarget(StartConfig(py("import time; time.sleep(60)"))) as target:
        raise KeyboardInterrupt
    assert target.pid is not None and not alive(target.pid)


@pytest.fixture
def sigalrm_interrupts() -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.usefixtures("sigalrm_interrupts")
def test_interrupt_while_waiting_for_readiness_stops_target() -> None:
    cfg = StartConfig(py("import time; time.sleep(60)"),
                      ready_tcp=("127.0.0.1", free_port()), ready_timeout_s=30)
    target = ManagedTarget(cfg)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    with pytest.raises(KeyboardInterrupt):
        target.start()
    assert target.pid is not None and not alive(target.pid)


def test_chatty_target_is_not_blocked_by_output() -> None:
    code = """
        import sys
        for i in range(200_000):
            sys.stdout.write('x' * 40 + '\\n')
        sys.stdout.write('DONE\\n'); sys.stdout.flush()
        import time; time.sleep(60)
    """
    with ManagedTarget(StartConfig(py(code))) as target:
        wait_for_line(target, "DONE", timeout=30)
        assert len(target.output_tail().splitlines()) <= 40


def test_stop_event_ends_the_readiness_wait_at_once() -> None:
    import threading

    from engine.target.managed import StartInterrupted

    stop = threading.Event()
    cfg = StartConfig(py("import time; time.sleep(60)"),
                      ready_tcp=("127.0.0.1", free_port()), ready_timeout_s=30)
    target = ManagedTarget(cfg, stop=stop)
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(StartInterrupted):
        target.start()
    assert time.monotonic() - started < 2.5  # not the 30 s ready timeout
    assert target.pid is not None and not alive(target.pid)


def test_a_taken_port_is_refused_before_launch() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        cfg = StartConfig(py("print('started')"), port=("127.0.0.1", port))
        target = ManagedTarget(cfg)
        with pytest.raises(TargetStartError, match=rf"^port {port} is in use by pid {os.getpid()} \("):
            target.start()
        assert target.pid is None  # nothing was launched


def _detaching_command(port: int, pid_path: str) -> tuple[str, ...]:
    """A shell that double-forks a setsid'd sleeper (its pid written to ``pid_path``) and
    then runs a real listener on ``port``."""
    script = (f"(setsid sh -c 'echo $$ > {pid_path}; exec sleep 300' &); "
              f'exec {PY} -c "{HTTP_SERVER}" {port}')
    return ("sh", "-c", script)


def _read_pid(path: str, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            return int(open(path, encoding="utf-8").read())
        time.sleep(0.02)
    raise AssertionError("the detached child never wrote its pid")


def test_a_child_that_detaches_into_its_own_session_is_stopped_too(tmp_path: Path) -> None:
    port, pid_path = free_port(), str(tmp_path / "detached.pid")
    cfg = StartConfig(_detaching_command(port, pid_path), ready_tcp=("127.0.0.1", port),
                      port=("127.0.0.1", port), ready_timeout_s=20)
    target = ManagedTarget(cfg)
    try:
        target.start()
        detached = _read_pid(pid_path)
        proc = psutil.Process(detached)
        assert os.getsid(detached) == detached  # its own session, out of the target's group
        assert proc.ppid() == os.getpid()  # re-parented to us, the subreaper, not to init
        assert detached in {p.pid for p in target.tree()}
    finally:
        target.stop()
    assert not alive(detached)


def test_a_port_answered_by_another_server_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.target import managed

    with socket.create_server(("127.0.0.1", 0)) as server:  # took the port after the check
        port = server.getsockname()[1]
        monkeypatch.setattr(managed, "check_port_free", lambda *args: None)
        cfg = StartConfig(py("import time; time.sleep(60)"), ready_tcp=("127.0.0.1", port),
                          port=("127.0.0.1", port), ready_timeout_s=20)
        target = ManagedTarget(cfg)
        with pytest.raises(TargetStartError) as err:
            target.start()
    assert f"port {port} is answered by pid {os.getpid()} (" in str(err.value)
    assert "apply measures only a server it started" in str(err.value)
    assert target.pid is not None and not alive(target.pid)


def test_an_owner_that_cannot_be_seen_is_a_warning_not_a_silent_pass(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where psutil cannot list sockets (macOS without root) the ownership check cannot
    decide: the target starts, and the start says the port was not verified."""
    from engine.target import managed

    def denied(*_: object, **__: object) -> list[object]:
        raise psutil.AccessDenied()

    with socket.create_server(("127.0.0.1", 0)) as server:  # someone else answers
        port = server.getsockname()[1]
        monkeypatch.setattr(managed, "check_port_free", lambda *args: None)
        monkeypatch.setattr(psutil, "net_connections", denied)
        cfg = StartConfig(py("import time; time.sleep(60)"), ready_tcp=("127.0.0.1", port),
                          port=("127.0.0.1", port), ready_timeout_s=20)
        target = ManagedTarget(cfg)
        try:
            target.start()
            assert target.warnings == [f"warning: could not verify that port {port} is "
                                       "answered by the started target (the listening sockets "
                                       "cannot be listed here)"]
        finally:
            target.stop()


def test_stale_pid_files_are_swept_only_for_what_apply_started(tmp_path: Path) -> None:
    from engine.target import pidfile

    cmd = list(py("import time; time.sleep(300)"))
    stale, other = (subprocess.Popen(cmd) for _ in range(2))
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    try:
        for proc, cmdline in ((stale, cmd), (other, [*cmd, "not-what-was-started"])):
            record = {"pid": proc.pid, "create_time": psutil.Process(proc.pid).create_time(),
                      "cmdline": cmdline, "marker": "", "apply_pid": dead.pid}
            (tmp_path / f"target-{proc.pid}.json").write_text(json.dumps(record))
        lines: list[str] = []
        assert pidfile.sweep(tmp_path, lines.append) == [stale.pid]
        assert stale.wait(timeout=5) is not None and other.poll() is None
        assert len(lines) == 1 and f"pid {stale.pid} (" in lines[0]
        assert not list(tmp_path.glob("target-*.json"))  # both files are gone
    finally:
        for proc in (stale, other):
            proc.kill()
            proc.wait()


def test_a_pid_file_lives_while_the_target_runs(tmp_path: Path) -> None:
    from engine.target import pidfile

    cfg = StartConfig(py("import time; time.sleep(60)"), pid_dir=str(tmp_path / "targets"))
    with ManagedTarget(cfg) as target:
        files = list((tmp_path / "targets").glob("target-*.json"))
        assert [f.name for f in files] == [f"target-{target.pid}.json"]
        assert pidfile.sweep(tmp_path / "targets", print) == []  # ours, alive: left alone
        assert target.returncode is None
    assert not (tmp_path / "targets").exists()
