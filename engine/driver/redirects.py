"""Redirects: the next hop's request for a same-origin Location (shared by both Connection
twins; redirects are rare, so there is no C copy). Another origin is not followed: the 3xx
is the answer, and the origin is noted in CROSS_ORIGIN for the run's report."""

from __future__ import annotations


def redirect_path(location: bytes, host: bytes) -> bytes | None:
    """The path to request for a same-origin ``Location`` (relative, or absolute with the
    same host:port as ``host``); None for another origin, which is not followed."""
    if location.startswith(b"/") and not location.startswith(b"//"):
        return location
    for scheme in (b"http://", b"https://"):
        if location[:len(scheme)].lower() == scheme:
            authority, _, path = location[len(scheme):].partition(b"/")
            return b"/" + path if authority.lower() == host.lower() else None
    return None


def head_location(raw: bytes) -> bytes | None:
    """The Location header in a response head's raw bytes (connections that parse without
    header callbacks keep them for this); None when there is none."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"location":
            return value.strip()
    return None


CROSS_ORIGIN: set[str] = set()
"""Origins of redirects this process did not follow (another host): a run's report says so."""
MAX_CROSS_ORIGIN = 8


def redirect_request(location: bytes, host: bytes) -> bytes | None:
    """The GET for the next hop of a redirect to ``location`` on ``host`` (the Host header);
    None for another origin. Shared by both Connection twins (redirects are rare)."""
    path = redirect_path(location, host)
    if path is None:
        if len(CROSS_ORIGIN) < MAX_CROSS_ORIGIN:
            scheme, _, rest = location.partition(b"://")
            CROSS_ORIGIN.add((scheme + b"://" + rest.split(b"/", 1)[0]).decode("latin-1")[:100])
        return None
    return (b"GET " + path + b" HTTP/1.1\r\nHost: " + host
            + b"\r\nUser-Agent: perfopt-engine\r\n\r\n")
