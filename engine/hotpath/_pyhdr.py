"""Pure-Python twin of engine.hotpath._native: HDR Histogram, Recorder, TraceTemplate,
monotonic_ns, outcome codes.

Same API and same results as the Cython module (one test suite runs against both); used when
the extension is missing or PERFOPT_PURE=1. See engine/hotpath/_native.pyi for the documented API.
The histogram lives in ``_pyhistogram``, the recorder in ``_pyrecorder``, the traced request
template in ``_pytrace``; this module is the
twin's one face, exporting what ``_native`` exports.
"""

from __future__ import annotations

from engine.hotpath._pyhistogram import Histogram, monotonic_ns
from engine.hotpath._pyrecorder import Recorder
from engine.hotpath._pytrace import TraceTemplate
from engine.hotpath.snapshot import (
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
)

__all__ = [
    "CHECK", "CONNECT", "DROPPED", "N_OUTCOMES", "OK", "OUTCOME_NAMES", "PROTOCOL", "READ",
    "STATUS_1XX", "STATUS_2XX", "STATUS_3XX", "STATUS_4XX", "STATUS_5XX", "TIMEOUT", "WRITE",
    "Histogram", "Recorder", "TraceTemplate", "monotonic_ns",
]
