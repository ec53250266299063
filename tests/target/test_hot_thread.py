"""The busiest-thread figure (engine.target.hot_thread) over windows of at least 1 s."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine.target.hot_thread import HOT_THREADS_MAX, HotThread


@dataclass
class _Thread:
    id: int
    user_time: float
    system_time: float = 0.0


@dataclass
class _Proc:
    threads_: list[_Thread] = field(default_factory=list)
    extra: int = 0

    def num_threads(self) -> int:
        return len(self.threads_) + self.extra

    def threads(self) -> list[_Thread]:
        return list(self.threads_)


@dataclass
class _Entry:
    proc: _Proc


def test_the_busiest_thread_over_a_window_not_the_largest_tick_step() -> None:
    """Two threads of one process and one of another: the figure is the busiest one's CPU
    over the window; a read sooner than 1 s later holds it; a new thread starts at zero."""
    a, b = _Proc([_Thread(1, 0.0), _Thread(2, 0.0)]), _Proc([_Thread(7, 0.0)])
    procs = {(10, 1.0): _Entry(a), (11, 1.0): _Entry(b)}
    hot = HotThread()
    assert hot.read(procs, 0.0) is None  # the first read starts a window
    a.threads_ = [_Thread(1, 0.9), _Thread(2, 0.3), _Thread(3, 5.0)]  # 3 is new: from zero
    b.threads_ = [_Thread(7, 0.5)]
    assert hot.read(procs, 0.5) is None  # the window is still open
    assert hot.read(procs, 1.0) == 90.0
    a.threads_[0] = _Thread(1, 1.0)
    assert hot.read(procs, 1.4) == 90.0  # held until the next window closes
    assert hot.read(procs, 2.0) == pytest.approx(10.0)  # thread 3 stood still; 1 ran 0.1 s


def test_a_process_of_too_many_threads_leaves_it_unread() -> None:
    """Its busiest thread could be the one not read: None (the sample says unknown)."""
    big = _Proc([_Thread(1, 0.0)], extra=HOT_THREADS_MAX)
    procs = {(10, 1.0): _Entry(big)}
    hot = HotThread()
    hot.read(procs, 0.0)
    assert hot.read(procs, 1.0) is None
