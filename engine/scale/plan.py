"""The slices of one run: which generator host runs which workers, k6-segment style.

Every worker of every host gets a global index out of the run's total worker count, so the
union of the hosts' workers is exactly the run a single host with that many workers would
drive: each takes 1/total of the arrival rate (open model) or of the virtual users (closed),
the same shape, duration and journey mix, and its phase offset in the arrival schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.driver.runtime import WorkerReport
from engine.driver.shapes import Shape
from engine.spec.model import DataFile, Journey, RunSettings, ThinkTime


@dataclass(frozen=True)
class Host:
    """A generator host as the coordinator found and measured it."""

    name: str
    address: str
    cpus: int
    offset_ns: int
    """The host's wall clock minus the coordinator's (ns), from the best round trip."""
    rtt_ns: int
    """That round trip (ns): the offset is known to within half of it."""


@dataclass(frozen=True)
class HostPlan:
    """What one host runs: ``workers`` worker processes, global indices from ``first``."""

    run_id: str
    name: str
    first: int
    workers: int
    total: int
    target_url: str
    journeys: tuple[Journey, ...]
    data: tuple[DataFile, ...]
    shape: Shape
    settings: RunSettings
    think_s: float
    verify_tls: bool
    max_duration_s: float | None
    ready_timeout_s: float
    ca_file: str | None = None
    """The target's tls.ca_file (the same path must exist on every generator host)."""
    think: ThinkTime | None = None
    """The profile's think time as a distribution (``think_s`` is its mean)."""


@dataclass(frozen=True)
class HostReport:
    """What a host sends back: its workers' reports and how its start went."""

    name: str
    reports: tuple[WorkerReport, ...]
    start_ns: int
    """The agreed start on the host's monotonic clock: every recorder time is relative to it."""
    late_ns: int
    """How long after the agreed start the host had its start (0: in time)."""


def workers_per_host(hosts: Sequence[Host], per_node: int | None, profile_workers: int) -> list[int]:
    """Worker processes on each host: ``per_node`` (0: one per core of that host), else
    the profile's ``workers`` (0: one per core)."""
    wanted = profile_workers if per_node is None else per_node
    return [wanted if wanted > 0 else max(1, h.cpus) for h in hosts]


def firsts(counts: Sequence[int]) -> list[int]:
    """The global index of each host's first worker."""
    out, n = [], 0
    for c in counts:
        out.append(n)
        n += c
    return out
