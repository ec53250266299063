"""engine.hotpath._native: the Cython hot path (engine.hotpath._pyhdr is its pure-Python twin, same API).

Values are integer nanoseconds by convention. A histogram records values in [0, highest];
a negative value is counted in ``underflow_count``, one above ``highest`` in
``overflow_count``; neither raises. Values below ``lowest`` are recorded at the finest
resolution, 2**floor(log2(lowest)) (512 ns at the default 1 µs).
"""

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from engine.hotpath.snapshot import IntervalSnapshot

OK: int
STATUS_1XX: int
STATUS_2XX: int
STATUS_3XX: int
STATUS_4XX: int
STATUS_5XX: int
CONNECT: int
READ: int
WRITE: int
TIMEOUT: int
PROTOCOL: int
DROPPED: int
CHECK: int
N_OUTCOMES: int
OUTCOME_NAMES: tuple[str, ...]
__all__: list[str]

def monotonic_ns() -> int:
    """Monotonic clock (CLOCK_MONOTONIC) in integer nanoseconds."""

class Histogram:
    """Log-linear HDR histogram, HdrHistogram-compatible layout and V2 encoding."""

    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __init__(self, lowest: int = 1_000, highest: int = 3_600_000_000_000,
                 significant_digits: int = 3) -> None:
        """lowest >= 1; 2*lowest <= highest <= 2**53; significant_digits in 1..5."""
    @property
    def lowest(self) -> int: ...
    @property
    def highest(self) -> int: ...
    @property
    def significant_digits(self) -> int: ...
    def record(self, value: int, count: int = 1) -> bool:
        """Add ``count`` >= 1 of ``value``; False if out of range (counted) or count < 1."""
    def record_corrected(self, value: int, expected_interval: int, count: int = 1) -> bool:
        """HdrHistogram recordValueWithExpectedInterval: also value - k*interval, k >= 1,
        while >= interval. Cost is O(buckets touched), not O(value / interval)."""
    def record_many(self, values: npt.NDArray[Any]) -> int:
        """Record an integer array; returns the number in range. TypeError for floats."""
    def add(self, other: Histogram) -> None:
        """Merge ``other``; a different config is re-recorded by bucket lowest value."""
    def value_at_percentile(self, percentile: float) -> int:
        """percentile in [0, 100] (ValueError otherwise); highest equivalent value of the
        bucket holding sample rank ceil(p/100*total), clamped to [min, max]; 0 when empty;
        p == 0 gives min."""
    def values_at_percentiles(self, percentiles: Sequence[float]) -> list[int]:
        """value_at_percentile for each percentile, in one pass over the counts."""
    @property
    def total_count(self) -> int: ...
    @property
    def underflow_count(self) -> int: ...
    @property
    def overflow_count(self) -> int: ...
    @property
    def min(self) -> int: ...
    @property
    def max(self) -> int: ...
    @property
    def mean(self) -> float: ...
    @property
    def stdev(self) -> float: ...
    @property
    def relative_error(self) -> float:
        """1 / 2**(sub-bucket half-count magnitude) (1/1024 at 3 digits): the largest bucket
        width relative to its lowest value, for values >= 2**unit_magnitude * half count
        (524_288 ns at defaults); below that the error is absolute, < 2**unit_magnitude."""
    @property
    def memory_bytes(self) -> int: ...
    def reset(self) -> None: ...
    def copy(self) -> Histogram: ...
    def counts(self) -> npt.NDArray[np.int64]: ...
    def recorded(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
    def lowest_equivalent(self, value: int) -> int: ...
    def highest_equivalent(self, value: int) -> int: ...
    def encode(self) -> str:
        """Base64 compressed V2 histoblob ("HISTF..."); excludes out-of-range counts."""
    @classmethod
    def decode(cls, data: str | bytes) -> Histogram:
        """Inverse of encode (reads any HdrHistogram V2 blob); ValueError if invalid."""
    def _set_out_of_range(self, underflow: int, overflow: int) -> None: ...
    def __eq__(self, other: object) -> bool: ...

class Recorder:
    """Per-journey response/service histograms, outcome counters, interval snapshots."""

    def __init__(self, journeys: Sequence[str], start_ns: int,
                 interval_ns: int = 1_000_000_000, lowest: int = 1_000,
                 highest: int = 3_600_000_000_000, significant_digits: int = 3) -> None: ...
    @property
    def journeys(self) -> tuple[str, ...]: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def interval_ns(self) -> int: ...
    @property
    def invalid_count(self) -> int:
        """Calls ignored for a bad journey index, outcome code or absurd timestamp."""
    def record(self, journey: int, intended_ns: int, sent_ns: int, done_ns: int,
               outcome: int) -> None:
        """Count outcome; record done-intended and done-sent unless CONNECT/DROPPED."""
    def record_dropped(self, journey: int, intended_ns: int) -> None: ...
    def tick(self, now_ns: int) -> None: ...
    def finish(self, end_ns: int) -> None: ...
    def response(self, journey: int) -> Histogram: ...
    def service(self, journey: int) -> Histogram: ...
    def outcomes(self, journey: int) -> list[int]: ...
    def intervals(self) -> list[IntervalSnapshot]: ...
    def last_interval(self) -> IntervalSnapshot | None: ...
    def merge(self, other: Recorder) -> None: ...
    def to_state(self) -> dict[str, Any]: ...
    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Recorder: ...


class TraceTemplate:
    """A request whose only varying part is its W3C ``traceparent`` (engine.driver.templates
    builds one for a traced static step): ``before`` + the value + ``after``, the value as
    engine.hotpath.traceparent.value writes it. Each request takes its context's next
    sequence number (``seq_start`` first, then ``+ seq_step``, as RenderContext.begin does)
    and is sampled at ``rate`` by a splitmix64 draw from ``seed``; at ``rate`` >= 1 there is
    no draw. The twin engine.hotpath._pytrace.TraceTemplate writes the same bytes.
    ValueError/TypeError for a prefix that is not 16 lower-case hex digits, a negative or NaN
    rate, a salt beyond 32 bits or a seed beyond 64 bits."""

    ctx: Any
    """The context ``next_request`` renders with (its ``seq`` is advanced); set by the catalog."""

    def __init__(self, before: bytes, after: bytes, prefix: str, rate: float, salt: int,
                 seed: int) -> None: ...
    @property
    def rng_state(self) -> int:
        """The sampling draw's splitmix64 state (unchanged at rate >= 1)."""
    def render(self, ctx: Any) -> bytes:
        """Advance ``ctx.seq`` and return that request's bytes."""
    def next_request(self) -> bytes:
        """``render(self.ctx)``."""


class CConnection:
    """One keep-alive HTTP/1.1 client connection, an ``asyncio.Protocol`` (the native twin of
    ``engine.driver.http.Connection``; the driver picks one with ``connection_factory``).

    ``send`` writes a request; when the response ends (or the connection fails) the outcome
    and timings go to the native ``Recorder`` as a C call, and ``owner.released(conn,
    reusable)`` hears it, unless ``rejoin`` gave it the idle list to go back to itself
    (``owner.lost(conn)`` when the transport closes). ``recorder`` must be the native Recorder.
    """

    recorder: Recorder
    owner: Any
    timings: Any
    transport: Any
    parser: Any
    st: bytes | None
    """Server-Timing header value(s) of the response in flight, joined with commas."""
    location: bytes | None
    """The Location header of the response in flight (redirects)."""
    statuses: Any
    """Shared per-journey status counters (array('q'), engine.driver.http.STATUS_SLOTS
    per journey; slot 0 counts redirect hops followed), or None."""
    busy: bool
    framed: bool
    headers_done: bool
    journey: int
    step: int
    status: int
    intended: int
    """Intended send time of the request in flight (ns, monotonic)."""
    sent: int
    """Actual send time of the request in flight (ns, monotonic)."""

    def __init__(self, recorder: Recorder, owner: Any, timings: Any = None,
                 statuses: Any = None) -> None: ...
    @property
    def expect(self) -> tuple[int, ...]:
        """The request in flight's status map: the outcome code for each status 0..599."""
    def connection_made(self, transport: Any) -> None: ...
    def data_received(self, data: bytes) -> None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...
    def pause_writing(self) -> None: ...
    def resume_writing(self) -> None: ...
    def eof_received(self) -> None: ...
    def on_header(self, name: bytes, value: bytes) -> None: ...
    def on_headers_complete(self) -> None: ...
    def on_message_complete(self) -> None: ...
    def send(self, data: bytes, journey: int, step: int, intended_ns: int,
             expect: tuple[int, ...], head: bool, follow: bytes | None = None,
             max_hops: int = 10) -> None:
        """Write one request (``expect``: its status map, ``head``: a HEAD request); its
        outcome is recorded when it ends. ``follow`` is the Host header to follow up to
        ``max_hops`` same-origin redirects with (None: a 3xx is the answer); a followed
        chain is recorded as one request."""
    def expire(self, deadline_sent_ns: int) -> bool:
        """Record TIMEOUT and abort if the request in flight was sent before the deadline."""
    def repeat(self, data: bytes | TraceTemplate | None) -> None:
        """Closed-loop fast path: after each answer, send ``data`` again at once (same
        journey, step and expectations) without calling the owner; None turns it off. A
        TraceTemplate (bound to its context) writes each request anew."""
    def rejoin(self, idle: list[Any] | None, queue: Any) -> None:
        """Open model, single-step journeys: after an answer a reusable connection appends
        itself to ``idle`` when ``queue`` is empty, without calling ``owner.released``;
        ``rejoin(None, None)`` calls the owner again (the pool is closing)."""
    def close(self) -> None:
        """Drop the connection without recording anything (end of run)."""


class CScheduler:
    """The open model's send loop (the native twin of ``engine.driver.pool.Scheduler``; the
    driver picks one with ``engine.driver.pool.make_scheduler``).

    Walks ``shape``'s arrival schedule (``engine.driver.shapes.arrivals``, same arithmetic)
    and sends each request through ``pool`` at its intended time, woken by a timerfd it
    creates and re-arms itself; each dispatch's lateness (from its own intended time) goes
    to ``lag``. Wake-ups are at least ``window_ns`` apart and each also sends what is due
    within ``window_ns / 2`` after it (timed from the wake-up, lateness 0), so every send
    leaves within half a window of its intended time. OSError when no timerfd can be created.
    """

    loop: Any
    pool: Any
    start_ns: int
    next_ns: int
    """Intended time of the next send (ns, monotonic)."""
    lag_max_ns: int
    dispatched: int
    window_ns: int
    """Minimum spacing of wake-ups (ns): the batching window."""
    wakeups: int
    """Timer wake-ups so far."""
    finished: bool

    def __init__(self, loop: Any, pool: Any, shape: Any, start_ns: int, phase: float,
                 lag: Histogram, window_ns: int = 0) -> None: ...
    def start(self) -> None:
        """Arm the timer for the first arrival."""
    def stop(self) -> None:
        """Stop sending and close the timer (idempotent)."""
