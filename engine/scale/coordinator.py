"""run_on_cluster: one profile driven by the generator hosts of a Dask cluster.

The coordinator (this process) connects to the scheduler, picks the generator hosts,
measures their clocks, sends each its slice (engine.scale.plan) as a task pinned to it,
waits until every host's workers are ready, announces one start instant (in each host's
own clock), then merges the hosts' closed intervals, interval by interval, for progress
and abort checks (engine.driver.interval_merge), turns Ctrl-C, an abort or the max
duration into a stop for every host, and watches the scheduler's worker list: a host that
disappears is lost ("generator node-b lost at 12.3 s") and the run is INVALID with what
the others measured.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Sequence
from typing import Any

from engine.driver.assemble import RunInfo, merge_states
from engine.driver.interval_merge import IntervalMerge
from engine.driver.progress import RunFinished, RunStarted
from engine.driver.run import (
    HARD_STOP_GRACE_S,
    ParentArgs,
    ParentHooks,
    portable_journey,
    tls_trust,
)
from engine.driver.shapes import Shape
from engine.result import RunResult
from engine.scale import cluster
from engine.scale.errors import ClusterUnavailable
from engine.scale.host import run_host
from engine.scale.merge import HostOutcome, merge_hosts, rebase
from engine.scale.plan import Host, HostPlan, firsts, workers_per_host
from engine.spec.model import DataFile, Journey, LoadProfile, TlsSettings

READY_TIMEOUT_S = 60.0
"""Hosts get this long to start their worker processes and say ready."""
START_LEAD_S = 0.3
"""The agreed start is this far after the announcement, so every host hears it in time."""
KILL_AFTER_S = 10.0
"""A host still running this long after the planned end (plus the request timeout) is lost."""
WATCH_S = 0.5
"""How often the scheduler's worker list is read to notice a lost host."""
POLL_S = 0.05


def run_on_cluster(target_url: str, journeys: Sequence[Journey], profile: LoadProfile,
                   shape: Shape, data: Sequence[DataFile], variant: str,
                   args: ParentArgs, tls: TlsSettings | None = None) -> RunResult:
    """Drive ``profile`` from the cluster's generator hosts; the merged RunResult.

    Raises ClusterUnavailable (before any load) when the scheduler cannot be reached within
    the profile's connect timeout, has too few generator hosts, or a host fails to start."""
    ex = profile.settings.execution
    address = cluster.scheduler_address(ex.scheduler)
    client = cluster.connect(address, profile.settings.connect_timeout_s)
    try:
        hosts = cluster.measure(client, cluster.pick_hosts(
            cluster.generator_workers(client), ex.nodes, address))
        counts = workers_per_host(hosts, ex.workers_per_node, profile.settings.workers)
        info = RunInfo(profile, variant, target_url, shape, sum(counts), time.time(), 0,
                       tuple(journeys))  # the journeys name the hosts' per-step details
        run = _Run(client, address, info, hosts, counts, args)
        return run.drive(_plans(run.run_id, info, hosts, counts, tuple(journeys), tuple(data),
                                args.max_duration_s, tls))
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=2)


def _plans(run_id: str, info: RunInfo, hosts: Sequence[Host], counts: Sequence[int],
           journeys: tuple[Journey, ...], data: tuple[DataFile, ...],
           max_duration_s: float | None, tls: TlsSettings | None = None) -> list[HostPlan]:
    verify, ca_file = tls_trust(tls)  # the CA file's path must hold on every host too
    portable = tuple(portable_journey(j) for j in journeys)
    p = info.profile
    return [HostPlan(run_id, h.name, first, n, sum(counts), info.target_url, portable, data,
                     info.shape, p.settings, p.think_time_s, verify, max_duration_s,
                     READY_TIMEOUT_S, ca_file, p.think)
            for h, first, n in zip(hosts, firsts(counts), counts, strict=True)]


