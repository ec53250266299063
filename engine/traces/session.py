"""One spec's drive with tracing on: receiver up, traced spec driven, spans collected.

The drive runs a copy of the spec whose steps send ``traceparent`` and whose managed
targets export to the receiver (engine.traces.inject), which runs in its own process
(engine.traces.process); the ``Driven`` handed on carries
the spec as written and a ``TraceCapture``. Tracing never fails a drive: without the
``traces`` extra, or when the receiver cannot listen, the spec is driven as today and
the capture says why.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.plan import SpecPlan
from engine.records import Driven
from engine.spec.model_tracing import Tracing
from engine.traces.ids import new_nonce
from engine.traces.inject import advertised, traced_spec
from engine.traces.spans import Span

SETTLE_IDLE_S = 0.5
SETTLE_MAX_S = 6.0
"""After the drive, wait for late spans: until none came for SETTLE_IDLE_S, at most this."""
INSTALL = 'pip install "perfopt-engine[traces]"'


@dataclass(frozen=True)
class TraceCapture:
    """The spans of one traced drive, with the receiver's counters."""

    spans: tuple[Span, ...] = ()
    journeys: tuple[str, ...] = ()
    sample: float = 1.0
    stats: dict[str, float] = field(default_factory=dict)
    note: str = ""
    """Why there are no spans to analyse, when that is known (missing extra, no listen)."""


def traced_drive(plan: SpecPlan, tracing: Tracing,
                 drive: Callable[[SpecPlan], Driven]) -> Driven:
    """``drive`` the plan with tracing on; the Driven has the original spec and the capture."""
    names = tuple(j.name for j in plan.spec.journeys)
    from engine.traces.process import ReceiverProcess, ReceiverUnavailable

    try:
        receiver = ReceiverProcess(port=tracing.port, max_spans=tracing.max_spans,
                                   host=tracing.bind)
    except ReceiverUnavailable as e:
        note = (f"tracing is on but opentelemetry-proto is not installed ({INSTALL})"
                if e.missing else f"tracing: {e}")
        return dataclasses.replace(drive(plan), traces=TraceCapture(journeys=names, note=note))
    try:
        nonce = new_nonce()
        receiver.accept(nonce)
        endpoint = advertised(tracing.advertise, receiver.endpoint)
        spec = traced_spec(plan.spec, nonce, tracing.sample, endpoint)
        driven = drive(dataclasses.replace(plan, spec=spec))
        _settle(receiver.span_count)
        capture = TraceCapture(tuple(receiver.spans(nonce)), names, tracing.sample,
                               receiver.stats())
    finally:
        receiver.close()
    return dataclasses.replace(driven, spec=plan.spec, plan=plan, traces=capture)


def _settle(count: Callable[[], int]) -> None:
    """Wait (bounded) until no new span arrived for SETTLE_IDLE_S."""
    deadline = time.monotonic() + SETTLE_MAX_S
    last, quiet_since = count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = count()
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= SETTLE_IDLE_S:
            return
