"""Drive stage: start managed targets, sample them, run the driver, always clean up.

``TargetSession`` owns a target's lifetime (start, readiness, stop even on
error or Ctrl-C); ``Executor`` runs one profile against a live session, with
the resource sampler around it and the abort-on-fail hook inside it.
"""

from __future__ import annotations

import dataclasses
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from engine.analysis.machine_speed import MACHINE_SPEED
from engine.driver import ProgressEvent, run_profile
from engine.driver.resolve import getaddrinfo_within
from engine.hotpath.native import Recorder
from engine.result import AbortCheck, RunInterval, RunResult
from engine.spec.model import LoadProfile, Spec, Target
from engine.target import pidfile
from engine.target.managed import ManagedTarget, StartConfig, StartInterrupted, TargetStartError
from engine.target.profiler import finish, profile_run
from engine.target.prom_resources import RESOURCE_NOTES, remote_resources
from engine.target.sampler import IDLE_MAX_INTERVAL_S, Sampler, shift
from engine.target.speed_probe import SpeedProbe

__all__ = ["ExecOptions", "Executor", "TargetSession", "TargetUnavailable", "restart",
           "target_session"]


class TargetUnavailable(Exception):
    """The target could not be started or reached: the run is INVALID (exit 3)."""

    def __init__(self, message: str, output_tail: str = "") -> None:
        super().__init__(message)
        self.output_tail = output_tail


@dataclass
class ExecOptions:
    """How runs are driven: progress callback, the Ctrl-C event, a wall-clock bound per run."""

    progress: Callable[[ProgressEvent], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    max_run_s: float | None = None


@dataclass
class TargetSession:
    """A live target: its URL, the pids to profile, and a managed process if apply started it."""

    target: Target
    managed: ManagedTarget | None = None
    pids: tuple[int, ...] = ()
    process_name: str | None = None

    def output_tail(self) -> str:
        return self.managed.output_tail() if self.managed else ""


def _start_config(target: Target) -> StartConfig:
    start = target.start
    assert start is not None
    host = urlsplit(target.url).hostname or "127.0.0.1"
    ready_url = f"{target.url}{start.ready.path}" if start.ready.path else None
    ready_tcp = (host, start.ready.tcp_port) if start.ready.tcp_port else None
    return StartConfig(start.command, dict(start.env), start.cwd, ready_url, ready_tcp,
                       start.ready.timeout_s, port=_listen_port(target.url),
                       pid_dir=pidfile.STATE_DIR)


def _listen_port(url: str) -> tuple[str, int] | None:
    """The (host, port) a started target will listen on: it must be free before the start."""
    if not url:
        return None
    parts = urlsplit(url)
    return (parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80))


@contextmanager
def target_session(target: Target, stop: threading.Event | None = None
                   ) -> Iterator[TargetSession]:
    """Start the target if the spec says how, check it answers, and always stop it.

    Setting ``stop`` while the target starts stops it and raises KeyboardInterrupt.
    """
    if target.start is None:
        preflight(target.url)
        yield _unmanaged(target)
        return
    pidfile.sweep(pidfile.STATE_DIR, _warn)  # what a killed apply left running
    managed = ManagedTarget(_start_config(target), stop=stop)
    _start(managed, "start")
    session = TargetSession(target, managed, (managed.pid,) if managed.pid else ())
    try:
        yield session
    finally:
        managed.stop()
        if session.managed is not None:  # restarted: the one running now
            session.managed.stop()


def restart(session: TargetSession, stop: threading.Event | None = None) -> None:
    """Stop a managed target and start the same command afresh (a new process, its caches
    cold, as at the session's start); an unmanaged target is left as it is. A failed start
    raises TargetUnavailable (the session's exit still stops what runs), a stop while
    starting KeyboardInterrupt, as ``target_session`` does."""
    if session.managed is None:
        return
    session.managed.stop()
    fresh = ManagedTarget(_start_config(session.target), stop=stop)
    session.managed, session.pids = fresh, ()  # set first: the session's exit stops it
    _start(fresh, "restart")
    session.pids = (fresh.pid,) if fresh.pid else ()


