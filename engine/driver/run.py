"""run_profile: the driver's public entry point (one profile against one target)."""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from engine.driver.assemble import (
    RunInfo,
    build_result,
    interval_progress,
    merge_states,
    run_interval,
)
from engine.driver.catalog import compile_catalog
from engine.driver.progress import ProgressEvent, RunFinished, RunStarted
from engine.driver.resolve import ResolveTimeout, getaddrinfo_within
from engine.driver.runtime import OPEN_STOP_CHECK_S, WorkerPlan, endpoint, run_worker
from engine.driver.shapes import Shape, shape_of
from engine.driver.templates import load_data
from engine.driver.worker import Processes
from engine.hotpath.native import Recorder
from engine.result import RunInterval, RunResult
from engine.spec.model import DataFile, Journey, LoadProfile, TlsSettings

START_DELAY_S = 0.05
"""Time between planning and the first arrival, so every worker starts on the same clock."""
HARD_STOP_GRACE_S = 1.0

OnInterval = Callable[[RunInterval, Recorder], bool]
Progress = Callable[[ProgressEvent], None]


class ParentHooks:
    """The caller's callbacks: progress, on_interval (abort), stop event, max duration."""

    stop_poll_s = OPEN_STOP_CHECK_S
    """Ctrl-C and the maximum run time are seen within 0.5 s (the run ends within 2 s of a
    signal: docs/RELIABILITY.md)."""

    def __init__(self, info: RunInfo, on_interval: OnInterval | None,
                 progress: Progress | None, stop: threading.Event | None,
                 max_duration_s: float | None) -> None:
        self.on_interval, self.progress, self.stop = on_interval, progress, stop
        self.max_duration_s = max_duration_s
        self.started(info)

    def started(self, info: RunInfo) -> None:
        """The run's start is known (``info.start_ns``): the max-duration deadline runs from it."""
        self.info = info
        self.deadline_ns = (info.start_ns + int(self.max_duration_s * 1e9)
                            if self.max_duration_s is not None else None)

    def interval(self, recorder: Recorder) -> str:
        snap = recorder.last_interval()
        if snap is None:
            return ""
        ri = run_interval(snap, self.info)
        if self.progress is not None:
            self.progress(interval_progress(ri, self.info, recorder.journeys))
        if self.on_interval is not None and self.on_interval(ri, recorder):
            return f"aborted by a check at interval {ri.index}"
        return ""

    def stop_requested(self) -> str:
        if self.stop is not None and self.stop.is_set():
            return "interrupted"
        if self.deadline_ns is not None and time.monotonic_ns() >= self.deadline_ns:
            return "maximum run duration reached"
        return ""


def run_profile(target_url: str, journeys: Sequence[Journey], profile: LoadProfile, *,
                data: Sequence[DataFile] = (), variant: str = "",
                on_interval: OnInterval | None = None,
                progress: Progress | None = None,
                stop: threading.Event | None = None,
                max_duration_s: float | None = None,
                tls: TlsSettings | None = None) -> RunResult:
    """Drive ``profile``'s load at ``target_url`` with ``journeys``; return what was measured.

    Open model (arrival rate) or closed (virtual users) follows from the profile's shape.
    ``on_interval`` runs in the caller's process after each closed interval (True aborts);
    ``stop`` set (Ctrl-C) stops with a 1 s grace; ``max_duration_s`` bounds the run (s).
    Raises ValueError for a bad URL, template, data file or shape, or a non-loopback
    target when PERFOPT_LOOPBACK_ONLY=1.
    """
    s = profile.settings
    check_target(target_url, s.connect_timeout_s)
    shape = shape_of(profile)
    if shape.duration_s <= 0:
        raise ValueError(f"profile {profile.name!r}: expected a duration > 0")
    ep = endpoint(target_url, s.connect_timeout_s, True)
    compile_catalog(journeys, load_data(data), ep.host_header)  # fail early, in the caller
    if s.execution.engine == "dask":  # the generator hosts of a Dask cluster (engine.scale)
        from engine.scale.coordinator import run_on_cluster
        return run_on_cluster(target_url, journeys, profile, shape, data, variant,
                              ParentArgs(on_interval, progress, stop, max_duration_s), tls)
    workers = s.workers if s.workers > 0 else (os.cpu_count() or 1)
    info = RunInfo(profile, variant, target_url, shape, workers, time.time(), 0, tuple(journeys))
    verify, ca_file = tls_trust(tls)
    portable = tuple(portable_journey(j) for j in journeys)

    def plan(i: int, start_ns: int) -> WorkerPlan:
        hard = start_ns + int((shape.duration_s + s.timeout_s + HARD_STOP_GRACE_S) * 1e9)
        if max_duration_s is not None:
            hard = min(hard, start_ns + int(max_duration_s * 1e9))
        return WorkerPlan(i, workers, target_url, portable, tuple(data), shape, s,
                          start_ns, hard, verify, think_s=profile.think_time_s, ca_file=ca_file,
                          think=profile.think)

    return _execute(info, plan, ParentArgs(on_interval, progress, stop, max_duration_s))


