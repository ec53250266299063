"""Load shapes: a LoadProfile turned into a piecewise-linear level over time.

The level is an arrival rate (requests/s, open model) or a number of virtual users
(closed model). Every shape is a list of (t_s, level) points; a vertical step is two
points at the same time (spike). The open-model schedule inverts the integral of the
rate, so request k is sent when the expected count reaches k: uniform spacing at the
instantaneous rate, exact across ramps.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from engine.spec.model import LoadProfile

Model = Literal["open", "closed"]
Point = tuple[float, float]


@dataclass(frozen=True)
class Shape:
    """A load level over ``[0, duration_s]``: rate in requests/s (open) or VUs (closed)."""

    model: Model
    points: tuple[Point, ...]

    @property
    def duration_s(self) -> float:
        return self.points[-1][0] if self.points else 0.0

    def level(self, t_s: float) -> float:
        """Level at ``t_s`` seconds (linear between points; the later point wins at a step)."""
        pts = self.points
        if not pts or t_s < 0 or t_s > pts[-1][0]:
            return 0.0
        for (t0, v0), (t1, v1) in itertools.pairwise(pts):
            if t0 <= t_s < t1:
                return self._at(t0, v0, t1, v1, t_s)
        return pts[-1][1]

    def planned(self) -> float:
        """Expected number of arrivals (open model): the integral of the rate."""
        return sum((t1 - t0) * (v0 + v1) / 2
                   for (t0, v0), (t1, v1) in zip(self.points, self.points[1:], strict=False))

    def area(self, a: float, b: float) -> float:
        """Integral of the level over [a, b] seconds (planned arrivals in that window)."""
        total = 0.0
        for (t0, v0), (t1, v1) in zip(self.points, self.points[1:], strict=False):
            lo, hi = max(a, t0), min(b, t1)
            if hi > lo:
                total += (hi - lo) * (self._at(t0, v0, t1, v1, lo) + self._at(t0, v0, t1, v1, hi)) / 2
        return total

    @staticmethod
    def _at(t0: float, v0: float, t1: float, v1: float, t: float) -> float:
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)

    def mean_level(self) -> float:
        """Time-weighted mean level (mean target rate, or mean VUs)."""
        return self.planned() / self.duration_s if self.duration_s > 0 else 0.0

    def peak(self) -> float:
        return max((v for _, v in self.points), default=0.0)

    def scaled(self, factor: float) -> Shape:
        """The same shape with every level multiplied by ``factor`` (a worker's share)."""
        return Shape(self.model, tuple((t, v * factor) for t, v in self.points))


def arrivals(shape: Shape, phase: float = 0.0) -> Iterator[float]:
    """Intended send offsets in seconds: the times where the integral reaches k + phase.

    ``phase`` in [0, 1) staggers workers so their merged schedule stays uniform."""
    k = phase
    done = 0.0  # integral up to the start of the current segment
    for (t0, r0), (t1, r1) in zip(shape.points, shape.points[1:], strict=False):
        span = t1 - t0
        area = span * (r0 + r1) / 2
        while k < done + area:
            yield t0 + _solve(r0, (r1 - r0) / span if span else 0.0, k - done)
            k += 1.0
        done += area


def _solve(r0: float, slope: float, need: float) -> float:
    """Smallest x >= 0 with r0*x + slope*x^2/2 == need (need within the segment)."""
    if abs(slope) < 1e-12:
        return need / r0 if r0 > 0 else 0.0
    disc = max(r0 * r0 + 2 * slope * need, 0.0)
    return (math.sqrt(disc) - r0) / slope


def shape_of(profile: LoadProfile, read_csv: Callable[[str], list[Point]] | None = None) -> Shape:
    """Pick the shape a profile describes: stages > rate_csv > spike > rate > vus.

    Raises ValueError naming what was expected when the profile describes no load."""
    for test, build in _SHAPES:
        if test(profile):
            return build(profile, read_csv or read_rate_csv)
    raise ValueError(f"profile {profile.name!r}: expected stages, rate_csv, a spike "
                     "(base_rate/peak_rate), rate or vus to say how much load to apply")


def _stages(p: LoadProfile, _: Callable[[str], list[Point]]) -> Shape:
    closed = all(s.rate is None for s in p.stages) or (
        p.settings.model == "closed" and all(s.vus is not None for s in p.stages))
    pts: list[Point] = [(0.0, 0.0)]
    t = 0.0
    for s in p.stages:
        t += s.duration_s
        level = s.vus if closed else s.rate
        if level is None:
            raise ValueError(f"profile {p.name!r}: every stage needs "
                             f"{'vus' if closed else 'rate'} (mixing open and closed stages)")
        pts.append((t, float(level)))
    return Shape("closed" if closed else "open", tuple(pts))


def _replay(p: LoadProfile, read: Callable[[str], list[Point]]) -> Shape:
    assert p.rate_csv is not None
    pts = read(p.rate_csv)
    if len(pts) < 2:
        raise ValueError(f"{p.rate_csv}: expected at least two rows of t_s,rate")
    t0 = pts[0][0]
    return Shape("open", tuple((t - t0, r) for t, r in pts))


def _spike(p: LoadProfile, _: Callable[[str], list[Point]]) -> Shape:
    base, peak = float(p.base_rate or 0.0), float(p.peak_rate or 0.0)
    a = float(p.before_s or 0.0)
    b = a + float(p.spike_s or 0.0)
    c = b + float(p.after_s or 0.0)
    return Shape("open", ((0.0, base), (a, base), (a, peak), (b, peak), (b, base), (c, base)))


def _constant(p: LoadProfile, _: Callable[[str], list[Point]]) -> Shape:
    closed = p.rate is None or (p.settings.model == "closed" and p.vus is not None)
    level = float(p.vus if closed and p.vus is not None else p.rate or 0.0)
    ramp, hold = p.ramp_up_s, p.duration_s
    pts: list[Point] = [(0.0, 0.0), (ramp, level)] if ramp > 0 else [(0.0, level)]
    pts.append((ramp + hold, level))
    return Shape("closed" if closed else "open", tuple(pts))


_SHAPES: tuple[tuple[Callable[[LoadProfile], bool],
                     Callable[[LoadProfile, Callable[[str], list[Point]]], Shape]], ...] = (
    (lambda p: bool(p.stages), _stages),
    (lambda p: p.rate_csv is not None, _replay),
    (lambda p: p.base_rate is not None and p.peak_rate is not None, _spike),
    (lambda p: p.rate is not None or p.vus is not None, _constant),
)


def read_rate_csv(path: str) -> list[Point]:
    """Rows ``t_s,rate`` (a header row is skipped); times must not decrease."""
    pts: list[Point] = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for n, row in enumerate(csv.reader(f), 1):
                pts.extend(_csv_point(path, n, row, pts))
    except OSError as e:
        raise ValueError(f"{path}: cannot read rate curve ({e.strerror})") from None
    return pts


def _csv_point(path: str, n: int, row: list[str], pts: list[Point]) -> list[Point]:
    if not row or not "".join(row).strip():
        return []
    try:
        t, r = float(row[0]), float(row[1])
    except (ValueError, IndexError):
        if n == 1:
            return []  # header
        raise ValueError(f"{path}:{n}: expected t_s,rate (two numbers)") from None
    if r < 0 or (pts and t < pts[-1][0]):
        raise ValueError(f"{path}:{n}: expected a rate >= 0 and times that do not decrease")
    return [(t, r)]
