# The open model's send loop in C: the twin of engine/driver/pool.py:Scheduler.
#
# The arrival schedule (engine.driver.shapes.arrivals, the same arithmetic in doubles), the
# timerfd (created and re-armed here, not through ctypes) and the dispatch loop live in C
# fields: a wake-up reads the clock once, sends every request whose intended time has come
# (the common one-request catalog straight through CConnection, no Python object per send;
# a traced one written by its TraceTemplate, ext/traceparent.pxi),
# records each one's lateness from its own intended time into the lag histogram and re-arms
# the timer. Wake-ups are at least ``window_ns`` apart, and a wake-up also sends what is due
# within half a window after it: every send leaves within window/2 of its intended time,
# either way. A late send is timed from its intended time (the wait counts), an early one
# from the wake-up that sent it (it cannot look faster than it was); lateness only is
# recorded (an early send's is 0).

from libc.math cimport fabs
from posix.time cimport itimerspec
from posix.unistd cimport close as _c_close


cdef extern from "sys/timerfd.h" nogil:
    int timerfd_create(int clockid, int flags)
    int timerfd_settime(int fd, int flags, const itimerspec* new_value, itimerspec* old_value)
    enum:
        TFD_NONBLOCK
        TFD_CLOEXEC
        TFD_TIMER_ABSTIME


cdef extern from "sys/prctl.h" nogil:
    int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
              unsigned long arg5)
    enum:
        PR_SET_TIMERSLACK


cdef enum:
    _S_TIMER_SLACK_NS = 1000  # engine.driver.timer.TIMER_SLACK_NS
    _S_MAX_BATCH = 4096  # engine.driver.pool.MAX_BATCH


cdef inline double _solve(double r0, double slope, double need) noexcept nogil:
    """engine.driver.shapes._solve: smallest x >= 0 with r0*x + slope*x^2/2 == need."""
    cdef double disc
    if fabs(slope) < 1e-12:
        return need / r0 if r0 > 0 else 0.0
    disc = r0 * r0 + 2 * slope * need
    if disc < 0.0:
        disc = 0.0
    return (sqrt(disc) - r0) / slope


