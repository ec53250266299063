# HDR histogram (HdrHistogram's log-linear layout), part of engine.hotpath._native.
# Same API and results as engine.hotpath._pyhdr.Histogram; layout, rank rule and the V2 framing
# come from engine.hotpath.codec so the twins cannot drift apart.

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from libc.math cimport sqrt
from libc.stdint cimport uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset

import numpy as np

from engine.hotpath import codec as _codec

cdef extern from *:
    int __builtin_clzll(unsigned long long) nogil

cdef int64_t _NO_MIN = 0x7FFFFFFFFFFFFFFF


cdef class Histogram:
    """Log-linear HDR histogram of non-negative integers (ns by convention)."""

    def __cinit__(self, lowest=1_000, highest=3_600_000_000_000, significant_digits=3):
        # validated in Python first, so a bad argument is a ValueError naming it
        lay = _codec.layout(lowest, highest, significant_digits)
        self._lay = lay
        self._lowest, self._highest, self._digits = lowest, highest, significant_digits
        self._unit = lay.unit_magnitude
        self._half_mag = lay.sub_bucket_half_count_magnitude
        self._half = lay.sub_bucket_half_count
        self._sub_bucket_mask = lay.sub_bucket_mask
        self._counts_len = lay.counts_len
        self._counts = <int64_t*>calloc(self._counts_len, sizeof(int64_t))
        if self._counts == NULL:
            raise MemoryError()
        self._min = _NO_MIN

    def __dealloc__(self):
        free(self._counts)

    def __reduce__(self):
        return (_restore_histogram, (self.encode(), self._under, self._over, self._min,
                                     self._max))

    # ---- C hot path -------------------------------------------------------------------
    cdef Py_ssize_t index_c(self, int64_t v) noexcept nogil:
        cdef int b = (64 - __builtin_clzll(<uint64_t>(v | self._sub_bucket_mask))
                      - self._unit - self._half_mag - 1)
        return ((<Py_ssize_t>(b + 1)) << self._half_mag) + (v >> (b + self._unit)) - self._half

    cdef bint record_c(self, int64_t value, int64_t count) noexcept nogil:
        if count < 1:
            return False
        if value < 0:
            self._under += count
            return False
        if value > self._highest:
            self._over += count
            return False
        self._counts[self.index_c(value)] += count
        self._total += count
        if value < self._min:
            self._min = value
        if value > self._max:
            self._max = value
        return True

    cdef Py_ssize_t record_array_c(self, const int64_t* values, Py_ssize_t n) noexcept nogil:
        cdef Py_ssize_t i, ok = 0
        cdef int64_t v, lo = self._min, hi = self._max, highest = self._highest
        cdef int64_t* counts = self._counts
        for i in range(n):
            v = values[i]
            if v < 0:
                self._under += 1
            elif v > highest:
                self._over += 1
            else:
                counts[self.index_c(v)] += 1
                ok += 1
                lo = v if v < lo else lo
                hi = v if v > hi else hi
        self._total += ok
        self._min, self._max = lo, hi
        return ok

    cdef void reset_c(self) noexcept nogil:
        memset(self._counts, 0, self._counts_len * sizeof(int64_t))
        self._total = self._under = self._over = self._max = 0
        self._min = _NO_MIN

    cdef void add_same_c(self, Histogram other) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(self._counts_len):
            self._counts[i] += other._counts[i]
        self._total += other._total
        self._under += other._under
        self._over += other._over
        self._min = other._min if other._min < self._min else self._min
        self._max = other._max if other._max > self._max else self._max

    # ---- Python API (documented in engine/hotpath/_native.pyi) ----------------------------------
    @property
    def lowest(self):
        return self._lowest

    @property
    def highest(self):
        return self._highest

    @property
    def significant_digits(self):
        return self._digits

    @property
    def total_count(self):
        return self._total

    @property
    def underflow_count(self):
        return self._under

    @property
    def overflow_count(self):
        return self._over

    @property
    def min(self):
        return 0 if self._total == 0 else self._min

    @property
    def max(self):
        return self._max

    @property
    def relative_error(self):
        return self._lay.relative_error

    @property
    def memory_bytes(self):
        return type(self).__basicsize__ + self._counts_len * sizeof(int64_t)

    def record(self, value, count=1):
        """Add ``count`` (>= 1) occurrences of ``value``; False (and counted) if out of range."""
        cdef int vo = 0, co = 0
        cdef long long v = PyLong_AsLongLongAndOverflow(value, &vo)
        cdef long long c = PyLong_AsLongLongAndOverflow(count, &co)
        if vo != 0 or co != 0:
            return self._record_huge(value, count)
        return self.record_c(v, c)

    def _record_huge(self, value, count):
        # a value or count beyond int64 is still only counted, as in the pure twin
        if count < 1:
            return False
        if value < 0:
            self._under += count
        elif value > self._highest:
            self._over += count
        return False

    def record_corrected(self, value, expected_interval, count=1):
        """HdrHistogram recordValueWithExpectedInterval, O(buckets touched)."""
        cdef int vo = 0, io = 0, co = 0
        cdef long long v = PyLong_AsLongLongAndOverflow(value, &vo)
        cdef long long i = PyLong_AsLongLongAndOverflow(expected_interval, &io)
        cdef long long c = PyLong_AsLongLongAndOverflow(count, &co)
        if vo != 0 or co != 0:
            return self._record_huge(value, count)
        if io > 0:
            return self.record_c(v, c)  # interval beyond int64 exceeds any value: no fill-in
        return self._record_corrected_c(v, -1 if io < 0 else i, c)

    cdef bint _record_corrected_c(self, int64_t value, int64_t expected_interval,
                                  int64_t count) noexcept nogil:
        cdef int64_t v, n, low
        cdef Py_ssize_t i
        if not self.record_c(value, count):
            return False
        if expected_interval <= 0 or value <= expected_interval:
            return True
        v = value - expected_interval
        while v >= expected_interval:
            i = self.index_c(v)
            low = self._low_of_index(i)
            n = (v - (low if low > expected_interval else expected_interval)) \
                // expected_interval + 1
            self._counts[i] += n * count
            self._total += n * count
            v -= n * expected_interval
        if v + expected_interval < self._min:
            self._min = v + expected_interval
        return True

    cdef int64_t _low_of_index(self, Py_ssize_t i) noexcept nogil:
        cdef int b = <int>(i >> self._half_mag) - 1
        cdef int64_t sub = (i & (self._half - 1)) + self._half
        if b < 0:
            sub -= self._half
            b = 0
        return sub << (b + self._unit)

    cdef int64_t _width_of_index(self, Py_ssize_t i) noexcept nogil:
        cdef int b = <int>(i >> self._half_mag) - 1
        return (<int64_t>1) << ((b if b > 0 else 0) + self._unit)

    def record_many(self, values):
        """Record every value of an integer numpy array; returns how many were in range."""
        arr = np.asarray(values)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"record_many expects an integer array, got dtype {arr.dtype}")
        cdef const int64_t[::1] mv = np.ascontiguousarray(arr.ravel(), dtype=np.int64)
        cdef Py_ssize_t n = mv.shape[0], ok
        if n == 0:
            return 0
        with nogil:
            ok = self.record_array_c(&mv[0], n)
        return ok

    def add(self, other):
        """Merge ``other`` (either twin); other configs are re-recorded by bucket lowest value."""
        if isinstance(other, Histogram) and self._same_config(other):
            self.add_same_c(<Histogram>other)
            return
        if self._same_config(other):
            self._add_counts(other.counts(), other.total_count, other.min, other.max)
        else:
            values, counts = other._bucket_lows()
            for v, c in zip(values.tolist(), counts.tolist()):
                self.record_c(v, c)
        self._under += other.underflow_count
        self._over += other.overflow_count

    def _add_counts(self, counts, int64_t total, int64_t lo, int64_t hi):
        cdef const int64_t[::1] mv = np.ascontiguousarray(counts, dtype=np.int64)
        cdef Py_ssize_t i
        for i in range(self._counts_len):
            self._counts[i] += mv[i]
        self._total += total
        if total:
            self._min = lo if lo < self._min else self._min
            self._max = hi if hi > self._max else self._max

    def _same_config(self, other):
        return (self._lowest == other.lowest and self._highest == other.highest
                and self._digits == other.significant_digits)

    def _bucket_lows(self):
        counts = self.counts()
        nz = np.flatnonzero(counts)
        return _codec.bucket_values(self._lay)[0][nz], counts[nz]

    def value_at_percentile(self, percentile):
        """Value at ``percentile`` in [0, 100]; see engine/hotpath/_native.pyi."""
        return self.values_at_percentiles([percentile])[0]

    def values_at_percentiles(self, percentiles):
        """value_at_percentile for each of ``percentiles`` (any order), in one pass."""
        ps = [_codec.check_percentile(p) for p in percentiles]
        if self._total == 0:
            return [0 for _ in ps]
        order = sorted(range(len(ps)), key=ps.__getitem__)
        out = [0] * len(ps)
        cdef Py_ssize_t i = 0
        cdef int64_t cum = 0, rank, v
        for k in order:
            rank = _codec.rank_for_percentile(ps[k], self._total)
            while cum < rank and i < self._counts_len:
                cum += self._counts[i]
                i += 1
            v = self._low_of_index(i - 1) + self._width_of_index(i - 1) - 1
            v = self._max if v > self._max else v
            v = self._min if v < self._min else v
            out[k] = self._min if ps[k] == 0.0 else v
        return out

    @property
    def mean(self):
        """Mean of the bucket median-equivalent values; 0.0 when empty."""
        if self._total == 0:
            return 0.0
        cdef double s = 0.0
        cdef Py_ssize_t i
        for i in range(self._counts_len):
            if self._counts[i]:
                s += <double>self._counts[i] * self._median_of_index(i)
        return s / self._total

    @property
    def stdev(self):
        """Population standard deviation over bucket median-equivalent values; 0.0 if empty."""
        if self._total == 0:
            return 0.0
        cdef double m = self.mean, s = 0.0, d
        cdef Py_ssize_t i
        for i in range(self._counts_len):
            if self._counts[i]:
                d = self._median_of_index(i) - m
                s += <double>self._counts[i] * d * d
        return sqrt(s / self._total)

    cdef double _median_of_index(self, Py_ssize_t i) noexcept nogil:
        return <double>(self._low_of_index(i) + (self._width_of_index(i) >> 1))

    def reset(self):
        """Forget every recorded value and out-of-range count."""
        self.reset_c()

    def copy(self):
        """An independent histogram with the same configuration and contents."""
        cdef Histogram h = Histogram(self._lowest, self._highest, self._digits)
        h.add_same_c(self)
        return h

    def counts(self):
        """Copy of the bucket counts (int64, length = number of buckets)."""
        out = np.empty(self._counts_len, dtype=np.int64)
        cdef int64_t[::1] mv = out
        memcpy(&mv[0], self._counts, self._counts_len * sizeof(int64_t))
        return out

    def recorded(self):
        """(median-equivalent values, counts) of the non-empty buckets, values ascending."""
        counts = self.counts()
        nz = np.flatnonzero(counts)
        lows, widths = _codec.bucket_values(self._lay)
        return (lows + (widths >> 1))[nz], counts[nz]

    def lowest_equivalent(self, int64_t value):
        """Smallest value sharing ``value``'s bucket (0 <= value <= highest)."""
        return self._low_of_index(self.index_c(value))

    def highest_equivalent(self, int64_t value):
        """Largest value sharing ``value``'s bucket (0 <= value <= highest)."""
        cdef Py_ssize_t i = self.index_c(value)
        return self._low_of_index(i) + self._width_of_index(i) - 1

    def encode(self):
        """Base64 compressed V2 HdrHistogram encoding ("HISTF...")."""
        return _codec.pack(self._lay, _encode_counts(self._counts, self._counts_len))

    @classmethod
    def decode(cls, data):
        """Histogram from a V2 histoblob (ours or any HdrHistogram's); ValueError if invalid."""
        lay, payload = _codec.unpack(data)
        cdef Histogram h = Histogram(lay.lowest, lay.highest, lay.significant_digits)
        _decode_counts(payload, h._counts, h._counts_len)
        h._fix_after_decode()
        return h

    cdef void _fix_after_decode(self) noexcept nogil:
        cdef Py_ssize_t i, first = -1, last = -1
        for i in range(self._counts_len):
            if self._counts[i]:
                self._total += self._counts[i]
                last = i
                if first < 0:
                    first = i
        if first >= 0:
            self._min = self._low_of_index(first)
            self._max = self._low_of_index(last) + self._width_of_index(last) - 1

    def _set_out_of_range(self, int64_t underflow, int64_t overflow):
        self._under, self._over = underflow, overflow

    def __eq__(self, other):
        if not hasattr(other, "counts") or not hasattr(other, "significant_digits"):
            return NotImplemented
        return bool(self._same_config(other) and self._under == other.underflow_count
                    and self._over == other.overflow_count
                    and np.array_equal(self.counts(), other.counts()))

    __hash__ = None

    def __repr__(self):
        return (f"Histogram(lowest={self._lowest}, highest={self._highest}, "
                f"significant_digits={self._digits}, total_count={self._total})")


