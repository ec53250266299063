"""Managed targets: start a command, wait until it is ready, always stop it.

:class:`ManagedTarget` runs the command in its own session (so a terminal's
Ctrl-C reaches only the engine, which then stops the target in order), keeps
the last lines of its combined stdout/stderr without ever blocking it, and
stops the whole process tree on exit, error, KeyboardInterrupt or interpreter
shutdown (atexit). The tree includes children that detached into their own session:
they carry the target's ``PERFOPT_TARGET_ID`` and, apply being a child subreaper on
Linux, re-parent to apply. Once ready, the port must be answered by that tree.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import urlsplit

import psutil

from engine.target import pidfile
from engine.target.procguard import (
    MARKER,
    PortInUse,
    become_subreaper,
    check_port_free,
    describe,
    die_with_parent,
    listener_pids,
    marked,
)

POLL_S = 0.05  # readiness poll interval
PROBE_TIMEOUT_S = 1.0  # one readiness probe (connect + response)
TERM_GRACE_S = 3.0  # SIGTERM -> SIGKILL
INTERRUPT_GRACE_S = 1.0  # SIGTERM -> SIGKILL when the user interrupted apply
KILL_WAIT_S = 2.0  # after SIGKILL: bound on waiting for the exit (a process in D state)
TAIL_LINES = 40
_MAX_LINE = 8192  # a line longer than this is split; bounds memory per line


@dataclass(frozen=True)
class StartConfig:
    """How to start and probe a target.

    ``env`` is merged over ``os.environ``. ``ready_url`` is ready on any 2xx/3xx
    answer to GET; ``ready_tcp`` on an accepted connection; with neither, the
    target counts as ready once launched. ``ready_timeout_s`` > 0 seconds.
    """

    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    ready_url: str | None = None
    ready_tcp: tuple[str, int] | None = None
    ready_timeout_s: float = 30.0
    port: tuple[str, int] | None = None
    """The (host, port) the target will listen on; it must be free before the start,
    and once ready, answered by the started process tree."""
    pid_dir: str | None = None
    """Folder for the target's pid file (``engine.target.pidfile``); None: no pid file."""

    def __post_init__(self) -> None:
        if not self.command:
            raise ValueError("target start command must not be empty")
        if not self.ready_timeout_s > 0:
            raise ValueError(f"ready_timeout_s must be > 0, got {self.ready_timeout_s}")
        if self.ready_url is not None and urlsplit(self.ready_url).scheme not in ("http", "https"):
            raise ValueError(f"ready_url must be an http(s) URL, got {self.ready_url!r}")