cdef class CScheduler:
    """Dispatches arrivals at their intended times (native twin of pool.Scheduler)."""
    cdef public object loop, pool
    cdef Histogram _lag
    cdef public int64_t start_ns, next_ns, lag_max_ns, dispatched, window_ns, wakeups
    cdef public bint finished
    cdef int _fd
    cdef int64_t _armed  # when the timer was last armed for: the wake-up's planned time
    cdef double* _pts
    cdef Py_ssize_t _npts, _seg
    cdef double _k, _done
    cdef list _idle
    cdef object _dispatch, _next_journey
    cdef bytes _data, _follow
    cdef TraceTemplate _tpl  # the one request is traced: written anew per send
    cdef tuple _expect
    cdef bint _single, _head
    cdef int _hops
    cdef itimerspec _spec

    def __cinit__(self):
        self._fd = -1
        self._pts = NULL

    def __init__(self, loop, pool, shape, int64_t start_ns, double phase, Histogram lag,
                 int64_t window_ns=0):
        self.loop, self.pool, self._lag, self.start_ns = loop, pool, lag, start_ns
        self.window_ns = window_ns if window_ns > 0 else 0
        self._load_points(shape.points)
        self._k, self._done, self._seg = phase, 0.0, 0
        self.dispatched = self.lag_max_ns = self.wakeups = 0
        self.finished = False
        self._idle = pool.idle
        self._dispatch, self._next_journey = pool.dispatch, pool.cat.next_journey
        single = pool.single
        self._single = single is not None
        if self._single:
            data = single[0]
            if isinstance(data, TraceTemplate):
                self._tpl = data
            elif isinstance(data, bytes):
                self._data = data
            else:  # another kind of request source: the general path asks the catalog
                self._single = False
        if self._single:
            self._expect, self._head = single[1], single[2]
            self._follow, self._hops = single[3], single[4]
        self.next_ns = self._advance()
        self._fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if self._fd < 0:
            raise OSError("timerfd_create failed")
        prctl(PR_SET_TIMERSLACK, _S_TIMER_SLACK_NS, 0, 0, 0)
        loop.add_reader(self._fd, self._on_timer)

    def __dealloc__(self):
        if self._pts != NULL:
            free(self._pts)
        if self._fd >= 0:
            _c_close(self._fd)

    cdef _load_points(self, points):
        cdef Py_ssize_t i, n = len(points)
        self._pts = <double*>malloc(max(n, 1) * 2 * sizeof(double))
        if self._pts == NULL:
            raise MemoryError()
        for i in range(n):
            self._pts[2 * i] = points[i][0]
            self._pts[2 * i + 1] = points[i][1]
        self._npts = n

    cdef int64_t _advance(self) noexcept:
        """The next intended send time (ns), or 0 and finished when the shape is done; the
        generator engine.driver.shapes.arrivals, one step at a time."""
        cdef double t0, r0, t1, r1, span, area, slope
        while self._seg + 1 < self._npts:
            t0, r0 = self._pts[2 * self._seg], self._pts[2 * self._seg + 1]
            t1, r1 = self._pts[2 * self._seg + 2], self._pts[2 * self._seg + 3]
            span = t1 - t0
            area = span * (r0 + r1) / 2
            if self._k < self._done + area:
                slope = (r1 - r0) / span if span else 0.0
                t0 = t0 + _solve(r0, slope, self._k - self._done)
                self._k += 1.0
                return self.start_ns + <int64_t>(t0 * 1e9)
            self._done += area
            self._seg += 1
        self.finished = True
        return 0

    def start(self):
        if not self.finished:
            self._arm(self.next_ns)

    def stop(self):
        self.finished = True
        if self._fd >= 0:
            self.loop.remove_reader(self._fd)
            _c_close(self._fd)
            self._fd = -1

    cdef void _arm(self, int64_t when_ns) noexcept:
        if when_ns < 1:
            when_ns = 1  # zero would disarm
        self._armed = when_ns
        self._spec.it_value.tv_sec = when_ns // 1000000000
        self._spec.it_value.tv_nsec = when_ns % 1000000000
        timerfd_settime(self._fd, TFD_TIMER_ABSTIME, &self._spec, NULL)

    def _on_timer(self):
        # no read(): _run re-arms (timerfd_settime zeroes the expiry count) or stops
        self._run()

    cdef int _run(self) except -1:
        if self.finished:
            return 0
        cdef int64_t now = c_monotonic_ns(), nxt = self.next_ns, late
        cdef int64_t n = 0, horizon = now + (self.window_ns >> 1), not_before
        cdef CConnection conn
        self.wakeups += 1
        while nxt <= horizon and n < _S_MAX_BATCH:
            if nxt <= now:
                self._send(nxt)
                late = now - nxt
            else:  # due within half a window: goes now, timed from now
                self._send(now)
                late = 0
            self._lag.record_c(late, 1)
            if late > self.lag_max_ns:
                self.lag_max_ns = late
            n += 1
            nxt = self._advance()
            if self.finished:
                break
        self.dispatched += n
        self.next_ns = nxt
        if self.finished:
            self.stop()
        elif nxt <= now:  # behind by more than a batch: go on after the loop's other work
            self._arm(now)
        else:
            # the next wake-up: the next intended time, but not within the window of this
            # one's PLANNED time (from `now`, each late wake-up would push the next one later:
            # at 1,000/s lateness crept up to half a window)
            not_before = self._armed + self.window_ns
            self._arm(nxt if nxt > not_before else not_before)
        return 0

    cdef int _send(self, int64_t intended) except -1:
        cdef CConnection conn
        cdef list idle = self._idle
        cdef bytes data
        if self._single and idle:  # the common case, without the general path
            obj = idle.pop()
            data = self._data if self._tpl is None else self._tpl.render_c(self._tpl.ctx)
            if type(obj) is CConnection:
                conn = <CConnection>obj
                conn._max_hops = self._hops
                conn._start(data, 0, 0, intended, self._expect, self._head, self._follow)
            else:
                obj.send(data, 0, 0, intended, self._expect, self._head, self._follow,
                         self._hops)
        else:
            self._dispatch(self._next_journey(), 0, intended)
        return 0
