"""Selector for the hot-path classes: the Cython engine.hotpath._native, or the pure-Python twin.

Import Histogram, Recorder, TraceTemplate, monotonic_ns and the outcome codes from here. PERFOPT_PURE=1
forces the pure twin (engine.hotpath._pyhdr); otherwise the native module is used when it was built,
and the pure twin when it was not (the test suite fails in that case, see tests/conftest.py).
Both twins have the API documented in engine/hotpath/_native.pyi.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

from engine.hotpath.snapshot import IntervalSnapshot

_API = (
    "CHECK", "CONNECT", "DROPPED", "N_OUTCOMES", "OK", "OUTCOME_NAMES", "PROTOCOL", "READ", "STATUS_1XX",
    "STATUS_2XX", "STATUS_3XX", "STATUS_4XX", "STATUS_5XX", "TIMEOUT", "WRITE", "Histogram",
    "Recorder", "TraceTemplate", "monotonic_ns",
)
_MEMBERS = (("CConnection", "rejoin"),)
"""Methods added since the first build: an extension built before them counts as not built
(the pool would call what it lacks in a task nobody awaits, and lose those requests)."""


PURE_ENV = "PERFOPT_PURE"
"""Set to 1 to force the pure-Python twins of the whole hot path (histogram, recorder and
the driver's connection); the one switch, read by :func:`pure_requested`."""


def pure_requested() -> bool:
    """True when PERFOPT_PURE=1 asks for the pure-Python twins."""
    return os.environ.get(PURE_ENV) == "1"


def _select() -> tuple[ModuleType, str]:
    if not pure_requested():
        try:
            native = importlib.import_module("engine.hotpath._native")
        except ImportError:
            native = None
        # an extension built before the histogram (or a newer method) existed counts as not built
        if native is not None and all(hasattr(native, name) for name in _API) and all(
                hasattr(getattr(native, cls, None), name) for cls, name in _MEMBERS):
            return native, "c"
    return importlib.import_module("engine.hotpath._pyhdr"), "py"


if TYPE_CHECKING:
    from engine.hotpath._native import (
        CHECK,
        CONNECT,
        DROPPED,
        N_OUTCOMES,
        OK,
        OUTCOME_NAMES,
        PROTOCOL,
        READ,
        STATUS_1XX,
        STATUS_2XX,
        STATUS_3XX,
        STATUS_4XX,
        STATUS_5XX,
        TIMEOUT,
        WRITE,
        Histogram,
        Recorder,
        TraceTemplate,
        monotonic_ns,
    )

    IMPLEMENTATION: str
else:
    _impl, IMPLEMENTATION = _select()
    globals().update({name: getattr(_impl, name) for name in _API})

__all__ = [
    "CHECK", "CONNECT", "DROPPED", "IMPLEMENTATION", "N_OUTCOMES", "OK", "OUTCOME_NAMES", "PROTOCOL",
    "READ", "STATUS_1XX", "STATUS_2XX", "STATUS_3XX", "STATUS_4XX", "STATUS_5XX", "TIMEOUT",
    "WRITE", "Histogram", "IntervalSnapshot", "Recorder", "TraceTemplate", "count_above",
    "monotonic_ns",
]


def count_above(hist: Histogram, threshold_ns: float) -> int:
    """Recorded values above ``threshold_ns`` (bucket resolution): requests slower than an
    objective, dispatches later than the lag limit."""
    if not hist.total_count:
        return 0
    values, counts = hist.recorded()
    return int(counts[values > threshold_ns].sum())
