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

__all__ = ["PortInUse", "check_port_free", "die_with_parent", "port_owner"]

PR_SET_PDEATHSIG = 1
_MAX_CMD = 160


class PortInUse(Exception):
    """The port a managed target should listen on is already taken."""


def check_port_free(host: str, port: int) -> None:
    """Raise PortInUse (``port N is in use by pid P (cmd)``) unless ``host:port`` is free."""
    if not _accepts(host, port) and not _bind_refused(host, port):
        return
    owner = port_owner(port)
    raise PortInUse(f"port {port} is in use{owner}")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _bind_refused(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for family, kind, proto, _, addr in infos[:2]:
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


def _cmdline(pid: int) -> str:
    try:
        proc = psutil.Process(pid)
        text = " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        return "command line unknown"
    return text if len(text) <= _MAX_CMD else text[:_MAX_CMD - 3] + "..."


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn setting PR_SET_PDEATHSIG=SIGKILL (Linux); None where unsupported.

    Linux sends the signal when the *thread* that started the child exits, so start
    managed targets from the main thread (apply does).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def preexec() -> None:
        with contextlib.suppress(Exception):
            prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # apply died between fork and prctl
            os._exit(1)

    return preexec
