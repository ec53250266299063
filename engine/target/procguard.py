"""OS guards for managed targets: is the port free (and who holds it), die with apply.

``check_port_free`` refuses to start a target whose port already answers, naming
the process that holds it where psutil can tell, so apply never measures a server
it did not start. ``die_with_parent`` returns a ``preexec_fn`` that asks Linux to
SIGKILL the child when apply dies (even by ``kill -9``); elsewhere it returns None.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
import sys
from collections.abc import Callable

import psutil

from engine.driver.resolve import AddrInfo, getaddrinfo_within

__all__ = [
    "MARKER",
    "PortInUse",
    "become_subreaper",
    "check_port_free",
    "describe",
    "die_with_parent",
    "listener_pids",
    "marked",
    "port_owner",
]

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
MARKER = "PERFOPT_TARGET_ID"
"""Environment variable set in a managed target; its descendants inherit it, so a child
that detached into its own session is still recognised as the target's."""
_MAX_CMD = 160


class PortInUse(Exception):
    """The port a managed target should listen on is already taken."""


def check_port_free(host: str, port: int, timeout_s: float = 2.0) -> None:
    """Raise PortInUse (``port N is in use by pid P (cmd)``) unless ``host:port`` is free.

    The host's lookup is bounded by ``timeout_s``; a host that does not resolve is left to
    the readiness wait (nothing can listen there for us either)."""
    try:
        infos = getaddrinfo_within(host, port, timeout_s)[:2]
    except OSError:
        return
    if not _accepts(infos) and not _bind_refused(infos):
        return
    owner = port_owner(port)
    raise PortInUse(f"port {port} is in use{owner}")


def _accepts(infos: list[AddrInfo]) -> bool:
    for family, kind, proto, _, addr in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(0.5)
            try:
                sock.connect(addr)
                return True
            except OSError:
                continue
    return False


def _bind_refused(infos: list[AddrInfo]) -> bool:
    for family, kind, proto, _, addr in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(addr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


def port_owner(port: int) -> str:
    """`` by pid N (command line)`` for the process listening on ``port``, or ''."""
    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.Error, OSError):
        return ""
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port \
                and conn.pid:
            return f" by pid {conn.pid} ({_cmdline(conn.pid)})"
    return ""


def listener_pids(host: str, port: int) -> list[int | None] | None:
    """Pids listening on ``port`` at ``host``'s addresses or a wildcard (a None pid: its
    owner is not visible); None when the sockets cannot be listed at all."""
    try:
        addresses = {i[4][0] for i in getaddrinfo_within(host, port, 2.0)}
        conns = psutil.net_connections(kind="inet")
    except (psutil.Error, OSError):
        return None
    addresses |= {"0.0.0.0", "::"}
    return [c.pid for c in conns if c.status == psutil.CONN_LISTEN and c.laddr
            and c.laddr.port == port and c.laddr.ip in addresses]


def marked(marker: str, procs: list[psutil.Process]) -> list[psutil.Process]:
    """The processes among ``procs`` whose environment carries ``MARKER=marker``."""
    found = []
    for p in procs:
        with contextlib.suppress(psutil.Error, OSError):
            if p.environ().get(MARKER) == marker:
                found.append(p)
    return found


def describe(pid: int | None) -> str:
    """``pid N (command line)``, or ``a process apply cannot see``."""
    return f"pid {pid} ({_cmdline(pid)})" if pid else "a process apply cannot see"


def _cmdline(pid: int) -> str:
    try:
        proc = psutil.Process(pid)
        text = " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        return "command line unknown"
    return text if len(text) <= _MAX_CMD else text[:_MAX_CMD - 3] + "..."


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def become_subreaper() -> bool:
    """Make this process a child subreaper (Linux): descendants orphaned by a double fork
    re-parent to apply instead of init, so the target's stop still finds them."""
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn setting PR_SET_PDEATHSIG=SIGKILL (Linux); None where unsupported.

    Linux sends the signal when the *thread* that started the child exits, so start
    managed targets from the main thread (apply does).
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        with contextlib.suppress(Exception):
            prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # apply died between fork and prctl
            os._exit(1)

    return preexec
