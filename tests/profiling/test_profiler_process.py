"""engine.target.profiler against a real Python child process (#21)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from engine.result import FoldedProfile
from engine.target.profiler import CpuProfiler, start_profiler

BUSY = ("import time\n"
        "def spin_here(until):\n"
        "    n = 0\n"
        "    while time.time() < until:\n"
        "        n += 1\n"
        "    return n\n"
        "print('ready', flush=True)\n"
        "spin_here(time.time() + 30)\n")


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        yield child
    finally:
        child.kill()
        child.wait()


def test_py_spy_samples_the_busy_function_of_a_python_process(
        busy: subprocess.Popen[bytes]) -> None:
    profiler = start_profiler((busy.pid,), None, 100, 10.0)
    assert isinstance(profiler, CpuProfiler), profiler
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # let it sample; no assertion on timing
        time.sleep(0.1)
    folded = profiler.stop()
    assert folded.note == "" and folded.pids == (busy.pid,) and folded.rate == 100
    assert folded.stacks and all(";" in s or "(" in s for s in folded.stacks)
    leaf = {s.rsplit(";", 1)[-1] for s in folded.stacks}
    assert any(f.startswith("spin_here (<string>:") for f in leaf), leaf
    assert not any("process " in s for s in folded.stacks)


def test_a_sampler_that_reached_its_bound_says_so(busy: subprocess.Popen[bytes]) -> None:
    exe = shutil.which("py-spy")
    assert exe, 'py-spy is in the test extra: pip install -e ".[test]"'
    profiler = CpuProfiler(100, (busy.pid,)).start(exe, bound_s=1.0)
    profiler.spies[0].proc.wait(timeout=60)  # py-spy ends itself after its --duration
    folded = profiler.stop()
    assert "stopped before the run ended" in folded.note and folded.stacks


def test_no_target_process_is_a_note() -> None:
    folded = start_profiler((), None, 100, 10.0)
    assert isinstance(folded, FoldedProfile)
    assert folded.note.startswith("profiling needs a target process") and not folded.stacks


@pytest.mark.parametrize("name", ["perfopt-no-such-process-name"])
def test_a_process_name_that_matches_nothing_is_a_note(name: str) -> None:
    folded = start_profiler((), name, 100, 10.0)
    assert isinstance(folded, FoldedProfile) and "needs a target process" in folded.note
