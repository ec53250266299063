"""Halving the resource sampler's series (engine.target.sampler) past its memory bound
without losing CPU time.

A CPU reading is the CPU time used since the previous sample over the wall time between,
and the analyses weigh it by that window (engine.result.sample_seconds). Dropping a sample
hands its window to the next one kept, so the kept reading must cover both windows: its
rate becomes the CPU-seconds of the merged windows over their length. Readings at an instant
(RSS, threads, fds, machine memory) and cumulative counters stay as read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from engine.result import RATE_FIELDS, ResourceSample

__all__ = ["halve", "merged"]


def halve(samples: Sequence[ResourceSample]) -> list[ResourceSample]:
    """Every other sample: the first, every second one after it and the last (whose window
    has no kept sample after it to go to), each kept one's rates merged over the windows of
    the samples dropped before it (``merged``). The series' CPU-seconds, each reading's rate
    x the time since the sample before, are the same before and after."""
    if len(samples) < 3:
        return list(samples)
    keep = list(range(0, len(samples), 2))
    if keep[-1] != len(samples) - 1:
        keep.append(len(samples) - 1)
    return [samples[0], *(merged(samples[a:b + 1]) for a, b in pairwise(keep))]


def merged(run: Sequence[ResourceSample]) -> ResourceSample:
    """The last of ``run`` with its rates (RATE_FIELDS: target and machine CPU) over the
    windows of ``run[1:]`` (``run[0]``: the sample whose ``t_s`` the first of them starts
    at): each window's rate x seconds summed, over their total. A field a merged sample did
    not read (``unknown``) keeps the last's reading."""
    last = run[-1]
    span = last.t_s - run[0].t_s

    def rate(name: str) -> float:
        if span <= 0 or any(name in s.unknown for s in run[1:]):
            return float(getattr(last, name))
        return sum(float(getattr(b, name)) * (b.t_s - a.t_s) for a, b in pairwise(run)) / span

    rates: dict[str, Any] = {name: rate(name) for name in RATE_FIELDS}
    return dataclasses.replace(last, **rates)