class _Run:
    """The coordinator's state for one run."""

    def __init__(self, client: Any, address: str, info: RunInfo, hosts: Sequence[Host],
                 counts: Sequence[int], args: ParentArgs) -> None:
        self.client, self.address, self.info, self.args = client, address, info, args
        self.hosts, self.counts = list(hosts), list(counts)
        self.run_id = uuid.uuid4().hex[:12]
        self.channels = cluster.Channels(self.run_id, client)
        self.futures: dict[str, Any] = {}
        self.lost: dict[str, str] = {}
        self.merge = IntervalMerge([h.name for h in hosts])
        self.abort = ""
        self.hooks = ParentHooks(info, args.on_interval, args.progress, args.stop,
                                 args.max_duration_s)

    def drive(self, plans: Sequence[HostPlan]) -> RunResult:
        self._progress_started()
        try:
            for h, plan in zip(self.hosts, plans, strict=True):
                self.futures[h.name] = self.client.submit(
                    run_host, plan, key=f"perfopt-host-{self.run_id}-{h.name}",
                    workers=[h.address], allow_other_workers=False,
                    resources={cluster.RESOURCE: 1}, pure=False, retries=0)
            self._await_ready()
            self._announce_start()
            self._follow()
        except (OSError, TimeoutError) as exc:  # the scheduler went away: no host can report
            raise ClusterUnavailable(f"lost the dask scheduler {self.address}: "
                                     f"{type(exc).__name__}: {exc}") from None
        finally:
            with contextlib.suppress(Exception):
                self.channels.stop.set()  # Ctrl-C, an error, or done: every host stops
            for f in self.futures.values():
                if not f.done():
                    with contextlib.suppress(Exception):
                        f.cancel()
        try:
            return self._result()
        finally:
            self.channels.release()

    def _progress_started(self) -> None:
        if self.args.progress is None:
            return
        shape, is_open = self.info.shape, self.info.shape.model == "open"
        self.args.progress(RunStarted(
            self.info.profile.name, shape.model, self.info.target_url, shape.duration_s,
            shape.mean_level() if is_open else None, self.info.workers, self.info.variant,
            peak_rate=shape.peak() if is_open else None))

    def _await_ready(self) -> None:
        waiting = set(self.futures)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while waiting:
            if time.monotonic() > deadline:
                raise ClusterUnavailable(f"generator host(s) {', '.join(sorted(waiting))} not "
                                         f"ready within {READY_TIMEOUT_S:.0f} s")
            with contextlib.suppress(TimeoutError):
                waiting.discard(str(self.channels.ready.get(timeout=0.5)))
            for name in sorted(waiting):
                failed = self._failure(name)
                if failed:
                    raise ClusterUnavailable(f"generator {name} {failed} before the start")
            if self.args.stop is not None and self.args.stop.is_set():
                raise KeyboardInterrupt

    def _failure(self, name: str) -> str:
        f = self.futures[name]
        if f.status == "error":
            return f"failed: {f.exception()}"
        if f.status == "cancelled":
            return "was cancelled"
        addr = next(h.address for h in self.hosts if h.name == name)
        return "" if addr in cluster.alive(self.client) else "lost"

    def _announce_start(self) -> None:
        wall = time.time_ns() + int(START_LEAD_S * 1e9)
        start_ns = time.monotonic_ns() + (wall - time.time_ns())
        self.info = dataclasses.replace(self.info, started_at=wall / 1e9, start_ns=start_ns)
        self.hooks.started(self.info)
        self.channels.start.set({h.name: wall + h.offset_ns for h in self.hosts})

    def _follow(self) -> None:
        s = self.info.profile.settings
        end_s = self.info.shape.duration_s + s.timeout_s + HARD_STOP_GRACE_S + KILL_AFTER_S
        if self.args.max_duration_s is not None:
            end_s = min(end_s, self.args.max_duration_s + HARD_STOP_GRACE_S + KILL_AFTER_S)
        kill_ns = self.info.start_ns + int(end_s * 1e9)
        pending, watched = set(self.futures), 0.0
        while pending and time.monotonic_ns() < kill_ns:
            time.sleep(POLL_S)
            self._intervals()
            if not self.abort:
                self._stop_if(self.hooks.stop_requested())
            pending = {n for n in pending if not self.futures[n].done()}
            if time.monotonic() - watched >= WATCH_S:
                watched = time.monotonic()
                self._watch(pending)
                pending -= set(self.lost)
        for name in pending:
            self.lost[name] = f"did not report within {KILL_AFTER_S:.0f} s after the planned end"

    def _watch(self, pending: set[str]) -> None:
        alive = cluster.alive(self.client)
        for h in self.hosts:
            if h.name in pending and h.address not in alive:
                at = (time.monotonic_ns() - self.info.start_ns) / 1e9
                self.lost[h.name] = f"lost at {at:.1f} s"

    def _intervals(self) -> None:
        """Each interval every live host has closed, merged, to progress and the abort
        check in index order (engine.driver.interval_merge)."""
        for name, state in self.channels.intervals.get(batch=True) or ():
            self.merge.add(name, state)
        for name in self.lost:
            self.merge.lose(name)
        for _, states in self.merge.ready():
            if self.abort:
                return
            rec = merge_states([rebase(st, self.info.start_ns) for st in states])
            self._stop_if(self.hooks.interval(rec))

    def _stop_if(self, reason: str) -> None:
        if reason:
            self.abort = reason
            self.channels.stop.set()

    def _result(self) -> RunResult:
        outcomes = []
        for h, n in zip(self.hosts, self.counts, strict=True):
            lost = self.lost.get(h.name) or self._failure(h.name)
            report = None if lost else self.futures[h.name].result()
            outcomes.append(HostOutcome(h, n, report, lost))
        extra = {"execution": {"engine": "dask", "scheduler": self.address,
                               "nodes": len(self.hosts), "run_id": self.run_id}}
        result = merge_hosts(self.info, outcomes, self.abort, extra)
        if self.args.progress is not None:
            self.args.progress(RunFinished(
                result.profile, result.requests, result.errors, result.duration_s,
                result.aborted, result.validity.valid, result.validity.reasons,
                result.intervals, tuple(j.name for j in result.journeys)))
        return result
