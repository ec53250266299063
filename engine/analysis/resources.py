"""Resource samples of a span reduced to what verdicts need (CPU, memory, disk).

The samples come from :mod:`engine.target.sampler` through ``RunResult.resources``; every
analysis that speaks about the target's resources reads them through :func:`summarize`
(a run's load: :func:`summarize_run`). Means are over time, not over samples: each reading
weighs the seconds it stands for (``engine.result.sample_seconds``), as the sampler samples
densely after a change and sparsely while nothing changes. CPU quantiles are over 1 s bins
of CPU time (:func:`cpu_bins`), so that the sampling rate does not change them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from engine.result import (
    RATE_FIELDS,
    ResourceSample,
    RunResult,
    rate_bins,
    sample_seconds,
    time_mean,
)

__all__ = ["ResourceSummary", "bracket", "cpu_bins", "measured_here", "run_headroom", "summarize",
           "summarize_run", "time_quantile", "timed"]


@dataclass(frozen=True)
class ResourceSummary:
    """Resource samples of a span reduced to what verdicts need; None when no sample measured
    it there."""

    samples: int
    """Samples taken in the span (``t_s`` in it)."""
    cpu_pct_mean: float | None
    """Target tree CPU, percent of one core."""
    cpu_pct_p90: float | None
    rss_max_bytes: int | None
    sys_cpu_pct_mean: float | None
    sys_mem_pct_max: float | None
    io_bytes_per_s: float | None
    """Disk read + write bytes per second of the target tree."""


def measured_here(run: RunResult) -> bool:
    """Did the machine figures of ``run`` (its machine-wide samples, its machine-speed
    probe) come from the host that generated its load? Not for a scale-out run (its
    generators ran elsewhere) nor for a remote target's samples (read from its Prometheus:
    they describe its machine). engine.analysis.host_load and machine_speed both ask."""
    if "hosts" in run.extra:
        return False
    return not any(r.cores or "sys_cpu_pct" in r.unknown for r in run.resources)


def timed(samples: Sequence[ResourceSample], name: str, start_s: float = -math.inf,
          end_s: float = math.inf) -> list[tuple[float, float]]:
    """(reading, seconds) of field ``name`` for each sample that measured it and stands for
    some of ``[start_s, end_s]``: the seconds of it the sample stands for
    (``engine.result.sample_seconds``, over the samples that measured the field)."""
    measured = [s for s in samples if name not in s.unknown]
    seconds = sample_seconds([s.t_s for s in measured], name in RATE_FIELDS, start_s, end_s)
    return [(float(getattr(s, name)), w) for s, w in zip(measured, seconds, strict=True)
            if w > 0]


def cpu_bins(samples: Sequence[ResourceSample], name: str = "cpu_pct",
             start_s: float = -math.inf, end_s: float = math.inf) -> list[tuple[float, float]]:
    """(CPU %, seconds covered) of each 1 s bin (aligned to the run's start) of a CPU field
    over ``[start_s, end_s]``: the CPU-seconds of the readings that measured it, each spread
    over its window, per second they cover (``engine.result.rate_bins``, which the report's
    CPU chart draws too). The series every CPU quantile is taken over, a bin that readings
    cover only in part (the span's edges, a gap) weighing the seconds they cover: a reading
    averages its own window, 0.1 s to 1 s as the sampler backs off, so a quantile of the
    readings would read a burst of 0.3 s a second at 100% at 10 Hz and at 30% at 1 Hz."""
    measured = [s for s in samples if name not in s.unknown]
    return [(cpu, covered) for _, cpu, covered in rate_bins(
        [s.t_s for s in measured], [float(getattr(s, name)) for s in measured], 1.0,
        start_s, end_s)]


def time_quantile(readings: Sequence[tuple[float, float]], q: float,
                  above: bool = False) -> float | None:
    """Of (reading, seconds) pairs (``timed``, ``cpu_bins``), the smallest reading whose readings at or
    below it stand for at least ``q`` of the time (nearest rank); with ``above``, for more
    than ``q`` of it. None without time.
    Equal weights give the unweighted ranks: ``values[ceil(q n) - 1]``, with ``above``
    ``values[int(q n)]`` (capped at the largest)."""
    pairs = sorted(p for p in readings if p[1] > 0)
    total = sum(w for _, w in pairs)
    if total <= 0:
        return None
    eps = 1e-9 * total  # sums of equal float weights are off by a few ulps
    cum = 0.0
    for value, w in pairs:
        cum += w
        if (cum > q * total + eps) if above else (cum >= q * total - eps):
            return value
    return pairs[-1][0]


def summarize(samples: Sequence[ResourceSample], start_s: float = float("-inf"),
              end_s: float = float("inf")) -> ResourceSummary:
    """Summarize the samples with ``start_s <= t_s <= end_s`` (seconds from run start):
    their count, largest RSS and memory share, and disk rate; CPU means over the span's time,
    each reading weighing the seconds of the span it stands for (``timed``: a CPU reading
    stands for the window before it, so one taken after the span may still cover it, and
    of one that straddles an edge only the span's share counts), the p90 over its 1 s bins
    (``cpu_bins``)."""
    span = [s for s in samples if start_s <= s.t_s <= end_s]

    def measured(name: str) -> list[ResourceSample]:  # a field a sample did not read is no 0
        return [s for s in span if name not in s.unknown]

    cpu = timed(samples, "cpu_pct", start_s, end_s)
    rss, sys_mem = measured("rss_bytes"), measured("sys_mem_pct")
    disk = bracket(samples, start_s, end_s, ("read_bytes", "write_bytes"))
    io = None
    if disk is not None:
        first, last = disk
        moved = last.read_bytes + last.write_bytes - first.read_bytes - first.write_bytes
        io = max(0, moved) / (last.t_s - first.t_s)
    return ResourceSummary(
        samples=len(span), cpu_pct_mean=time_mean(cpu),
        cpu_pct_p90=time_quantile(cpu_bins(samples, "cpu_pct", start_s, end_s), 0.9, True),
        rss_max_bytes=max((s.rss_bytes for s in rss), default=None),
        sys_cpu_pct_mean=time_mean(timed(samples, "sys_cpu_pct", start_s, end_s)),
        sys_mem_pct_max=max((s.sys_mem_pct for s in sys_mem), default=None), io_bytes_per_s=io,
    )


def bracket(samples: Sequence[ResourceSample], start_s: float = -math.inf,
            end_s: float = math.inf, fields: Sequence[str] = ()
            ) -> tuple[ResourceSample, ResourceSample] | None:
    """The two samples a cumulative counter's change over ``[start_s, end_s]`` is read
    between: the last at or before ``start_s`` (else the first) and the first at or after
    ``end_s`` (else the last), among those that read ``fields``; None without two times. The
    bytes between them cover the whole span (plus up to a sampling period at each edge),
    where the first and last sample inside it would miss up to a period at each edge."""
    known = [s for s in samples if not set(fields) & set(s.unknown)]
    if len(known) < 2:
        return None
    first = next((s for s in reversed(known) if s.t_s <= start_s), known[0])
    last = next((s for s in known if s.t_s >= end_s), known[-1])
    return (first, last) if last.t_s > first.t_s else None


def summarize_run(run: RunResult) -> ResourceSummary:
    """The run's resources during its load, ``[0, duration_s]``: the sampler starts before
    the load and stops after it, and its idle readings there would dilute a short step's
    CPU (a reading that straddles the load's start or end counts for its share in it)."""
    return summarize(run.resources, 0.0, run.duration_s)


THREAD_SATURATED_PCT = 90.0
"""A thread on the CPU this share of the time (p95 of its readings, each over >= 1 s: engine.
target.hot_thread) leaves its server no room."""
CPU_TARGET_PCT, MEMORY_TARGET_PCT = 70.0, 80.0
"""The flow's resource targets: CPU under 70% and memory under 80% (the checklist's row,
the report's resource table and the capacity model's instances all read these)."""


@dataclass(frozen=True)
class Headroom:
    """The flow's CPU and memory figures of a run's samples, as the checklist row and the
    report's resource table both show them (one reading, ``headroom_of``)."""

    cpu_pct: float | None
    """Target CPU p95 in percent of ``cpu_scope``; None when no sample measured it."""
    memory_pct: float | None
    """Machine memory used p95, percent; None when no sample measured it (a remote
    target's Prometheus without node metrics)."""
    cpu_scope: str
    """'the machine' (all its cores), or 'one core' when a remote machine's cores are
    unknown: one core's share is an upper bound of the machine's."""
    hot_thread_pct: float | None = None
    """The target's busiest thread, p95 over the load of its readings (each over at least 1 s),
    percent of one core; None when not read (a remote target, an older record, a process
    of many threads)."""

    @property
    def thread_saturated(self) -> bool:
        """One thread of the target was on the CPU nearly all the time (THREAD_SATURATED_PCT):
        a single-threaded server is at its limit whatever share of the machine it shows."""
        return self.hot_thread_pct is not None and self.hot_thread_pct >= THREAD_SATURATED_PCT

    @property
    def thread_note(self) -> str:
        """'busiest thread at 99% of a core: saturated', or '' (one sentence, every format)."""
        if not self.thread_saturated or self.hot_thread_pct is None:
            return ""
        return f"busiest thread at {self.hot_thread_pct:.0f}% of a core: saturated"

    @property
    def bound(self) -> bool:
        """CPU is an upper bound (a share of one core), not the machine's share."""
        return self.cpu_scope == ONE_CORE


ONE_CORE = "one core (at most its share of the machine)"


def run_headroom(run: RunResult) -> Headroom:
    """The run's CPU and memory p95 during its load, ``[0, duration_s]``, as the run's other
    CPU figures (``summarize_run``): the idle seconds the sampler reads before the load
    (a managed target's workers starting) and after it are not the run's."""
    return headroom_of(run.resources, 0.0, run.duration_s)


def headroom_of(samples: Sequence[ResourceSample], start_s: float = -math.inf,
                end_s: float = math.inf) -> Headroom:
    """CPU and memory p95 of ``samples`` over ``[start_s, end_s]``, each over the samples
    that measured it. A remote machine's samples carry its core count (``cores``) and name
    what its Prometheus had no metric for (``unknown``): a figure no sample measured is
    None, never 0%, and a sample that missed it does not count as a 0."""
    cores = max((s.cores for s in samples), default=0)  # 0: this machine's (psutil sampler)
    bound = not cores and any("cores" in s.unknown for s in samples)
    cpu, memory = _p95s(samples, 1 if bound else cores or None, start_s, end_s)
    hot = timed(samples, "hot_thread_pct", start_s, end_s)  # 0 throughout: an older record
    hot_p95 = time_quantile(hot, 0.95) if any(v > 0 for v, _ in hot) else None
    return Headroom(cpu, memory, ONE_CORE if bound else "the machine", hot_p95)


def headroom(samples: Sequence[ResourceSample], cores: int | None = None,
             start_s: float = -math.inf,
             end_s: float = math.inf) -> tuple[float | None, float | None]:
    """(target CPU, machine memory) as the 95th percentile over ``[start_s, end_s]``, both in
    percent of the whole: CPU over its 1 s bins (``cpu_bins``) as the target process tree's
    share of all ``cores`` (default this machine's; a managed or named target runs here),
    memory over time (each reading held until the next: ``timed``) as the machine's used
    share; None where no reading covers the span, never 0%."""
    return _p95s(samples, cores, start_s, end_s)


def _p95s(samples: Sequence[ResourceSample], cores: int | None, start_s: float,
          end_s: float) -> tuple[float | None, float | None]:
    """``headroom``'s two p95s, each over the samples that measured it (``cpu_bins`` and
    ``timed`` leave the others out), None where no reading covers the span (a CPU read
    only before the load is no 0% during it)."""
    n = cores or os.cpu_count() or 1
    cpu = time_quantile([(v / n, w) for v, w in cpu_bins(samples, "cpu_pct", start_s, end_s)],
                        0.95)
    return cpu, time_quantile(timed(samples, "sys_mem_pct", start_s, end_s), 0.95)
