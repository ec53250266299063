# A traced request's bytes in C: the twin of engine/hotpath/_pytrace.py:TraceTemplate.
#
# The whole request (bytes before, the traceparent value, bytes after) is kept as one buffer;
# a request is one copy of it with the sequence number's hex digits written at its two
# offsets and the sampled flag, no Python string formatting. The value's format, offsets and
# splitmix64 draw come from engine.hotpath.traceparent, the one place both twins read.

from libc.stdint cimport uint32_t, uint64_t

from engine.hotpath import traceparent as _tp

cdef const char* _HEX_DIGITS = b"0123456789abcdef"
cdef Py_ssize_t _TP_SEQ1 = _tp.SEQ_AT[0]
cdef Py_ssize_t _TP_SEQ2 = _tp.SEQ_AT[1]
cdef Py_ssize_t _TP_FLAG = _tp.FLAG_AT
cdef double _TP_UNIT = _tp.UNIT


cdef inline void _hex8(char* p, uint32_t v) noexcept nogil:
    cdef int i
    for i in range(7, -1, -1):
        p[i] = _HEX_DIGITS[v & 15]
        v >>= 4


cdef inline uint64_t _splitmix64(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += <uint64_t>0x9E3779B97F4A7C15
    z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef class TraceTemplate:
    """``before`` + traceparent value + ``after``; sampled at ``rate`` (no draw at >= 1)."""
    cdef bytes _buf  # the request with sequence 0, sampled
    cdef Py_ssize_t _at  # where the value starts in _buf
    cdef double _rate
    cdef bint _always
    cdef uint64_t _state
    cdef public object ctx

    def __init__(self, before, after, prefix, rate, salt, seed):
        _tp.check_args(before, after, prefix, rate, salt, seed)
        self._buf = before + _tp.value(prefix, 0, salt, True).encode() + after
        self._at = len(before)
        self._rate = rate
        self._always = rate >= 1.0
        self._state = seed
        self.ctx = None

    @property
    def rng_state(self):
        return self._state

    def render(self, ctx):
        return self.render_c(ctx)

    def next_request(self):
        return self.render_c(self.ctx)

    cdef bytes render_c(self, object ctx):
        # engine.hotpath.traceparent.next_seq: the context's sequence, shared with every
        # other request built from it
        cdef int64_t seq = ctx.seq
        if seq < 0:
            seq = ctx.seq_start
        else:
            seq = seq + <int64_t>ctx.seq_step
        ctx.seq = seq
        cdef bint sampled = self._always or (
            <double>(_splitmix64(&self._state) >> 11) * _TP_UNIT < self._rate)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(self._buf)
        cdef bytes out = PyBytes_FromStringAndSize(NULL, n)
        cdef char* p = PyBytes_AS_STRING(out)
        memcpy(p, PyBytes_AS_STRING(self._buf), n)
        p += self._at
        _hex8(p + _TP_SEQ1, <uint32_t>(seq & 0xFFFFFFFF))
        _hex8(p + _TP_SEQ2, <uint32_t>(seq & 0xFFFFFFFF))
        if not sampled:
            p[_TP_FLAG] = b'0'
        return out
