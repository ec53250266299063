"""Past ``max_samples`` the sampler halves its series and doubles its stride; a kept CPU
reading then stands for the dropped or skipped ones' windows too (engine.result.
sample_seconds), so it must carry their CPU time: the series' CPU-seconds survive."""

from __future__ import annotations

import os
import types
from itertools import pairwise

import pytest

from engine.analysis.resources import summarize
from engine.result import ResourceSample
from engine.target import sampler as sampler_module
from engine.target.sampler import Sampler, _Reading
from engine.target.thinning import halve
from tests.support.analysis import sample

USED = (0.05, 0.0, 0.1, 0.02, 0.0, 0.07, 0.0)
"""CPU-seconds the fake tree uses in successive 0.1 s periods (a period's reading: 0-100%)."""


def _cpu_seconds(samples: list[ResourceSample], name: str = "cpu_pct") -> float:
    """Each reading's rate x the time since the sample before it, summed."""
    return sum(getattr(b, name) * (b.t_s - a.t_s) for a, b in pairwise(samples)) / 100


@pytest.mark.parametrize("n", [16, 17])
def test_halving_the_series_keeps_its_cpu_seconds(n: int) -> None:
    samples = [sample((k + 1) / 10, cpu=USED[k % 7] * 1000, sys_cpu=float(k % 5) * 20)
               for k in range(n)]
    half = halve(samples)
    assert [s.t_s for s in half] == [samples[k].t_s for k in (*range(0, n - 1, 2), n - 1)]
    for name in ("cpu_pct", "sys_cpu_pct"):
        assert _cpu_seconds(half, name) == pytest.approx(_cpu_seconds(samples, name))
    span = (samples[0].t_s, samples[-1].t_s)  # the analyses' view: the same mean over it
    assert summarize(half, *span).cpu_pct_mean == pytest.approx(
        summarize(samples, *span).cpu_pct_mean)


def test_a_kept_sample_covers_the_periods_the_stride_skips(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sampler past its bound keeps every 2nd, 4th, ... reading: the CPU-seconds of the
    series it keeps are those the tree used between its first and last kept sample."""
    t0 = 100.0
    clock = types.SimpleNamespace(now=t0)
    monkeypatch.setattr(sampler_module, "time", types.SimpleNamespace(
        monotonic=lambda: clock.now, time=lambda: 1e9 + clock.now))
    s = Sampler(os.getpid(), interval_s=0.1, max_samples=16, t0=t0)
    s._last_t, s._kept = t0, (t0, 0.0)
    used_by: dict[float, float] = {}  # tree CPU-seconds used by each sample's t_s

    def visit(refresh: bool = True) -> _Reading:
        s._tree.cpu_s += USED[len(used_by) % len(USED)]
        used_by[clock.now - t0] = s._tree.cpu_s
        return _Reading(rss=1, busy=1)

    monkeypatch.setattr(s, "_visit", visit)
    for k in range(1, 200):
        clock.now = t0 + k / 10
        s._sample_once()
    kept = list(s.samples)
    assert s._stride >= 8 and len(kept) < 16
    used = used_by[kept[-1].t_s] - used_by[kept[0].t_s]
    assert _cpu_seconds(kept) == pytest.approx(used)
