from libc.stdint cimport int64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC


cdef inline int64_t c_monotonic_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


def monotonic_ns() -> int:
    """Monotonic clock in integer nanoseconds (CLOCK_MONOTONIC)."""
    return c_monotonic_ns()
