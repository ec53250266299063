"""What the resource sampler (engine.target.sampler) reads of one process, with psutil:
its identity, CPU time, disk and context-switch counters, fds and open sockets; and the
process tree's members, from the tree's own /proc files where Linux has them."""

from __future__ import annotations

import os
import sys

import psutil

__all__ = ["GONE", "LINUX", "Known", "alive", "connections", "cpu_time", "ctx_switches",
           "descendants", "fds", "io_bytes", "proc_key", "processes"]

LINUX = sys.platform.startswith("linux")
GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied, ProcessLookupError)
"""What reading a process that died or denies access raises: the sampler skips it."""
_PROC_FD = "/proc/{}/fd"
_PROC_TASK = "/proc/{}/task"
_PROC_CHILDREN = "/proc/{}/task/{}/children"
_PROC_STAT = "/proc/{}/stat"
_VANISHED = (FileNotFoundError, ProcessLookupError)

Known = dict[int, tuple[int, psutil.Process]]
"""pid -> (its start time in clock ticks since boot, its psutil object): what
:func:`processes` reuses at the next listing."""


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


def descendants(pid: int) -> list[int] | None:
    """Pids of ``pid``'s descendants, from /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN):
    it reads the tree's own files, where psutil's ``children(recursive=True)`` reads
    /proc/<n>/stat of every process on the machine (about 1 ms, and most of the sampler's
    syscalls). None where those files are missing or unreadable: list with psutil then. A
    process gone mid-walk is skipped (and so are its descendants, as with psutil); [] if
    ``pid`` is gone. The kernel builds each file at the read, so a child forked or exiting
    during the walk may be missed: the next listing finds it."""
    found: list[int] = []
    seen, todo = {pid}, [pid]
    while todo:
        kids = _thread_children(todo.pop())
        if kids is None:
            return None
        new = [k for k in kids if k not in seen]  # a pid recycled mid-walk: listed once
        seen.update(new)
        found.extend(new)
        todo.extend(new)
    return found


def _thread_children(pid: int) -> list[int] | None:
    """Children of every thread of ``pid``: a child forked by a thread other than the main one
    is listed under that thread only. [] if ``pid`` is gone, None if its files are not there."""
    base = _PROC_TASK.format(pid)
    try:
        tids = os.listdir(base)
    except _VANISHED:
        return []
    except PermissionError:
        return None
    kids: list[int] = []
    for tid in tids:
        try:
            with open(_PROC_CHILDREN.format(pid, tid), "rb") as f:
                kids.extend(int(k) for k in f.read().split())
        except _VANISHED:
            if os.path.isdir(f"{base}/{tid}"):  # the thread is there, its file is not
                return None
        except PermissionError:
            return None
    return kids


def processes(pids: list[int], known: Known) -> list[psutil.Process]:
    """psutil objects for ``pids``, reusing ``known``'s where the pid's start time is the
    same (a recycled pid gets a new one, as ``proc_key`` tells them apart): a new object
    costs a read of /proc/<pid>/stat and its first ``create_time()`` one of /proc/stat,
    where checking the start time costs one small read. Gone pids are left out; ``known``
    is replaced by what was found."""
    found: Known = {}
    for pid in pids:
        ticks = _start_ticks(pid)
        if ticks is None:
            continue
        old = known.get(pid)
        if old is not None and old[0] == ticks:
            found[pid] = old
            continue
        try:
            found[pid] = (ticks, psutil.Process(pid))
        except GONE:
            continue
    known.clear()
    known.update(found)
    return [proc for _, proc in found.values()]


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat, what
    psutil's create_time is made of); None if it is gone."""
    try:
        with open(_PROC_STAT.format(pid), "rb") as f:
            data = f.read()
    except (*_VANISHED, PermissionError):
        return None
    return int(data[data.rfind(b")") + 2:].split()[19])
