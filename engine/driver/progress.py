"""Progress events of a run, and the one renderer that prints them (used by the CLI).

The driver only emits events (frozen dataclasses) through a callback; ``ProgressPrinter``
turns them into a live line on a terminal (rewritten in place), plain periodic lines otherwise, or
nothing when quiet. It writes to the stream it was given and nowhere else.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from engine.redact import redact
from engine.result import RunInterval


@dataclass(frozen=True)
class RunStarted:
    profile: str
    model: str
    target_url: str
    duration_s: float
    """Planned load duration, seconds."""
    target_rate: float | None
    """Mean planned arrival rate, requests/s (None in the closed model)."""
    workers: int
    variant: str = ""
    """Which side of an experiment or which stress/capacity step ('' for the spec's run)."""
    peak_rate: float | None = None
    """Highest planned arrival rate (a spike's peak); None in the closed model."""

    def rate_text(self) -> str:
        """' at 80/s', or for a shaped run ' at 84/s mean, peaking at 500/s'."""
        if self.target_rate is None:
            return ""
        peak = self.peak_rate
        if peak is None or peak <= self.target_rate * 1.05:
            return f" at {self.target_rate:.0f}/s"
        return f" at {self.target_rate:.0f}/s mean, peaking at {peak:.0f}/s"


@dataclass(frozen=True)
class IntervalProgress:
    """One closed interval: rates in requests/s, latencies in seconds (None if no answers)."""

    index: int
    elapsed_s: float
    remaining_s: float
    target_rate: float | None
    achieved_rate: float
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    requests: int
    errors: int
    interval: RunInterval | None = None
    """The closed interval itself (per-journey histograms and outcomes), for live consumers
    (engine/live: --stream, --metrics-port); they decode it, the driver does not."""
    journeys: tuple[str, ...] = ()
    """Journey names in the order of ``interval.response`` and ``interval.outcomes``."""


@dataclass(frozen=True)
class RunFinished:
    profile: str
    requests: int
    errors: int
    duration_s: float
    aborted: bool
    valid: bool
    reasons: tuple[str, ...]
    intervals: tuple[RunInterval, ...] = ()
    """Every closed interval of the run: the last one closes as the load ends, after the
    last IntervalProgress, so live consumers (engine/live) take the rest from here."""
    journeys: tuple[str, ...] = ()
    """Journey names in the order of each interval's ``response`` and ``outcomes``."""


ProgressEvent = RunStarted | IntervalProgress | RunFinished


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1e3:.1f}ms"


def interval_line(e: IntervalProgress) -> str:
    """One-line summary of an interval (shared by the live and the plain renderer)."""
    rate = f"{e.achieved_rate:.0f}/s"
    if e.target_rate is not None:
        rate += f" of {e.target_rate:.0f}/s"
    return (f"{e.elapsed_s:6.1f}s  left {e.remaining_s:5.1f}s  {rate}  p50 {_ms(e.p50_s)}  "
            f"p95 {_ms(e.p95_s)}  p99 {_ms(e.p99_s)}  errors {e.errors}/{e.requests}")


class ProgressPrinter:
    """Callable renderer: ``printer(event)``. ``every_s`` spaces plain lines (non-TTY)."""

    def __init__(self, stream: TextIO, quiet: bool = False, tty: bool | None = None,
                 every_s: float = 5.0, secrets: Sequence[str] = (),
                 secret_values: Sequence[str] = ()) -> None:
        self.stream, self.quiet, self.every_s = stream, quiet, every_s
        self.secrets, self.secret_values = tuple(secrets), tuple(secret_values)
        """Names and literal values (engine.spec.secrets) no printed line shows."""
        self.tty = stream.isatty() if tty is None else tty
        self._live: Any = None
        self._last_plain = -1e9

    def __call__(self, event: ProgressEvent) -> None:
        if self.quiet:
            return
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, IntervalProgress):
            self._interval(event)
        else:
            self._finished(event)

    def _started(self, e: RunStarted) -> None:
        label = f"{e.profile} [{e.variant}]" if e.variant else e.profile
        self._write(f"run {label}: {e.model} model{e.rate_text()} for {e.duration_s:.0f}s -> "
                    f"{redact(e.target_url)} ({e.workers} worker{'s' if e.workers != 1 else ''})")
        if self.tty:
            self._live = _live_line(self.stream)

    def _interval(self, e: IntervalProgress) -> None:
        line = interval_line(e)
        if self._live is not None:
            self._live.update(line)
        elif not self.tty and e.elapsed_s - self._last_plain >= self.every_s:
            self._last_plain = e.elapsed_s
            self._write(line)

    def _finished(self, e: RunFinished) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        state = "aborted" if e.aborted else "done"
        verdict = "valid" if e.valid else "INVALID: " + "; ".join(e.reasons)
        self._write(f"run {e.profile} {state}: {e.requests} requests, {e.errors} errors in "
                    f"{e.duration_s:.1f}s ({verdict})")

    def _write(self, line: str) -> None:
        line = redact(line, self.secrets, self.secret_values)
        self.stream.write(line + "\n")
        self.stream.flush()


class _LiveLine:
    """A single status line rewritten in place: a carriage return, the line cut to the
    terminal's width, erase to the end of the line; erased when the run ends. One write per
    interval: rich's Live did the same at ~3 ms of CPU a refresh, 0.3% of a core at one
    refresh a second, a sixth of the open model's idle budget (#20)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._shown = False

    def update(self, line: str) -> None:
        self.stream.write("\r" + line[:max(20, _columns(self.stream) - 1)] + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def stop(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _columns(stream: TextIO) -> int:
    """The terminal's width (asked each time: it may be resized), 100 when unknown."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return 100


def _live_line(stream: TextIO) -> _LiveLine:
    return _LiveLine(stream)
