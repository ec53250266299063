"""Name lookups that never outlast their bound.

``socket.getaddrinfo`` blocks for as long as the resolver takes (11 s and more
with a resolver that never answers), whatever timeout the caller meant.
``getaddrinfo_within`` runs it in a daemon thread and gives up after
``timeout_s``; the thread finishes on its own and never delays exit.
The driver's connects resolve with ``loop.getaddrinfo`` inside the connect's own
timeout (``engine.driver.http.open_connection``).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

__all__ = ["AddrInfo", "ResolveTimeout", "getaddrinfo_within", "literal_addresses"]

AddrInfo = tuple[Any, Any, int, str, tuple[Any, ...]]
"""One getaddrinfo answer: family, type, proto, canonname, sockaddr."""


class ResolveTimeout(TimeoutError):
    """The lookup did not answer within its bound."""


def literal_addresses(host: str, port: int) -> list[AddrInfo] | None:
    """The address of an IP literal without a lookup; None for a name."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]


def getaddrinfo_within(host: str, port: int | None, timeout_s: float) -> list[AddrInfo]:
    """``socket.getaddrinfo(host, port, type=SOCK_STREAM)`` bounded by ``timeout_s``.

    Raises ResolveTimeout after ``timeout_s`` and OSError (gaierror) as getaddrinfo does.
    """
    literal = literal_addresses(host, port or 0)
    if literal is not None:
        return literal
    box: list[list[AddrInfo] | OSError] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            box.append(list(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))
        except OSError as exc:
            box.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name="perfopt-resolve", daemon=True).start()
    if not done.wait(timeout_s):
        raise ResolveTimeout(f"DNS lookup of {host!r} timed out after {timeout_s:g}s")
    result = box[0]
    if isinstance(result, OSError):
        raise result
    return result
