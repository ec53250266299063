"""The run's resource sampler backs off while the target's readings stay the same (issue #20:
idle costs), and samples at its base rate again at the first change. No timing: the
period is computed from the readings."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from engine.target import backoff
from engine.target.sampler import Sampler, _Reading


def _reading(rss: int = 50_000_000, fds: int = 12) -> _Reading:
    return _Reading(rss=rss, threads=2, fds=fds, conns=3, busy=1)


def test_period_doubles_while_nothing_changes_and_resets_at_a_change() -> None:
    s = Sampler(os.getpid(), interval_s=0.1, max_interval_s=0.8)
    periods = []
    for _ in range(6):
        s._adapt(5.0, _reading())
        periods.append(s._period)
    assert periods == [0.1, 0.2, 0.4, 0.8, 0.8, 0.8]  # first reading: nothing to compare
    s._adapt(6.5, _reading())  # CPU within 2 points: still unchanged
    assert s._period == 0.8
    s._adapt(6.5, _reading(rss=50_004_096))  # memory grew a page: a slow leak keeps the rate
    assert s._period == 0.1
    s._adapt(40.0, _reading())  # the target got busy
    assert s._period == 0.1
    s._adapt(40.0, _reading(fds=60))  # connections opened
    assert s._period == 0.1


def test_fixed_rate_unless_a_longer_period_is_allowed() -> None:
    s = Sampler(os.getpid(), interval_s=0.1)
    for _ in range(5):
        s._adapt(5.0, _reading())
    assert s._period == 0.1 and s.max_interval_s == 0.1


def test_cpu_readings_are_judged_against_the_clock_ticks_noise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU time is counted in 10 ms ticks: over 0.1 s a steady 25% target reads 20% or 30%
    (two busy processes: up to 40 points apart), which is no change; over a second, the
    same 10 points is one."""
    monkeypatch.setattr(backoff, "TICK_S", 0.01)  # Linux's 100 Hz clock, on any machine
    steady = _Reading(rss=50_000_000, threads=2, fds=12, conns=3, busy=2)
    s = Sampler(os.getpid(), interval_s=0.1, max_interval_s=1.0)
    s._adapt(20.0, steady, 0.1)
    s._adapt(30.0, steady, 0.1)
    assert s._period == 0.2  # within the ticks' noise: backs off
    s._adapt(50.0, steady, 0.1)
    assert s._period == 0.4  # still within 40 points at 0.1 s
    s._adapt(60.0, steady, 1.0)
    assert s._period == 0.1  # 10 points over a second is a change (noise 4 points)
    s._adapt(63.0, steady, 1.0)
    assert s._period == 0.2  # 3 points over a second is not


def test_only_processes_that_ran_raise_the_noise_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree of many idle workers reads their CPU time exactly (0): only the busy ones are
    a tick off, so 10 points over a second stay a change however large the tree (counted
    over 100 live members, the floor would be 200 points)."""
    monkeypatch.setattr(backoff, "TICK_S", 0.01)
    assert backoff.cpu_noise(1.0, busy=1) == 2.0
    assert backoff.cpu_noise(0.1, busy=2) == 40.0
    one_busy = _Reading(rss=50_000_000, threads=200, fds=400, conns=3, busy=1)
    s = Sampler(os.getpid(), interval_s=0.1, max_interval_s=1.0)
    s._adapt(20.0, one_busy, 1.0)
    s._adapt(30.0, one_busy, 1.0)
    assert s._period == 0.1


def test_cpu_times_in_nanoseconds_have_no_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS reads process CPU times in ns (proc_pidinfo): its readings jump by no tick, so
    the floor is the 2 points; Linux counts in clock ticks (USER_HZ: 100 a second on every
    mainstream build, 10 ms)."""
    monkeypatch.setattr(sys, "platform", "darwin")
    assert backoff._cpu_tick_s() == 0.0
    monkeypatch.setattr(backoff, "TICK_S", 0.0)
    assert backoff.cpu_noise(0.1, busy=8) == backoff.CPU_SAME_POINTS
    if hasattr(os, "sysconf"):
        monkeypatch.setattr(sys, "platform", "linux")
        assert 0.0 < backoff._cpu_tick_s() <= 0.01