def _start(managed: ManagedTarget, what: str) -> None:
    """Start ``managed`` and print what could not be verified; a stop while it starts is a
    KeyboardInterrupt, a failed start TargetUnavailable ('target failed to {what}: ...'),
    each after stopping what was launched."""
    try:
        managed.start()
    except StartInterrupted:
        managed.stop()
        raise KeyboardInterrupt from None
    except TargetStartError as exc:
        managed.stop()
        raise TargetUnavailable(f"target failed to {what}: {exc.args[0] if exc.args else exc}",
                                exc.output_tail) from None
    for line in managed.warnings:
        _warn(line)


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _unmanaged(target: Target) -> TargetSession:
    if target.process and target.process.pid:
        return TargetSession(target, pids=(target.process.pid,))
    name = target.process.name if target.process else None
    return TargetSession(target, process_name=name)


def preflight(url: str, timeout_s: float = 2.0) -> None:
    """Raise TargetUnavailable unless a TCP connection to the target's host:port opens.

    The lookup and the connects share ``timeout_s``; each address is tried in turn."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + timeout_s
    try:
        infos = getaddrinfo_within(parts.hostname or "", port, timeout_s)
    except OSError as exc:
        raise TargetUnavailable(f"target unreachable: {url} ({_reason(exc)})") from None
    error: OSError = OSError(f"no address for {parts.hostname}")
    for family, kind, proto, _, addr in infos[:8]:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(left)
                sock.connect(addr)
                return
        except OSError as exc:
            error = exc
    raise TargetUnavailable(f"target unreachable: {url} ({_reason(error)})")


def _reason(exc: OSError) -> str:
    if isinstance(exc, TimeoutError) and not exc.strerror:
        return str(exc) or "timed out"
    return exc.strerror or str(exc) or type(exc).__name__


class Executor:
    """Runs profiles for one spec; every run is bounded and sampled."""

    def __init__(self, spec: Spec, options: ExecOptions) -> None:
        self.spec = spec
        self.options = options

    def run(self, session: TargetSession, profile: LoadProfile, variant: str = "",
            abort: AbortCheck | None = None) -> RunResult:
        """One driver run of ``profile`` against ``session`` with resource sampling."""
        sampler = self._sampler(session)
        profiler = profile_run(self.spec, session.pids, session.process_name, profile,
                               self.options.max_run_s)  # issue #21: None unless profiling: on
        hook = _AbortHook(abort) if abort else None
        try:
            run = run_profile(session.target.url, self.spec.journeys, profile, data=self.spec.data,
                              variant=variant, on_interval=hook.check if hook else None,
                              progress=self.options.progress, stop=self.options.stop,
                              max_duration_s=self.options.max_run_s,
                              tls=session.target.tls)
        finally:
            samples = sampler.stop() if sampler else ()
            folded = finish(profiler)
        if sampler is not None and sampler.t0_unix is not None:
            samples = shift(samples, run.started_at - sampler.t0_unix)  # t_s from the run's start
        if hook and hook.reason:  # the gate's reason says more than the driver's "by a check"
            run = dataclasses.replace(run, aborted=True, abort_reason=hook.reason)
        local = bool(samples)  # this host's samples: the probe ran beside them
        if not samples:  # a remote target: its Prometheus, when target.metrics names one
            remote = remote_resources(self.spec, session.target, run)
            samples = remote.samples
            if remote.notes:  # the drive stage makes them report messages
                run = dataclasses.replace(run, extra={**run.extra, RESOURCE_NOTES: remote.notes})
        speed = sampler.probe.summary() if local and sampler and sampler.probe else None
        if speed is not None:  # the machine's speed while it ran (engine.target.speed_probe)
            run = dataclasses.replace(run, extra={**run.extra, MACHINE_SPEED: speed})
        return dataclasses.replace(run, resources=samples, cpu_profile=folded)

    def _sampler(self, session: TargetSession) -> Sampler | None:
        """This host's sampler with the machine-speed probe; None for a target that is not
        a local process (a remote one: no probe either, as no host-load figure)."""
        target: int | tuple[int, ...] | str | None = session.pids or session.process_name
        if not target:
            return None
        return Sampler(target, max_interval_s=IDLE_MAX_INTERVAL_S, probe=SpeedProbe()).start()



@dataclass
class _AbortHook:
    check_fn: AbortCheck
    reason: str = ""

    def check(self, interval: RunInterval, recorder: Recorder) -> bool:
        elapsed = interval.start_s + interval.duration_s
        self.reason = self.reason or self.check_fn(recorder, elapsed)
        return bool(self.reason)

