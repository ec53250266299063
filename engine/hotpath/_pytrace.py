"""Pure-Python twin of engine.hotpath._native.TraceTemplate (ext/traceparent.pxi): a request
whose only varying part is its W3C traceparent, written per request with the context's next
sequence number. Same bytes as the native one for the same arguments, seed and context."""

from __future__ import annotations

from typing import Any

from engine.hotpath.traceparent import UNIT, check_args, next_seq, splitmix64, value


class TraceTemplate:
    """``before`` + traceparent value + ``after``; sampled at ``rate`` (no draw at >= 1)."""

    __slots__ = ("_after", "_always", "_before", "_prefix", "_rate", "_salt", "_state", "ctx")

    def __init__(self, before: bytes, after: bytes, prefix: str, rate: float, salt: int,
                 seed: int) -> None:
        check_args(before, after, prefix, rate, salt, seed)
        self._before, self._after, self._prefix = before, after, prefix
        self._rate, self._always, self._salt, self._state = float(rate), rate >= 1.0, salt, seed
        self.ctx: Any = None

    @property
    def rng_state(self) -> int:
        return self._state

    def render(self, ctx: Any) -> bytes:
        seq = next_seq(ctx)
        sampled = self._always or self._draw() < self._rate
        return b"".join((self._before, value(self._prefix, seq, self._salt, sampled).encode(),
                         self._after))

    def next_request(self) -> bytes:
        return self.render(self.ctx)

    def _draw(self) -> float:
        self._state, out = splitmix64(self._state)
        return (out >> 11) * UNIT
