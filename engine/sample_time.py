"""How long each resource sample stands for, and rates per 1 s bin: the weights every mean,
quantile and chart of resource samples uses (the sampler does not space them evenly:
engine.target.sampler backs off while nothing changes). Re-exported by engine.result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise

__all__ = ["rate_bins", "sample_seconds", "time_mean"]


def sample_seconds(times: Sequence[float], rate: bool, start_s: float = -math.inf,
                   end_s: float = math.inf) -> list[float]:
    """Seconds of ``[start_s, end_s]`` each sample of a time-ordered series stands for: the
    weight of each reading in every mean, quantile and bin of resource samples, which the
    sampler does not space evenly (it backs off while nothing changes: engine.target.sampler).

    A rate (``rate``: RATE_FIELDS) is CPU time used since the previous sample over the wall
    time between, so it stands for the window back to the previous sample's ``t_s``; the
    first, for one as long as the first gap (the sampler took a baseline reading one period
    before it). A reading at an instant (RSS, threads, fds, memory) stands for the time until
    the next sample; the last, for one as long as the last gap (the edges take gaps between
    distinct instants). Held forward, not half-way both sides: the sampler lengthens its
    period only after a reading equal to the one before, so a long gap follows a value that
    had already held, and a change is first seen at the sample that ends the gap; half-way
    would credit half the gap to a value not seen until its end. Evenly spaced samples thus
    weigh alike, as an unweighted mean has them. With no time to share out (one sample, all
    at one instant) each sample in the span counts 1."""
    spans = _spans(times, rate, start_s, end_s)
    if spans is None:
        return [1.0 if start_s <= t <= end_s else 0.0 for t in times]
    return [hi - lo for lo, hi in spans]


def _spans(times: Sequence[float], rate: bool, start_s: float,
           end_s: float) -> list[tuple[float, float]] | None:
    """Each sample's window (``sample_seconds``) clipped to ``[start_s, end_s]`` (an empty
    one as ``(t, t)``); None when together they hold no time. A rate's window runs from the
    previous sample's ``t_s`` itself, not ``t_s`` less the gap, which rounding would leave a
    sliver off."""
    if not times:
        return []
    gaps = [max(0.0, b - a) for a, b in pairwise(times)]
    moved = [g for g in gaps if g > 0] or [0.0]  # the edges' gaps: not a repeated instant's
    if rate:
        windows = [(times[0] - moved[0], times[0]), *((min(a, b), b) for a, b in pairwise(times))]
    else:
        windows = [*((a, max(a, b)) for a, b in pairwise(times)), (times[-1], times[-1] + moved[-1])]
    spans = [(max(lo, start_s), max(min(hi, end_s), max(lo, start_s))) for lo, hi in windows]
    return spans if sum(hi - lo for lo, hi in spans) > 0 else None


def rate_bins(times: Sequence[float], rates: Sequence[float], width: float = 1.0,
              start_s: float = -math.inf,
              end_s: float = math.inf) -> list[tuple[float, float, float]]:
    """A rate field (RATE_FIELDS, e.g. CPU %) of a time-ordered series per bin of ``width``
    seconds aligned to the run's start (bin k is ``[k width, (k + 1) width)``): (bin start,
    rate, seconds covered) for each bin some reading covers. Each reading's CPU-seconds are
    spread evenly over its window (back to the previous sample's ``t_s``: sample_seconds),
    clipped to ``[start_s, end_s]``; a bin's rate is the CPU-seconds in it over the seconds
    its readings cover (the readings' mean weighed by their seconds in it: a steady reading
    stays exact). Every CPU quantile is taken over these 1 s bins and the report's CPU
    chart draws them: a reading averages its own window, which the sampler stretches from
    0.1 s to 1 s while nothing changes, so quantiles of the readings themselves would move
    with the sampling rate. With no time to share out, a reading counts 1 in its bin."""
    spans = _spans(times, True, start_s, end_s)
    if spans is None:  # no time to share out: a reading in the span counts 1 in its bin
        parts = [(math.floor(t / width), r, 1.0) for t, r in zip(times, rates, strict=True)
                 if start_s <= t <= end_s]
    else:
        parts = [(k, r, w) for (lo, hi), r in zip(spans, rates, strict=True)
                 for k, w in _overlaps(lo, hi, width)]
    bins: dict[int, list[tuple[float, float]]] = {}
    for k, rate, seconds in parts:
        bins.setdefault(k, []).append((rate, seconds))
    return [(k * width, mean, sum(w for _, w in pairs)) for k, pairs in sorted(bins.items())
            if (mean := time_mean(pairs)) is not None]


def _overlaps(lo: float, hi: float, width: float) -> Iterator[tuple[int, float]]:
    """(bin, seconds) of ``[lo, hi]`` in each bin of ``width`` aligned to 0 it overlaps."""
    for k in range(math.floor(lo / width), math.ceil(hi / width)):
        part = min(hi, (k + 1) * width) - max(lo, k * width)
        if part > 0:
            yield k, part


def time_mean(readings: Iterable[tuple[float, float]]) -> float | None:
    """Mean of (reading, seconds) pairs over time; None when they stand for no time."""
    pairs = list(readings)
    total = sum(w for _, w in pairs)
    if total <= 0:
        return None
    base = pairs[0][0]  # readings as offsets from one: a steady reading's mean is exactly it
    return base + sum((v - base) * w for v, w in pairs) / total