def test_the_tree_is_relisted_once_a_second_at_10_hz_and_every_3rd_sample_backed_off() -> None:
    """A re-list scans every process: at every backed-off sample it cost more than the
    samples the back-off saved. At 10 Hz once a second, at 1 Hz every 3 s (every 3rd
    sample), at once after a change brings the period back to 0.1 s."""
    s = Sampler(os.getpid(), interval_s=0.1, max_interval_s=1.0)
    s._cached = [psutil.Process()]
    s._listed_at = time.monotonic() - 1.0
    assert s._refresh_due()
    assert not s._refresh_due()  # just listed
    s._listed_at = time.monotonic() - 0.96  # ten 0.1 s periods, a little early
    assert s._refresh_due()
    s._period = 1.0  # backed off
    for ago, due in ((1.0, False), (2.0, False), (2.6, True)):
        s._listed_at = time.monotonic() - ago
        assert s._refresh_due() is due
    s._listed_at = time.monotonic() - 2.0
    s._period = 0.1  # a change: the period is back to 0.1 s, and so the re-list
    assert s._refresh_due()


def test_a_child_found_late_starts_at_zero_not_as_a_spike() -> None:
    """A worker first seen at a later listing starts at zero: the CPU it ran before it was
    seen cannot be placed in time, and charged to one reading's window it read as several
    cores (review of 92e5808)."""
    s = Sampler(os.getpid())
    s._resolve()
    s._visit(True)  # the first listing: everything running now starts at zero
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    child = subprocess.Popen([sys.executable, "-c", spin + "time.sleep(30)"])
    try:
        used = _settled(psutil.Process(child.pid))
        assert used >= 0.25
        before, known = s._tree.cpu_s, {k: p.cpu_s for k, p in s._tree.procs.items()}
        s._visit(True)  # the next listing finds it, asleep
        assert any(k[0] == child.pid for k in s._tree.procs)
        others = sum(p.cpu_s - known[k] for k, p in s._tree.procs.items() if k in known)
        assert s._tree.cpu_s - before - others < 0.5 * used  # its past 0.3 s: not now
    finally:
        child.kill()
        child.wait()


def _settled(proc: psutil.Process, timeout_s: float = 20.0) -> float:
    """The process's CPU time once it has stopped moving (it has gone to sleep)."""
    end = time.monotonic() + timeout_s
    last = -1.0
    while time.monotonic() < end:
        t = proc.cpu_times()
        now = t.user + t.system
        if now == last:
            return now
        last = now
        time.sleep(0.2)
    raise AssertionError(f"pid {proc.pid} still using CPU after {timeout_s} s")


def test_a_sample_counts_the_processes_whose_cpu_time_moved() -> None:
    """Sleeping members read the same CPU time twice: not busy; a spinning one is. The
    sleepers are read once they have settled: one still starting up uses CPU time."""
    code = "import time\nend = time.time() + 30\nwhile time.time() < end: pass"
    procs = [subprocess.Popen(["sleep", "30"]) for _ in range(3)]
    procs.append(subprocess.Popen([sys.executable, "-c", code]))
    try:
        for p in procs[:3]:
            _settled(psutil.Process(p.pid))
        s = Sampler([p.pid for p in procs])
        s._resolve()
        s._visit(True)
        time.sleep(0.3)
        assert s._visit(False).busy == 1
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_the_busiest_thread_is_read_beside_the_trees_cpu() -> None:
    """Issue #14: a single-threaded server at 100% of its core shows half of a 2-core
    machine. A process with one spinning thread and one asleep: its busiest thread
    (``hot_thread_pct``, read over windows of at least 1 s) is about one core; the samples
    before the first window closed say it was not read."""
    code = ("import threading, time\n"
            "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
            "end = time.monotonic() + 5\n"
            "while time.monotonic() < end:\n    pass\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.3)  # past its start-up
        sampler = Sampler(proc.pid, 0.1).start()
        time.sleep(2.6)
        samples = sampler.stop()
    finally:
        proc.kill()
        proc.wait()
    read = [s for s in samples if "hot_thread_pct" not in s.unknown]
    assert "hot_thread_pct" in samples[0].unknown and len(read) >= 5, samples
    assert all(50.0 < s.hot_thread_pct <= 100.0 for s in read)
    assert len({s.hot_thread_pct for s in read}) <= 3  # held between windows of >= 1 s
