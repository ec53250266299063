"""engine.target.perf and the profiler's choice of tool, against real processes (#21).

perf must be on PATH (.ci/run installs Debian's linux-perf). Where the platform refuses
perf_event_open (a container's seccomp, kernel.perf_event_paranoid), the tests that need
real samples skip, naming that limit; any other failure fails.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from engine.result import FoldedProfile
from engine.target.perf import INSTALL, PerfProfiler, start_perf
from engine.target.profiler import choose_tool, start_profiler

DENIED = "Error:\nNo permission to enable cpu-clock event.\n"


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(p.pid).children(recursive=True):  # a shell's sleep
                child.kill()
        p.kill()
        p.wait(timeout=10)


def _spawn(procs: list[subprocess.Popen[bytes]], *cmd: str) -> int:
    procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs[-1].pid


def _sampled(folded: FoldedProfile) -> FoldedProfile:
    """``folded``, or a skip when the platform would not let perf sample at all."""
    if folded.note.startswith("perf not permitted"):
        pytest.skip(f"perf_event_open not permitted here: {folded.note}")
    return folded


def _run(profiler: object, seconds: float) -> FoldedProfile:
    assert isinstance(profiler, PerfProfiler), profiler
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # let it sample; no assertion on timing
        time.sleep(0.1)
    return profiler.stop()


def test_perf_samples_a_native_process_in_the_kernel(
        procs: list[subprocess.Popen[bytes]]) -> None:
    assert shutil.which("perf"), f"perf is needed for these tests ({INSTALL})"
    pid = _spawn(procs, "dd", "if=/dev/zero", "of=/dev/null", "bs=64k")
    profiler = start_profiler((pid,), None, 99, 10.0)  # auto: dd is not Python
    folded = _sampled(_run(profiler, 1.5))
    assert folded.tool == "perf" and folded.note == "" and folded.pids == (pid,)
    assert sum(folded.stacks.values()) > 20  # dd is on the CPU all the time: ~99/s
    frames = {f for s in folded.stacks for f in s.split(";")}
    assert any(f.endswith("([kernel.kallsyms])") for f in frames), frames
    assert any(f.endswith("(libc.so.6)") for f in frames), frames
    assert not any("+0x" in f for f in frames)


def test_an_idle_target_is_a_note(procs: list[subprocess.Popen[bytes]]) -> None:
    pid = _spawn(procs, "sleep", "60")
    folded = _sampled(_run(start_perf((pid,), 99, 10.0), 0.5))
    assert folded.stacks == {} and folded.note == ("perf took no samples: the target was "
                                                   "idle during the run")


def test_a_perf_that_reached_its_bound_says_so(procs: list[subprocess.Popen[bytes]]) -> None:
    pid = _spawn(procs, "dd", "if=/dev/zero", "of=/dev/null", "bs=64k")
    profiler = start_perf((pid,), 99, 1.0)
    assert isinstance(profiler, PerfProfiler) and profiler.proc is not None
    profiler.proc.wait(timeout=60)  # perf's own timer (its sleep) ends it
    folded = _sampled(profiler.stop())
    assert "stopped before the run ended" in folded.note and folded.stacks


def test_the_children_of_a_target_are_sampled_too(procs: list[subprocess.Popen[bytes]]) -> None:
    pid = _spawn(procs, "sh", "-c", "sleep 60 & wait")
    deadline = time.monotonic() + 10
    while not psutil.Process(pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)  # the shell has not forked yet
    [child] = psutil.Process(pid).children()
    profiler = start_perf((pid,), 99, 10.0)
    assert isinstance(profiler, PerfProfiler) and profiler.pids == (pid, child.pid)
    _sampled(profiler.stop())


def test_auto_picks_py_spy_for_python_and_perf_for_the_rest(
        procs: list[subprocess.Popen[bytes]]) -> None:
    python = _spawn(procs, sys.executable, "-c", "import time; time.sleep(60)")
    native = _spawn(procs, "sleep", "60")
    wrapper = _spawn(procs, "sh", "-c", f"{sys.executable} -c 'import time; time.sleep(60)'")
    assert choose_tool("auto", (python,)) == "py-spy"
    assert choose_tool("auto", (native,)) == "perf"
    deadline = time.monotonic() + 10  # the shell's python child: a Python target
    while choose_tool("auto", (wrapper,)) != "py-spy" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert choose_tool("auto", (wrapper,)) == "py-spy"
    assert choose_tool("perf", (python,)) == "perf" and choose_tool("py-spy", (native,)) == "py-spy"


def _fake_perf(tmp_path: Path, stderr: str) -> None:
    exe = tmp_path / "perf"
    exe.write_text(f"#!/bin/sh\n/bin/cat >&2 <<'EOF'\n{stderr}EOF\nexit 255\n", encoding="utf-8")
    exe.chmod(0o755)


def test_a_refused_perf_event_open_is_the_platform_note(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        procs: list[subprocess.Popen[bytes]]) -> None:
    _fake_perf(tmp_path, DENIED)
    monkeypatch.setenv("PATH", str(tmp_path))
    folded = _run(start_perf((_spawn(procs, "/bin/sleep", "60"),), 99, 10.0), 0.3)
    assert folded.note.startswith("perf not permitted: perf_event_paranoid=")
    assert "run as root or lower it" in folded.note and folded.stacks == {}


def test_any_other_perf_failure_is_its_own_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        procs: list[subprocess.Popen[bytes]]) -> None:
    _fake_perf(tmp_path, "Couldn't create thread/CPU maps: No such process\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    pid = _spawn(procs, "/bin/sleep", "60")
    folded = _run(start_perf((pid,), 99, 10.0), 0.3)
    assert folded.note == (f"perf could not profile pids {pid}: "
                           "Couldn't create thread/CPU maps: No such process")


def test_without_perf_on_path_a_native_target_is_a_note(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        procs: list[subprocess.Popen[bytes]]) -> None:
    pid = _spawn(procs, "/bin/sleep", "60")
    monkeypatch.setenv("PATH", str(tmp_path))
    folded = start_profiler((pid,), None, 99, 10.0)
    assert isinstance(folded, FoldedProfile) and folded.tool == "perf"
    assert folded.note == (f"profiling is on but perf is not on PATH ({INSTALL}); the target "
                           "is not Python, so py-spy cannot sample it")


def test_a_target_that_is_gone_is_a_note() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    folded = start_perf((gone.pid,), 99, 10.0)
    assert isinstance(folded, FoldedProfile)
    assert folded.note == f"perf found no live process among pids {gone.pid}"
