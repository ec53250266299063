# cython: language_level=3
"""engine.hotpath._native: the hot path (clock, HDR histogram, recorder, traced request template,
connection, open-model scheduler).

One extension module built from the .pxi parts beside this file; _native.pxd declares the
C-level methods (Histogram.record_c, Recorder.record_c) for Cython callers; engine/hotpath/_native.pyi
documents the Python API; engine/hotpath/_pyhdr.py is the pure-Python twin.
"""
include "outcomes.pxi"
include "clock.pxi"
include "hdr.pxi"
include "recorder.pxi"
include "traceparent.pxi"
include "driver.pxi"
include "scheduler.pxi"
