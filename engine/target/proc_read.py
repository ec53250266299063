"""What the resource sampler (engine.target.sampler) reads of one process, with psutil:
its identity, CPU time, disk and context-switch counters, fds and open sockets."""

from __future__ import annotations

import os
import sys

import psutil

__all__ = ["GONE", "LINUX", "alive", "connections", "cpu_time", "ctx_switches", "fds", "io_bytes",
           "proc_key"]

LINUX = sys.platform.startswith("linux")
GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied, ProcessLookupError)
"""What reading a process that died or denies access raises: the sampler skips it."""
_PROC_FD = "/proc/{}/fd"


def proc_key(proc: psutil.Process) -> tuple[int, float]:
    # pid plus create time: a recycled pid is a different process
    return proc.pid, proc.create_time()


def io_bytes(proc: psutil.Process) -> tuple[int, int]:
    try:
        io = proc.io_counters()
    except (*GONE, AttributeError, NotImplementedError):
        return 0, 0
    return int(io.read_bytes), int(io.write_bytes)


def ctx_switches(proc: psutil.Process) -> int:
    c = proc.num_ctx_switches()
    return int(c.voluntary + c.involuntary)


def cpu_time(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def alive(proc: psutil.Process) -> bool:
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except GONE:
        return False


def fds(proc: psutil.Process) -> int:
    try:
        return int(proc.num_fds())
    except (AttributeError, NotImplementedError):  # Windows has handles, not fds
        return int(getattr(proc, "num_handles", lambda: 0)())


def connections(proc: psutil.Process) -> int:
    """Open sockets: on Linux the socket fds (cheap), elsewhere psutil's inet connections."""
    try:
        if LINUX:
            return _socket_fds(proc.pid)
        return len(proc.net_connections(kind="inet"))
    except (*GONE, OSError):
        return 0


def _socket_fds(pid: int) -> int:
    base = _PROC_FD.format(pid)
    count = 0
    for fd in os.listdir(base):
        try:
            count += os.readlink(f"{base}/{fd}").startswith("socket:")
        except OSError:  # closed between listdir and readlink
            continue
    return count
