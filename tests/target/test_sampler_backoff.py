"""The run's resource sampler backs off while the target's readings stay the same (issue #20:
idle costs), and samples at its base rate again at the first change. No timing: the
period is computed from the readings."""

from __future__ import annotations

import os

from engine.target.sampler import Sampler, _Reading


def _reading(rss: int = 50_000_000, fds: int = 12) -> _Reading:
    return _Reading(rss=rss, threads=2, fds=fds, conns=3, alive=1)


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
