"""Trace ids the engine can read back: which run (nonce), journey and step sent a request.

Layout of the 16-byte trace id (32 hex digits), W3C ``traceparent`` version 00::

    nonce (4 bytes) | journey index (2) | step index (1) | 0 (1) | sequence (4) | salt (4)

The first 16 hex digits are fixed per run, journey and step (``prefix``); the driver fills
in the rest per request (engine.driver.templates): the salt is drawn once per compiled
template (worker), the parent span id is salt and sequence.
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

MAX_JOURNEYS = 0xFFFF
MAX_STEPS = 0xFF


class TraceOrigin(NamedTuple):
    """What a trace id says about the request that started it."""

    nonce: int
    journey: int
    step: int


def new_nonce() -> int:
    """A random, non-zero 32-bit run nonce."""
    return secrets.randbits(32) or 1


def prefix(nonce: int, journey: int, step: int) -> str:
    """The first 16 hex digits of every trace id of ``journey``'s ``step`` in the run."""
    if not (0 <= journey <= MAX_JOURNEYS and 0 <= step <= MAX_STEPS):
        raise ValueError(f"trace ids hold at most {MAX_JOURNEYS + 1} journeys of "
                         f"{MAX_STEPS + 1} steps; got journey {journey}, step {step}")
    return f"{nonce & 0xFFFFFFFF:08x}{journey:04x}{step:02x}00"


def origin(trace_id: bytes) -> TraceOrigin:
    """Decode a 16-byte trace id made from ``prefix``."""
    return TraceOrigin(int.from_bytes(trace_id[0:4], "big"),
                       int.from_bytes(trace_id[4:6], "big"), trace_id[6])


def nonce_of(trace_id: bytes) -> int:
    return int.from_bytes(trace_id[0:4], "big")
