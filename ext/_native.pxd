# cython: language_level=3
"""C-level declarations of engine.hotpath._native, so Cython code (e.g. a driver part included in
_native.pyx, or another module cimporting this one) calls the hot path without Python calls.

Histogram.record_c and Recorder.record_c never raise. Histogram.record_c allocates nothing;
Recorder.record_c allocates only when a completion closes an interval (snapshot encoding,
once per interval_ns), see Recorder.roll_c.
"""

cimport cython
from libc.stdint cimport int64_t


@cython.final
cdef class Histogram:
    cdef int64_t* _counts
    cdef Py_ssize_t _counts_len
    cdef int64_t _lowest, _highest, _total, _under, _over, _min, _max
    cdef int64_t _sub_bucket_mask, _half
    cdef int _unit, _half_mag, _digits
    cdef object _lay

    cdef Py_ssize_t index_c(self, int64_t value) noexcept nogil
    # add count (>= 1) of value; False if out of range (counted in underflow/overflow)
    cdef bint record_c(self, int64_t value, int64_t count) noexcept nogil
    # record every value of a C array; returns how many were in range
    cdef Py_ssize_t record_array_c(self, const int64_t* values, Py_ssize_t n) noexcept nogil
    cdef void reset_c(self) noexcept nogil
    cdef bint _record_corrected_c(self, int64_t value, int64_t expected_interval,
                                  int64_t count) noexcept nogil
    cdef void add_same_c(self, Histogram other) noexcept nogil
    cdef int64_t _low_of_index(self, Py_ssize_t i) noexcept nogil
    cdef int64_t _width_of_index(self, Py_ssize_t i) noexcept nogil
    cdef double _median_of_index(self, Py_ssize_t i) noexcept nogil
    cdef void _fix_after_decode(self) noexcept nogil


@cython.final
cdef class Recorder:
    cdef Py_ssize_t _n
    cdef tuple _journeys, _cfg, _response, _service, _open
    cdef int64_t* _outcomes
    cdef int64_t* _open_outcomes
    cdef int64_t _start, _interval, _index, _end, _invalid
    cdef list _closed

    # the driver's per-request call: latencies = done - intended (response) and done - sent
    # (service), not recorded for CONNECT and DROPPED; bad journey/outcome counted as invalid
    cdef void record_c(self, int journey, int64_t intended_ns, int64_t sent_ns,
                       int64_t done_ns, int outcome) noexcept
    cdef bint roll_c(self, int64_t t) noexcept
    cdef int _close(self, int64_t end_ns) except -1
