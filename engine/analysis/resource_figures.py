"""A run's resources for the report (issue #21): CPU and memory against the flow's targets,
disk and network I/O as bytes and rates.

CPU and memory are ``engine.analysis.resources.run_headroom`` (the same p95 figures, over
the run's load, that the checklist's 'CPU < 70%, memory < 80%' row judges; None where a
remote target's Prometheus had no metric, never 0%). Disk bytes are the target process
tree's reads and writes (psutil io_counters, summed over the tree); network bytes are the
machine's (psutil net_io_counters, all interfaces, loopback included: on one machine
that is the load itself). Counters are cumulative from the first sample, so a run's bytes
are the change between the samples that bracket its load, and its rates those bytes over
the time between (the sampler also reads before and after the load: those are not the run's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.analysis.resources import (
    CPU_TARGET_PCT,
    MEMORY_TARGET_PCT,
    bracket,
    run_headroom,
    summarize_run,
)
from engine.result import RunResult

__all__ = ["CPU_TARGET_PCT", "MEMORY_TARGET_PCT", "ResourceFigures", "resource_figures"]


@dataclass(frozen=True)
class ResourceFigures:
    """One run's resource figures; rates are per second between the first and last sample."""

    samples: int
    span_s: float
    cpu_p95_pct: float | None
    """Target CPU p95, percent of ``cpu_scope`` (None: not measured)."""
    memory_p95_pct: float | None
    """Machine memory used p95, percent (None: not measured)."""
    disk_read_bytes: int
    disk_write_bytes: int
    net_sent_bytes: int
    net_recv_bytes: int
    cpu_scope: str = "the machine"
    """What CPU is a share of (engine.analysis.resources.Headroom.cpu_scope)."""
    hot_thread_p95_pct: float | None = None
    """The target's busiest thread, percent of one core (Headroom.hot_thread_pct)."""
    thread_saturated: bool = False
    """That thread left its server no room (Headroom.thread_saturated)."""
    thread_note: str = ""
    """'busiest thread at 99% of a core: saturated', or '' (Headroom.thread_note: the
    checklist row's words, which the report's table shows)."""

    def rate(self, n: int) -> float:
        return n / self.span_s if self.span_s > 0 else 0.0

    def to_doc(self) -> dict[str, Any]:
        def io(n: int) -> dict[str, float]:
            return {"bytes": n, "per_s": round(self.rate(n), 3)}

        return {"samples": self.samples, "span_s": round(self.span_s, 6),
                "cpu_p95_pct": _round(self.cpu_p95_pct), "cpu_target_pct": CPU_TARGET_PCT,
                "cpu_scope": self.cpu_scope, "memory_p95_pct": _round(self.memory_p95_pct),
                "memory_target_pct": MEMORY_TARGET_PCT,
                "disk_read": io(self.disk_read_bytes), "disk_write": io(self.disk_write_bytes),
                "net_sent": io(self.net_sent_bytes), "net_recv": io(self.net_recv_bytes),
                "net_scope": "machine", "hot_thread_p95_pct": _round(self.hot_thread_p95_pct),
                "thread_saturated": self.thread_saturated, "thread_note": self.thread_note}


def resource_figures(run: RunResult) -> ResourceFigures | None:
    """The run's figures over its load, ``[0, duration_s]``, like its CPU and memory p95s:
    the sample count the checklist row states, and bytes between the samples that bracket
    the load (``bracket``); None when the target was not sampled."""
    if not run.resources:
        return None
    h = run_headroom(run)  # the figures the checklist's resource row judges
    pair = bracket(run.resources, 0.0, run.duration_s)
    if pair is None:  # one sample: no change to read
        return ResourceFigures(summarize_run(run).samples, 0.0, h.cpu_pct, h.memory_pct,
                               0, 0, 0, 0, h.cpu_scope, h.hot_thread_pct,
                               h.thread_saturated, h.thread_note)
    first, last = pair
    return ResourceFigures(
        summarize_run(run).samples, last.t_s - first.t_s, h.cpu_pct, h.memory_pct,
        max(0, last.read_bytes - first.read_bytes), max(0, last.write_bytes - first.write_bytes),
        max(0, last.net_sent_bytes - first.net_sent_bytes),
        max(0, last.net_recv_bytes - first.net_recv_bytes), h.cpu_scope, h.hot_thread_pct,
        h.thread_saturated, h.thread_note)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