def tls_trust(tls: TlsSettings | None) -> tuple[bool, str | None]:
    """(verify, CA file) for an https target from run_profile's ``tls`` (the target's);
    PERFOPT_TLS_VERIFY=0 turns verification off whatever the spec says."""
    verify = os.environ.get("PERFOPT_TLS_VERIFY", "1") != "0" and (tls is None or tls.verify)
    return verify, tls.ca_file if tls is not None else None


def portable_journey(j: Journey) -> Journey:
    """The journey with plain-dict headers: MappingProxyType cannot cross to a worker."""
    steps = tuple(replace(r, headers=dict(r.headers), tags=dict(r.tags)) for r in j.steps)
    return replace(j, steps=steps, location=None, tags=dict(j.tags))


class ParentArgs:
    def __init__(self, on_interval: OnInterval | None, progress: Progress | None,
                 stop: threading.Event | None, max_duration_s: float | None) -> None:
        self.on_interval, self.progress = on_interval, progress
        self.stop, self.max_duration_s = stop, max_duration_s


def _execute(info: RunInfo, plan: Callable[[int, int], WorkerPlan],
             args: ParentArgs) -> RunResult:
    if args.progress is not None:
        args.progress(_started(info))
    hooks = ParentHooks(info, args.on_interval, args.progress, args.stop, args.max_duration_s)

    def make(i: int) -> WorkerPlan:
        if i == 0:  # all plans share the start chosen when the workers are ready
            hooks.started(_with_start(info, time.monotonic_ns() + int(START_DELAY_S * 1e9)))
        return plan(i, hooks.info.start_ns)

    if info.workers == 1:
        reports, abort = [run_worker(make(0), hooks)], ""
    else:
        reports, abort = Processes(info.workers, hooks, merge_states).run(make)
    info = hooks.info
    result = build_result(info, reports, info.profile.settings.rate_tolerance, abort)
    if args.progress is not None:
        args.progress(RunFinished(result.profile, result.requests, result.errors,
                                  result.duration_s, result.aborted, result.validity.valid,
                                  result.validity.reasons, result.intervals,
                                  tuple(j.name for j in result.journeys)))
    return result


def _with_start(info: RunInfo, start_ns: int) -> RunInfo:
    return RunInfo(info.profile, info.variant, info.target_url, info.shape, info.workers,
                   time.time() + (start_ns - time.monotonic_ns()) / 1e9, start_ns,
                   info.journeys)


def _started(info: RunInfo) -> RunStarted:
    shape: Shape = info.shape
    is_open = shape.model == "open"
    return RunStarted(info.profile.name, shape.model, info.target_url, shape.duration_s,
                      shape.mean_level() if is_open else None, info.workers, info.variant,
                      peak_rate=shape.peak() if is_open else None)


def check_target(url: str, timeout_s: float = 2.0) -> None:
    """With PERFOPT_LOOPBACK_ONLY=1, refuse (ValueError) a target that is not loopback.

    A name is looked up within ``timeout_s``; one that does not resolve in time is refused."""
    if os.environ.get("PERFOPT_LOOPBACK_ONLY") != "1":
        return
    host = urlsplit(url).hostname or ""
    try:
        loopback = _is_loopback(host, timeout_s)
    except ResolveTimeout as exc:
        raise ValueError(f"target {url!r}: {exc}") from None
    if not loopback:
        raise ValueError(f"target {url!r}: PERFOPT_LOOPBACK_ONLY=1 allows only loopback "
                         "hosts (127.0.0.0/8, ::1, localhost)")


def _is_loopback(host: str, timeout_s: float) -> bool:
    """True if every address of ``host`` is loopback; the lookup is bounded by ``timeout_s``."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = getaddrinfo_within(host, None, timeout_s)
    except ResolveTimeout:
        raise
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)
