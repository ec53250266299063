"""Sample a target process tree and the machine with psutil in a background thread.

``Sampler(pids or name).start()`` ... ``.stop()`` returns the
:class:`~engine.result.ResourceSample` series: target CPU (percent of one core,
summed over the process and all its children), RSS, threads, fds, connections
(open sockets: socket fds on Linux), disk bytes and context switches since
sampling began, plus machine-wide CPU, memory and network bytes since sampling
began. A sample costs well under a millisecond (0.4-0.9 ms for a 1-4 process tree on
the 2-core dev box, timing 2000 back-to-back samples; the tree's children are re-listed
once a second, every 3 s once backed off: ``REFRESH_S``), so it barely disturbs a driver
sharing its process. With ``max_interval_s`` the period backs off while nothing changes:
samples are then not evenly spaced, and the analyses weigh each by the window it stands for
(engine.result.sample_seconds) and take CPU quantiles over 1 s bins (engine.result.
rate_bins), which the sampling rate does not change.

Counters are accumulated per process from deltas, so a child that exits does
not make a cumulative series go backwards. A process that dies or denies access
is skipped, never raised; once the whole tree is gone the samples taken so far
are kept. Memory is bounded: past ``max_samples`` every other sample is dropped
and the sampling stride doubles, so a 24 h soak keeps a series of the same spacing; a kept
CPU reading then covers the dropped ones' windows too (engine.target.thinning), so no CPU
time is lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import psutil

from engine.result import ResourceSample
from engine.target.backoff import Gauges, unchanged
from engine.target.hot_thread import HotThread
from engine.target.proc_read import (
    GONE,
    LINUX,
    Known,
    alive,
    connections,
    cpu_time,
    ctx_switches,
    descendants,
    fds,
    io_bytes,
    proc_key,
    processes,
)
from engine.target.speed_probe import SpeedProbe
from engine.target.thinning import halve

__all__ = ["Sampler", "find_processes", "shift"]

REFRESH_S, REFRESH_SAMPLES = 1.0, 3
"""Re-list the tree's children (psutil scans every process: about 1 ms; Linux's per-tree /proc
files are used where there: proc_read.descendants) and, off Linux, count
connections (psutil reads whole socket tables: tens of ms) every 3rd sample and at least a
second apart: once a second at 10 Hz, every 3 s once backed off to 1 Hz. Re-listing at every
backed-off sample cost more than the samples the back-off saved. The sampler shares the GIL
with a driver running in the same process, so each sample must stay well under a
millisecond. A process first seen at a listing starts at zero: what it ran before (at most
3 s of it when backed off) is not counted, rather than charged to one reading's window,
where a worker's seconds of start-up read as a CPU spike of several cores."""
IDLE_MAX_INTERVAL_S = 1.0
"""The period a run's sampler backs off to while the target's readings stay the same
(engine.target.session): a sample costs the driver's process up to a millisecond of GIL."""


def find_processes(name: str) -> list[int]:
    """Pids whose process name (or first command word's basename) equals ``name``."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmd = proc.info.get("cmdline") or []
        first = cmd[0].rsplit("/", 1)[-1] if cmd else ""
        if proc.info.get("name") == name or first == name:
            found.append(proc.pid)
    return found


@dataclass
class _Proc:
    """One process of the tree and its last cumulative counter readings."""

    proc: psutil.Process
    cpu_s: float
    read: int = 0
    write: int = 0
    ctx: int = 0


@dataclass
class _Tree:
    """Per-process bookkeeping that turns cumulative counters into tree totals."""

    procs: dict[tuple[int, float], _Proc] = field(default_factory=dict)
    cpu_s: float = 0.0
    read: int = 0
    write: int = 0
    ctx: int = 0


@dataclass
class _Reading:
    """One sample of the tree's gauges."""

    rss: int = 0
    threads: int = 0
    fds: int = 0
    conns: int = 0
    busy: int = 0
    """Processes whose CPU time moved since the last reading: only those add tick noise."""


