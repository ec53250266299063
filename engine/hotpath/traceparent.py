"""The driver's W3C ``traceparent`` value and its per-request sampling draw, shared by both
twins of TraceTemplate (ext/traceparent.pxi and engine.hotpath._pytrace) and by the general
template path (engine.driver.templates), so the format lives here once.

Value, 55 characters: ``00-{prefix}{seq:08x}{salt:08x}-{salt:08x}{seq:08x}-{01|00}``:
the trace id is the 16 hex digits PREFIX (engine.traces.ids: run, journey, step), the
request's sequence number (low 32 bits) and a salt; the parent span id is salt and
sequence; flags 01 when sampled. The sampling draw is splitmix64: both twins draw the same
numbers from the same seed, so they write the same bytes.
"""

from __future__ import annotations

import math
import re
from typing import Any, Protocol

LENGTH = 55
"""Characters of a traceparent value (version 00)."""
SEQ_AT = (19, 44)
"""Offsets of the sequence number's 8 hex digits in the value (trace id, parent id)."""
FLAG_AT = 54
"""Offset of the last flags digit: 1 sampled, 0 not."""
MASK64 = 0xFFFFFFFFFFFFFFFF
_GAMMA = 0x9E3779B97F4A7C15
UNIT = 1.0 / (1 << 53)
"""A draw is (splitmix64 output >> 11) * UNIT, in [0, 1); sampled when below the rate."""
_PREFIX = re.compile(r"[0-9a-f]{16}")


def value(prefix: str, seq: int, salt: int, sampled: bool) -> str:
    """The traceparent value of request ``seq``."""
    s = f"{seq & 0xFFFFFFFF:08x}"
    return f"00-{prefix}{s}{salt:08x}-{salt:08x}{s}-{'01' if sampled else '00'}"


def splitmix64(state: int) -> tuple[int, int]:
    """(next state, output) of splitmix64 from ``state``."""
    state = (state + _GAMMA) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def check_args(before: Any, after: Any, prefix: Any, rate: Any, salt: Any, seed: Any) -> None:
    """ValueError/TypeError naming the bad argument of a TraceTemplate."""
    if not isinstance(before, bytes) or not isinstance(after, bytes):
        raise TypeError("TraceTemplate: before and after must be bytes")
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(f"TraceTemplate: prefix {prefix!r}: expected 16 lower-case hex digits")
    if not isinstance(rate, (int, float)) or math.isnan(rate) or rate < 0:
        raise ValueError(f"TraceTemplate: rate {rate!r}: expected a number >= 0")
    if not isinstance(salt, int) or not 0 <= salt <= 0xFFFFFFFF:
        raise ValueError(f"TraceTemplate: salt {salt!r}: expected a 32-bit unsigned integer")
    if not isinstance(seed, int) or not 0 <= seed <= MASK64:
        raise ValueError(f"TraceTemplate: seed {seed!r}: expected a 64-bit unsigned integer")


class SeqSource(Protocol):
    """What a template reads and advances per request: engine.driver.templates.RenderContext
    (the first request takes ``seq_start``, each next one adds ``seq_step``)."""

    seq: int
    seq_start: int
    seq_step: int


class RequestSource(Protocol):
    """Something a connection can ask for its next request's bytes (closed-loop repeat, the
    open model's one-request fast path): a TraceTemplate bound to its context."""

    def next_request(self) -> bytes: ...


def next_seq(ctx: SeqSource) -> int:
    """Advance ``ctx`` to its next sequence number and return it (RenderContext.begin's rule)."""
    seq = ctx.seq
    seq = ctx.seq_start if seq < 0 else seq + ctx.seq_step
    ctx.seq = seq
    return seq


class TracedRequest(RequestSource, Protocol):
    """A TraceTemplate (either twin): ``render(ctx)`` advances ``ctx``'s sequence and writes
    that request; ``next_request()`` renders with the context it was bound to (``ctx``)."""

    ctx: Any

    def render(self, ctx: Any) -> bytes: ...