def _restore_histogram(data, int64_t underflow, int64_t overflow, int64_t lo, int64_t hi):
    """Unpickle helper: decoded counts plus the exact extremes the V2 format does not carry."""
    cdef Histogram h = Histogram.decode(data)
    h._under, h._over = underflow, overflow
    if h._total:
        h._min, h._max = lo, hi
    return h


cdef inline Py_ssize_t _put_varint(unsigned char* out, int64_t value) noexcept nogil:
    cdef uint64_t v = (<uint64_t>value << 1) ^ <uint64_t>(value >> 63)
    cdef Py_ssize_t n = 0
    while n < 8:
        if v < 0x80:
            out[n] = <unsigned char>v
            return n + 1
        out[n] = <unsigned char>((v & 0x7F) | 0x80)
        v >>= 7
        n += 1
    out[8] = <unsigned char>(v & 0xFF)
    return 9


cdef bytes _encode_counts(const int64_t* counts, Py_ssize_t n):
    # zig-zag LEB128, a run of k >= 1 zeros as -k, trailing zeros dropped (as HdrHistogram_c)
    cdef Py_ssize_t i, pos = 0, prev = 0, nonzero = 0
    for i in range(n):
        nonzero += counts[i] != 0
    # sized by the non-zero counts (each at most a zero run plus a count, 9 bytes apiece):
    # a worst-case 9 * n buffer would be an mmap and page faults on every encode
    cdef unsigned char* buf = <unsigned char*>malloc(nonzero * 18 + 9)
    if buf == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(n):
                if counts[i] == 0:
                    continue
                if i > prev:
                    pos += _put_varint(buf + pos, prev - i)
                pos += _put_varint(buf + pos, counts[i])
                prev = i + 1
        return PyBytes_FromStringAndSize(<char*>buf, pos)
    finally:
        free(buf)