class Sampler:
    """Sample a process tree (and the machine) at a fixed rate in a daemon thread.

    ``target`` is a pid, a sequence of pids, or a process name (resolved at start
    and again whenever no matching process is alive). ``interval_s`` > 0 is the
    sampling period (default 0.1 s = 10 Hz). ``t0`` is the ``time.monotonic()``
    instant that ``t_s`` counts from (default: when ``start`` is called).
    ``max_samples`` >= 16 bounds memory. ``max_interval_s`` (default: ``interval_s``, a
    fixed rate) lets the period double after each sample that saw nothing change (target
    CPU within the clock ticks' noise and 2 points, the same memory, threads, fds and
    connections: engine.target.backoff) up to that bound, and fall back to ``interval_s``
    at the first change: an idle target, or one under steady load, costs less.
    ``probe``: a machine-speed probe the thread runs at its start, every ``probe.every_s``
    and at its end (engine.target.speed_probe); read it after ``stop``.
    """

    def __init__(self, target: int | Sequence[int] | str, interval_s: float = 0.1, *,
                 t0: float | None = None, max_samples: int = 20_000,
                 max_interval_s: float | None = None, probe: SpeedProbe | None = None) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
        if max_samples < 16:
            raise ValueError(f"max_samples must be >= 16, got {max_samples!r}")
        self._name = target if isinstance(target, str) else None
        self._pids = [] if isinstance(target, str) else (
            [target] if isinstance(target, int) else list(target))
        self.interval_s = float(interval_s)
        self.max_interval_s = max(self.interval_s, float(max_interval_s or 0.0))
        self._period = self.interval_s
        self._last: Gauges | None = None
        self._last_busy = 0
        self._t0 = t0
        self._max = max_samples
        self._samples: list[ResourceSample] = []
        self._stride = 1
        self._tick = 0
        self._tree = _Tree()
        self._roots: list[psutil.Process] = []
        self._conns = 0
        self._cached: list[psutil.Process] = []
        self._known: Known = {}  # the listed descendants' psutil objects (proc_read.processes)
        self._listed_at = -math.inf
        self._kept = (0.0, 0.0)  # (monotonic time, tree CPU-seconds) of the last kept sample
        self._hot = HotThread()  # the busiest thread, over windows of at least 1 s
        self._net0 = (0, 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.probe = probe

    @property
    def t0_unix(self) -> float | None:
        """Unix time of ``t_s == 0`` (None before start), to align samples with a run's
        ``started_at``: see :func:`shift`."""
        if self._t0 is None:
            return None
        return time.time() - (time.monotonic() - self._t0)

    @property
    def samples(self) -> tuple[ResourceSample, ...]:
        """Samples so far (safe to call while running)."""
        with self._lock:
            return tuple(self._samples)

    def start(self) -> Sampler:
        """Take a first reading and begin sampling in the background; returns self."""
        if self._thread is not None:
            raise RuntimeError("Sampler already started")
        if self._t0 is None:
            self._t0 = time.monotonic()
        self._resolve()
        psutil.cpu_percent(interval=None)  # primes the machine-wide delta
        net = psutil.net_io_counters()
        self._net0 = (int(net.bytes_sent), int(net.bytes_recv)) if net else (0, 0)
        self._last_t = time.monotonic()
        self._visit(self._refresh_due())  # baseline readings so the first sample has a delta
        self._kept = (self._last_t, self._tree.cpu_s)
        self._hot.read(self._tree.procs, self._last_t)
        self._thread = threading.Thread(target=self._loop, name="perfopt-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> tuple[ResourceSample, ...]:
        """Stop sampling (takes at most one interval) and return every kept sample."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, 10 * self.interval_s))
        return self.samples

    def _resolve(self) -> None:
        pids = find_processes(self._name) if self._name is not None else self._pids
        roots = []
        for pid in pids:
            try:
                roots.append(psutil.Process(pid))
            except GONE:
                continue
        self._roots = roots
        self._cached = []

    def _loop(self) -> None:
        self._probe(final=False)
        next_at = time.monotonic() + self._period
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            with contextlib.suppress(Exception):  # a sampler must never take the run down
                self._sample_once()
            self._probe(final=False)
            next_at += self._period
            if next_at < time.monotonic():  # fell behind (suspended, overloaded): skip, don't burst
                next_at = time.monotonic() + self._period
        self._probe(final=True)

    def _probe(self, final: bool) -> None:
        """The machine-speed probe, when due (or at the end), off the driver's thread."""
        if self.probe is not None:
            with contextlib.suppress(Exception):
                if final:
                    self.probe.probe()
                else:
                    self.probe.maybe()

    def _adapt(self, cpu_pct: float, r: _Reading, wall_s: float | None = None) -> None:
        """Double the period while nothing changes (up to ``max_interval_s``); back to
        ``interval_s`` at the first change (``backoff.unchanged``). ``wall_s``: the window
        ``cpu_pct`` was measured over (default: the period)."""
        if self.max_interval_s <= self.interval_s:
            return
        now = (cpu_pct, r.rss, r.threads, r.fds, r.conns)
        same = unchanged(now, self._last, wall_s or self._period, max(r.busy, self._last_busy))
        self._last, self._last_busy = now, r.busy
        self._period = (min(self._period * 2, self.max_interval_s) if same
                        else self.interval_s)

    def _sample_once(self) -> None:
        refresh = self._refresh_due()  # a named target gone is looked for again then only
        if refresh and self._name is not None and not any(alive(p) for p in self._roots):
            self._resolve()
        now = time.monotonic()
        cpu_before = self._tree.cpu_s
        reading = self._visit(refresh)
        wall = max(now - self._last_t, 1e-9)
        self._last_t = now
        self._adapt(100.0 * (self._tree.cpu_s - cpu_before) / wall, reading, wall)
        self._tick += 1
        if self._tick % self._stride == 0:  # a kept reading covers the skipped ones' windows
            since, cpu_s = self._kept
            self._kept = (now, self._tree.cpu_s)
            kept_pct = 100.0 * (self._tree.cpu_s - cpu_s) / max(now - since, 1e-9)
            self._keep(self._build(now, kept_pct, reading, self._hot.read(self._tree.procs, now)))

    def _refresh_due(self) -> bool:
        """Time to re-list the children (and count connections off Linux): ``REFRESH_S``
        or ``REFRESH_SAMPLES`` periods since the last time, whichever is longer, less half
        a period so that jitter does not skip one; at once after ``_resolve``."""
        now = time.monotonic()
        every = max(REFRESH_S, REFRESH_SAMPLES * self._period) - self._period / 2
        due = not self._cached or now - self._listed_at >= every
        if due:
            self._listed_at = now
        return due

    def _members(self, refresh: bool) -> list[psutil.Process]:
        """The roots and their descendants, re-listed if ``refresh``: from the tree's own /proc
        files where Linux has them, else with psutil, which reads every process's."""
        if not refresh:
            return self._cached
        listed = self._proc_members() if LINUX else None
        self._cached = listed if listed is not None else self._psutil_members()
        return self._cached

    def _proc_members(self) -> list[psutil.Process] | None:
        """``proc_read.descendants`` of each root, their psutil objects reused from the last
        listing (``proc_read.processes``); None where the /proc files are not there."""
        members: dict[int, psutil.Process] = {}
        pids: list[int] = []
        for root in self._roots:
            kids = descendants(root.pid)
            if kids is None:
                return None
            if root.is_running():  # gone or its pid recycled: psutil's children() skips it too
                members[root.pid] = root
                pids.extend(kids)
        members.update((p.pid, p) for p in processes(pids, self._known))
        return list(members.values())

    def _psutil_members(self) -> list[psutil.Process]:
        """Off Linux, or without the /proc files: psutil reads /proc/<n>/stat of every process."""
        members: dict[int, psutil.Process] = {}
        for root in self._roots:
            try:
                kids = root.children(recursive=True)
            except GONE:
                continue
            members[root.pid] = root
            members.update((k.pid, k) for k in kids)
        return list(members.values())

    def _visit(self, refresh: bool) -> _Reading:
        """Read every live member (``refresh``: re-listed first); fold counter deltas into
        the tree totals."""
        reading = _Reading()
        count_conns = LINUX or refresh
        conns = 0
        seen: dict[tuple[int, float], _Proc] = {}
        members = self._members(refresh)
        for proc in members:
            try:
                with proc.oneshot():
                    reading.busy += self._fold(seen, proc_key(proc), proc)
                    reading.rss += int(proc.memory_info().rss)
                    reading.threads += int(proc.num_threads())
                    reading.fds += fds(proc)
                    conns += connections(proc) if count_conns else 0
            except GONE:
                continue
        self._tree.procs = seen
        if count_conns:
            self._conns = conns
        reading.conns = self._conns
        return reading

    def _fold(self, seen: dict[tuple[int, float], _Proc], key: tuple[int, float],
              proc: psutil.Process) -> bool:
        """Fold one process's counter deltas into the tree's; True if its CPU time moved.
        A newly seen process starts its deltas at zero (``REFRESH_S``)."""
        cpu, (rd, wr), ctx = cpu_time(proc), io_bytes(proc), ctx_switches(proc)
        prev = self._tree.procs.get(key)
        if prev is not None:
            t = self._tree
            t.cpu_s += max(0.0, cpu - prev.cpu_s)
            t.read += max(0, rd - prev.read)
            t.write += max(0, wr - prev.write)
            t.ctx += max(0, ctx - prev.ctx)
        seen[key] = _Proc(proc, cpu, rd, wr, ctx)
        return prev is not None and cpu > prev.cpu_s

    def _build(self, now: float, cpu_pct: float, r: _Reading,
               hot: float | None) -> ResourceSample:
        net = psutil.net_io_counters()
        sent = int(net.bytes_sent) - self._net0[0] if net else 0
        recv = int(net.bytes_recv) - self._net0[1] if net else 0
        t = self._tree
        return ResourceSample(
            t_s=now - (self._t0 or now), cpu_pct=cpu_pct, rss_bytes=r.rss, threads=r.threads,
            fds=r.fds, connections=r.conns, read_bytes=t.read, write_bytes=t.write,
            ctx_switches=t.ctx, sys_cpu_pct=float(psutil.cpu_percent(interval=None)),
            sys_mem_pct=float(psutil.virtual_memory().percent),
            net_sent_bytes=max(0, sent), net_recv_bytes=max(0, recv),
            hot_thread_pct=hot or 0.0, unknown=("hot_thread_pct",) if hot is None else (),
        )

    def _keep(self, sample: ResourceSample) -> None:
        with self._lock:
            self._samples.append(sample)
            if len(self._samples) >= self._max:
                # halve the series and the rate: memory stays bounded, spacing stays even,
                # and a kept CPU reading covers the dropped one's window (thinning.halve)
                self._samples = halve(self._samples)
                self._stride *= 2


def shift(samples: Sequence[ResourceSample], by_s: float) -> tuple[ResourceSample, ...]:
    """Samples with ``t_s - by_s``: e.g. ``by_s = run.started_at - sampler.t0_unix`` makes
    t_s count from the run's start (the sampler usually starts a little earlier)."""
    return tuple(dataclasses.replace(s, t_s=s.t_s - by_s) for s in samples)
