# cython: language_level=3
"""engine._native: the hot path (clock, HDR histogram, recorder).

One extension module built from the .pxi parts beside this file.
"""
include "clock.pxi"
