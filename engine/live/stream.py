"""``--stream FILE|-``: one JSON object per closed interval, written and flushed as the run
goes, so a tail, jq or a log shipper can watch a long soak.

A line (keys in this order)::

    {"spec": "checkout", "profile": "baseline", "variant": "", "interval": 3,
     "start_s": 3.0, "duration_s": 1.0, "time": 1764451200.1, "target_rate": 50.0,
     "achieved_rate": 49.0, "requests": 49, "errors": 0,
     "journeys": {"lookup": {"requests": 49, "errors": 0, "achieved_rate": 49.0,
                             "p50_ms": 1.2, "p95_ms": 3.4, "p99_ms": 5.6}}}

The interval that closes as the load ends is written when the run finishes. Latencies are
milliseconds (null when nothing answered in the interval); rates are
requests/s; ``target_rate`` is null in the closed model. Every line goes through
engine.redact with the spec's secrets before it is written.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from engine.driver.progress import IntervalProgress, ProgressEvent, RunStarted
from engine.live.intervals import (
    IntervalNumbers,
    JourneyNumbers,
    closing_numbers,
    interval_numbers,
)
from engine.redact import redact


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1e3, 3)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def journey_doc(j: JourneyNumbers) -> dict[str, Any]:
    return {"requests": j.requests, "errors": j.errors, "achieved_rate": _rate(j.achieved_rate),
            "p50_ms": _ms(j.p50_s), "p95_ms": _ms(j.p95_s), "p99_ms": _ms(j.p99_s)}


def line_doc(spec: str, started: RunStarted | None, n: IntervalNumbers,
             now: float) -> dict[str, Any]:
    """The JSON object of one interval (see the module docstring)."""
    return {
        "spec": spec, "profile": started.profile if started else "",
        "variant": started.variant if started else "", "interval": n.index,
        "start_s": round(n.start_s, 3), "duration_s": round(n.duration_s, 3),
        "time": round(now, 3), "target_rate": _rate(n.target_rate),
        "achieved_rate": _rate(n.achieved_rate), "requests": n.requests, "errors": n.errors,
        "journeys": {j.name: journey_doc(j) for j in n.journeys},
    }


class IntervalStream:
    """Progress consumer writing one redacted JSON line per closed interval to ``out``."""

    def __init__(self, out: TextIO, secrets: Sequence[str] = (),
                 secret_values: Sequence[str] = ()) -> None:
        self.out, self.spec = out, ""
        self.secrets, self.secret_values = list(secrets), list(secret_values)
        self._started: RunStarted | None = None
        self._last = -1
        self.lines = 0

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, RunStarted):
            self._started, self._last = event, -1
        elif isinstance(event, IntervalProgress):
            numbers = interval_numbers(event)
            if numbers is not None:
                self._emit(numbers)
        else:
            for numbers in closing_numbers(event, self._last):
                self._emit(numbers)

    def _emit(self, numbers: IntervalNumbers) -> None:
        self._last = max(self._last, numbers.index)
        self._write(line_doc(self.spec, self._started, numbers, time.time()))

    def _write(self, doc: dict[str, Any]) -> None:
        clean = redact(doc, self.secrets, self.secret_values)
        self.out.write(json.dumps(clean, separators=(",", ":")) + "\n")
        self.out.flush()
        self.lines += 1

    def close(self) -> None:
        if self.out is not sys.stdout:
            self.out.close()


def open_stream(target: str) -> TextIO:
    """``-`` is stdout; anything else a file opened for writing (OSError if it cannot be)."""
    if target == "-":
        return sys.stdout
    return open(target, "w", encoding="utf-8")  # closed by IntervalStream.close
