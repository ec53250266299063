"""A microsecond-precise one-shot wake-up for the open-model scheduler (Linux timerfd).

libuv timers (and so uvloop's call_later) have millisecond granularity, and spinning on
call_soon to hit sub-millisecond send times costs a whole core and gets the process
descheduled on a busy machine. A timerfd armed at an absolute CLOCK_MONOTONIC time (the
clock of time.monotonic_ns) wakes epoll within the kernel's timer slack (~50 µs) instead.
Where timerfd is unavailable, ``PreciseTimer.create`` returns None and the scheduler falls
back to call_later plus a short spin.

This ctypes timer serves the Python scheduler (engine.driver.pool.Scheduler, PERFOPT_PURE=1);
the native one (ext/scheduler.pxi) creates and re-arms its timerfd from C.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

CLOCK_MONOTONIC = 1
TFD_TIMER_ABSTIME = 1
TFD_NONBLOCK = 0o4000
TFD_CLOEXEC = 0o2000000
PR_SET_TIMERSLACK = 29
TIMER_SLACK_NS = 1_000
"""The kernel may delay a wake-up by the thread's timer slack (50 µs by default); a load
generator asks for 1 µs so open-model sends leave on time."""


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None or not hasattr(os, "eventfd"):  # eventfd: a cheap "is this Linux" check
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return libc if hasattr(libc, "timerfd_create") else None
    except OSError:
        return None


class PreciseTimer:
    """A timerfd: ``fd`` becomes readable at the armed monotonic time (ns)."""

    def __init__(self, libc: Any, fd: int) -> None:
        self._settime = libc.timerfd_settime
        self.fd = fd
        self._spec = _Itimerspec()
        self._ref = ctypes.byref(self._spec)

    @classmethod
    def create(cls) -> PreciseTimer | None:
        libc = _libc()
        if libc is None:
            return None
        fd = libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if fd < 0:
            return None
        libc.prctl(PR_SET_TIMERSLACK, ctypes.c_ulong(TIMER_SLACK_NS), 0, 0, 0)
        return cls(libc, fd)

    def arm(self, when_ns: int) -> None:
        """Fire once at monotonic time ``when_ns`` (immediately if it is past)."""
        value = self._spec.it_value
        when_ns = max(when_ns, 1)  # zero would disarm
        value.tv_sec, value.tv_nsec = divmod(when_ns, 1_000_000_000)
        self._settime(self.fd, TFD_TIMER_ABSTIME, self._ref, None)

    def clear(self) -> None:
        """Disarm, and consume any expiry so the fd stops being readable."""
        value = self._spec.it_value
        value.tv_sec = value.tv_nsec = 0
        self._settime(self.fd, 0, self._ref, None)  # disarming also zeroes the expiry count

    def close(self) -> None:
        os.close(self.fd)
