"""engine.target.sampler.Sampler against real child processes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from engine.target.sampler import Sampler, find_processes, shift

# allocates 4 MB every 50 ms for 1.5 s, keeping it, then sleeps until killed
GROW = ("import time\nkeep=[]\nfor _ in range(30):\n    keep.append(bytearray(4<<20))\n"
        "    time.sleep(0.05)\ntime.sleep(30)\n")
# a parent that starts a busy-looping grandchild, then waits: CPU must be seen in the tree
TREE = ("import subprocess,sys\n"
        "p=subprocess.Popen([sys.executable,'-c','import time\\nend=time.time()+20\\n"
        "while time.time()<end: pass'])\np.wait()\n")


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        p.kill()
        p.wait(timeout=10)


def _wait_until(cond: object, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and not cond():  # type: ignore[operator]
        time.sleep(0.05)


def test_rss_rises_while_child_allocates(spawn: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen([sys.executable, "-c", GROW])
    spawn.append(proc)
    sampler = Sampler(proc.pid, interval_s=0.05).start()
    _wait_until(lambda: len(sampler.samples) > 5 and sampler.samples[-1].rss_bytes > 120 << 20)
    samples = sampler.stop()
    assert len(samples) >= 5
    assert samples[-1].rss_bytes - samples[0].rss_bytes > 60 << 20
    assert all(s.threads >= 1 and s.fds >= 3 for s in samples)
    assert [s.t_s for s in samples] == sorted(s.t_s for s in samples)
    assert all(0 <= s.sys_mem_pct <= 100 for s in samples)


def test_child_dying_mid_sampling_keeps_samples(spawn: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    spawn.append(proc)
    sampler = Sampler([proc.pid], interval_s=0.02).start()
    _wait_until(lambda: len(sampler.samples) >= 3)
    proc.kill()
    proc.wait(timeout=10)
    time.sleep(0.2)  # the sampler keeps running over a dead tree without raising
    samples = sampler.stop()
    assert len(samples) >= 3
    assert samples[0].rss_bytes > 0
    assert samples[-1].rss_bytes == 0  # nothing alive: gauges read zero, earlier ones kept


def test_cpu_of_grandchild_counts_for_the_tree(spawn: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen([sys.executable, "-c", TREE])
    spawn.append(proc)
    sampler = Sampler(proc.pid, interval_s=0.1).start()
    _wait_until(lambda: any(s.cpu_pct > 40 for s in sampler.samples), timeout_s=15)
    samples = sampler.stop()
    assert max(s.cpu_pct for s in samples) > 40  # a busy loop is ~100% of one core
    assert samples[-1].ctx_switches >= samples[0].ctx_switches


def test_memory_is_bounded_by_decimation(spawn: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    spawn.append(proc)
    sampler = Sampler(proc.pid, interval_s=0.002, max_samples=16).start()
    _wait_until(lambda: sampler._stride >= 4)
    samples = sampler.stop()
    assert len(samples) < 16
    assert [s.t_s for s in samples] == sorted(s.t_s for s in samples)


def test_sampling_by_process_name_and_bad_arguments() -> None:
    assert find_processes("no-such-process-perfopt") == []
    samples = Sampler("no-such-process-perfopt", interval_s=0.02).start()
    time.sleep(0.1)
    assert all(s.rss_bytes == 0 for s in samples.stop())
    with pytest.raises(ValueError, match="interval_s"):
        Sampler(1, interval_s=0)


def test_shift_aligns_samples_with_a_run_start(spawn: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    spawn.append(proc)
    before = time.time()
    sampler = Sampler(proc.pid, interval_s=0.02).start()
    assert sampler.t0_unix is not None and abs(sampler.t0_unix - before) < 1.0
    _wait_until(lambda: len(sampler.samples) >= 3)
    samples = sampler.stop()
    moved = shift(samples, 0.5)
    assert [round(a.t_s - b.t_s, 9) for a, b in zip(samples, moved, strict=True)] == \
        [0.5] * len(samples)