cdef void _decode_counts(bytes payload, int64_t* counts, Py_ssize_t n) except *:
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(payload)
    cdef Py_ssize_t end = PyBytes_GET_SIZE(payload), pos = 0, idx = 0, k
    cdef uint64_t raw
    cdef int64_t value
    while pos < end:
        raw = 0
        k = 0
        while True:
            if pos >= end:
                raise ValueError("HdrHistogram payload ends inside a varint")
            if k == 8:
                raw |= (<uint64_t>p[pos]) << 56
                pos += 1
                break
            raw |= (<uint64_t>(p[pos] & 0x7F)) << (7 * k)
            pos += 1
            if p[pos - 1] < 0x80:
                break
            k += 1
        value = <int64_t>(raw >> 1) ^ -(<int64_t>(raw & 1))
        if value < 0:
            idx -= value
            continue
        if idx >= n:
            raise ValueError("HdrHistogram payload has more counts than its header allows")
        counts[idx] = value
        idx += 1


def _bench_record_c(Histogram h, values):
    """Benchmark helper (engine.bench): one C-level record_c call per value, as a Cython
    driver would make them; not part of the API."""
    cdef const int64_t[::1] mv = np.ascontiguousarray(values, dtype=np.int64)
    cdef Py_ssize_t i
    with nogil:
        for i in range(mv.shape[0]):
            h.record_c(mv[i], 1)