class TargetStartError(Exception):
    """The target could not be started or never became ready.

    ``output_tail`` holds its last lines of stdout+stderr; ``exit_code`` is set
    when the process died (negative = killed by that signal).
    """

    def __init__(self, message: str, output_tail: str = "", exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.output_tail = output_tail
        self.exit_code = exit_code

    def __str__(self) -> str:
        if not self.output_tail:
            return self.message
        return f"{self.message}\n--- target output (last lines) ---\n{self.output_tail}"


class StartInterrupted(TargetStartError):
    """The stop event was set while the target was starting; it has been stopped."""


class _Tail:
    """Reads a pipe in a daemon thread into a bounded deque of lines."""

    def __init__(self, pipe: IO[bytes], keep: int) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        self.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self.thread.start()

    def _pump(self, pipe: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError), pipe:
            for raw in iter(lambda: pipe.readline(_MAX_LINE), b""):
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def text(self, n: int) -> str:
        return "\n".join(list(self.lines)[-n:])


def _probe_http(url: str) -> bool:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "127.0.0.1", parts.port, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        return 200 <= conn.getresponse().status < 400
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _probe_tcp(addr: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(addr, timeout=PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


_LIVE: set[ManagedTarget] = set()


@atexit.register
def _stop_all() -> None:
    for target in list(_LIVE):
        target.stop()


class ManagedTarget:
    """A started target process; use as a context manager.

    ``with ManagedTarget(cfg) as t:`` starts and waits for readiness (raising
    :class:`TargetStartError`), and stops the process tree on leaving.
    """

    def __init__(self, config: StartConfig, tail_lines: int = TAIL_LINES,
                 stop: threading.Event | None = None) -> None:
        self.config = config
        self.tail_lines = tail_lines
        self.stop_event = stop or threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tail: _Tail | None = None
        self._lock = threading.Lock()
        self.marker = f"{os.getpid()}-{uuid.uuid4().hex[:16]}"
        self._pidfile: Path | None = None
        self.warnings: list[str] = []
        """What could not be verified while starting (the caller prints them)."""

    @property
    def pid(self) -> int | None:
        """Process id of the started command, None before start()."""
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        """Exit code once it has exited (negative = signal), else None."""
        return self._proc.poll() if self._proc else None

    def output_tail(self, lines: int | None = None) -> str:
        """The last ``lines`` (default: tail_lines) lines of stdout+stderr."""
        return self._tail.text(lines or self.tail_lines) if self._tail else ""

    def start(self) -> None:
        """Launch and wait until ready; on any failure the process is stopped."""
        if self._proc is not None:
            raise RuntimeError("target already started")
        if self.config.port is not None:
            try:
                check_port_free(*self.config.port)
            except PortInUse as exc:
                raise TargetStartError(str(exc)) from None
        self._launch()
        try:
            self._wait_ready()
            self._verify_owner()
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        cfg = self.config
        become_subreaper()  # a child that detaches (double fork) re-parents to apply
        try:
            self._proc = subprocess.Popen(
                cfg.command, env={**os.environ, **cfg.env, MARKER: self.marker}, cwd=cfg.cwd,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: we signal the group
                preexec_fn=die_with_parent(),  # dies with apply, even on kill -9
            )
        except OSError as exc:
            raise TargetStartError(f"cannot start target {cfg.command[0]!r}: {exc}") from None
        _LIVE.add(self)
        assert self._proc.stdout is not None
        self._tail = _Tail(self._proc.stdout, max(self.tail_lines, 1))
        if cfg.pid_dir is not None:
            with contextlib.suppress(psutil.Error):
                self._pidfile = pidfile.write(cfg.pid_dir, psutil.Process(self._proc.pid),
                                              self.marker, cfg.command)

    def tree(self) -> list[psutil.Process]:
        """The target's processes but the started one: its descendants, and those that
        detached yet carry its marker (re-parented to apply, the subreaper)."""
        if self._proc is None:
            return []
        found = {p.pid: p for p in _descendants(self._proc.pid)}
        skip = {*found, self._proc.pid}
        for p in marked(self.marker, [p for p in _descendants(os.getpid()) if p.pid not in skip]):
            found[p.pid] = p
        return list(found.values())

    def _verify_owner(self) -> None:
        """Once ready, the target's port must be answered by the started tree, never by
        another server (one that took the port after the check, a leftover)."""
        cfg, proc = self.config, self._proc
        if cfg.port is None or proc is None or (cfg.ready_url is None and cfg.ready_tcp is None):
            return
        ours = {proc.pid, *(p.pid for p in self.tree())}
        listening = listener_pids(*cfg.port)
        if not listening:  # never a silent pass: say the ownership was not proven
            why = "the listening sockets cannot be listed here" if listening is None \
                else "no listening socket on it is visible"
            self.warnings.append(f"warning: could not verify that port {cfg.port[1]} is "
                                 f"answered by the started target ({why})")
            return
        foreign = [pid for pid in listening if pid not in ours]
        if foreign:
            raise self._error(f"port {cfg.port[1]} is answered by {describe(foreign[0])}, not "
                              "by the started target; apply measures only a server it started",
                              None)

    def _ready(self) -> bool:
        cfg = self.config
        if cfg.ready_url is not None and not _probe_http(cfg.ready_url):
            return False
        return cfg.ready_tcp is None or _probe_tcp(cfg.ready_tcp)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.config.ready_timeout_s
        while True:
            if self.stop_event.is_set():
                raise StartInterrupted("interrupted while waiting for the target to be ready")
            code = self._proc.poll()
            if code is not None:
                raise self._error(f"target exited with code {code} before it was ready", code)
            if self._ready() and self._proc.poll() is None:
                return
            if time.monotonic() >= deadline:
                what = self.config.ready_url or self.config.ready_tcp
                raise self._error(
                    f"target not ready after {self.config.ready_timeout_s:g} s "
                    f"(waiting for {what})", None)
            self.stop_event.wait(POLL_S)

    def _error(self, message: str, code: int | None) -> TargetStartError:
        if self._tail is not None:
            self._tail.thread.join(timeout=0.5 if code is not None else 0)
        return TargetStartError(message, self.output_tail(), code)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL what is left after 3 s (1 s once the stop
        event is set: the user is waiting; at once on a KeyboardInterrupt meanwhile, a
        second Ctrl-C). Idempotent."""
        grace = INTERRUPT_GRACE_S if self.stop_event.is_set() else TERM_GRACE_S
        with self._lock:
            proc = self._proc
            if proc is None or self not in _LIVE:
                return
            tree = self.tree()
            try:
                _terminate(proc, tree, grace)
            finally:  # also on KeyboardInterrupt: nothing is left behind
                _kill(proc, tree + self.tree())
                _LIVE.discard(self)
                pidfile.remove(self._pidfile)
        if self._tail is not None:
            self._tail.thread.join(timeout=1.0)

    def __enter__(self) -> ManagedTarget:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _terminate(proc: subprocess.Popen[bytes], tree: list[psutil.Process], grace: float) -> None:
    _signal_group(proc.pid, signal.SIGTERM)
    _signal_each(tree, signal.SIGTERM)  # children that left the group (setsid)
    deadline = time.monotonic() + grace
    # Not proc.wait(timeout): on a KeyboardInterrupt it waits another 0.25 s for the child
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_S / 5)
    _wait_gone(tree, deadline)


def _kill(proc: subprocess.Popen[bytes], tree: list[psutil.Process]) -> None:
    _signal_group(proc.pid, signal.SIGKILL)
    _signal_each(tree, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_WAIT_S)
    with contextlib.suppress(psutil.Error, OSError):  # reaps the ones re-parented to apply
        psutil.wait_procs(tree, timeout=0.2)


def _wait_gone(tree: list[psutil.Process], deadline: float) -> None:
    while any(_alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(POLL_S / 5)


def _alive(p: psutil.Process) -> bool:
    # Orphans become zombies until init reaps them, which some containers'
    # init does late; a zombie holds no resources, so it counts as gone.
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal_each(tree: list[psutil.Process], sig: signal.Signals) -> None:
    for p in tree:  # psutil checks the process identity, so a reused pid is safe
        with contextlib.suppress(psutil.Error):
            p.send_signal(sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group outlives its leader while members remain; ESRCH means all gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
