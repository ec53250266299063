# The load driver's per-request path in C: the twin of engine/driver/http.py:Connection.
#
# Same behaviour and the same Python-visible API (the pool, the virtual users and the tracker
# use either class); what changes is that state lives in C fields, the clock is read with
# clock_gettime and each answer is recorded with Recorder.record_c: no Python-level calls
# or allocations between the parser's callbacks and the owner's ``released`` (and in the
# open model's common case, a connection rejoining the idle list, not even that call).

from httptools import HttpParserError as _HttpParserError
from httptools import HttpResponseParser as _HttpResponseParser

# outcome codes: C_READ ... from outcomes.pxi (generated from engine.hotpath.snapshot.OUTCOME_NAMES)
cdef enum:
    _D_MAX_REDIRECTS = 10  # engine.driver.http.MAX_REDIRECTS
    _D_STATUS_SLOTS = 600  # engine.driver.http.STATUS_SLOTS (slot 0: redirect hops)


cdef class _CNoHeaders:
    """Parser callbacks without on_header: httptools then builds no header bytes at all."""
    cdef public object on_headers_complete, on_message_complete

    def __init__(self, conn):
        self.on_headers_complete = conn.on_headers_complete
        self.on_message_complete = conn.on_message_complete


cdef class CConnection:
    """One keep-alive connection (native twin of engine.driver.http.Connection)."""
    cdef Recorder _rec
    cdef public object recorder, owner, timings, transport, parser, st, location
    # bound methods cached per transport/parser: no attribute lookup per request
    cdef object _feed, _status_fn, _keep_fn, _write_fn, _closing_fn
    cdef bytes _again  # closed-loop fast path: resend this at once after each answer
    cdef TraceTemplate _again_tpl  # ... or a traced request written anew from this
    cdef bytes _follow  # Host header for same-origin redirects, None: do not follow
    cdef bytes _raw  # the head's bytes while parsing without header callbacks (Location)
    cdef int _hops, _max_hops
    cdef public object statuses
    cdef int64_t[:] _sc  # per journey STATUS_SLOTS counters (engine.driver.http.Connection)
    cdef bint _has_sc
    cdef tuple _expect
    cdef public bint busy, framed, headers_done
    cdef bint _head, _headers
    cdef public int journey, step, status
    cdef public int64_t intended, sent
    cdef list _idle  # the open pool's idle list: a reusable connection rejoins it in C
    cdef object _queue  # ... unless the pool's wait queue holds requests (then the owner)

    def __init__(self, recorder, owner, timings=None, statuses=None):
        self.recorder = recorder
        self.statuses = statuses
        self._has_sc = statuses is not None
        if self._has_sc:
            self._sc = statuses
        self._rec = recorder  # TypeError unless the native Recorder: the caller chooses
        self.owner = owner
        self.timings = timings
        self.transport = None
        self._new_parser(True)
        self.busy = False
        self.st = None
        self._expect = ()
        self._again = None
        self._again_tpl = None
        self._follow = None
        self.location = None
        self._raw = None
        self._hops = 0
        self._max_hops = _D_MAX_REDIRECTS
        self._idle = None
        self._queue = None

    def rejoin(self, idle, queue):
        """Open model, single-step journeys: after an answer a reusable connection appends
        itself to ``idle`` when ``queue`` is empty, without calling the owner's ``released``
        (what it would do then). ``rejoin(None, None)``: call the owner again (the pool is
        closing)."""
        self._idle = idle
        self._queue = queue

    @property
    def expect(self):
        return self._expect

    # -- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        self._write_fn = transport.write
        self._closing_fn = transport.is_closing

    def data_received(self, data):
        if not self.headers_done and not self._headers and self._follow is not None:
            self._raw = data if self._raw is None else self._raw + data
        try:
            self._feed(data)
        except _HttpParserError:
            self._fail(C_PROTOCOL)
            return
        if self._head and self.headers_done and self.busy:
            self._new_parser(self._headers)
            self._finish(self._outcome())

    def connection_lost(self, exc):
        self.transport = None
        if self.busy:
            if exc is None and self.headers_done and not self.framed:
                self._finish(self._outcome())
            else:
                self._finish(C_READ)
        self.owner.lost(self)

    def pause_writing(self):
        pass

    def resume_writing(self):
        pass

    def eof_received(self):
        return None

    # -- httptools callbacks ------------------------------------------------------------
    def on_header(self, bytes name, bytes value):
        cdef Py_ssize_t n = len(name)
        if n == 14 or n == 17:
            low = name.lower()
            if low == b"content-length" or low == b"transfer-encoding":
                self.framed = True
        elif n == 13 and name.lower() == b"server-timing":
            self.st = value if self.st is None else self.st + b"," + value
        elif n == 8 and name.lower() == b"location":
            self.location = value

    def on_headers_complete(self):
        self.headers_done = True
        self.status = self._status_fn()
        if not self._headers:
            self.framed = self._keep_fn()

    def on_message_complete(self):
        if self.busy and not self._head:
            if not self._keep_fn() and self.transport is not None:
                self.transport.close()
            self._finish(self._outcome())

    # -- requests -----------------------------------------------------------------------
    def send(self, bytes data, int journey, int step, int64_t intended_ns, tuple expect,
             bint head, follow=None, int max_hops=_D_MAX_REDIRECTS):
        """Write one request; its outcome is recorded when it ends. ``follow`` is the Host
        header to follow up to ``max_hops`` same-origin redirects with (None: a 3xx is the
        answer)."""
        self._max_hops = max_hops
        self._start(data, journey, step, intended_ns, expect, head, follow)

    cdef _start(self, bytes data, int journey, int step, int64_t intended_ns, tuple expect,
                bint head, bytes follow):
        self.journey = journey
        self.step = step
        self._expect = expect
        self._head = head
        self._follow = follow
        self._hops = 0
        timings = self.timings
        # headers are read while probing; want_headers only ever turns False (Server-Timing
        # cannot be seen without headers), so check it only then. A redirect's Location is
        # read from the head's raw bytes when there are no header callbacks
        cdef bint want = self._headers and (timings is None or timings.want_headers)
        if want != self._headers:
            self._new_parser(want)
        self._write(data, intended_ns, 0)

    cdef _write(self, bytes data, int64_t intended_ns, int64_t sent_ns):
        self.busy = True
        self.intended = intended_ns
        self.framed = False
        self.headers_done = False
        self.status = 0
        self.location = None
        self._raw = None
        self.sent = sent_ns if sent_ns else c_monotonic_ns()
        if self.transport is None or self._closing_fn():
            self._fail(C_WRITE)
            return
        self._write_fn(data)

    def expire(self, int64_t deadline_sent_ns):
        """Record TIMEOUT and abort if the request in flight was sent before the deadline."""
        if self.busy and self.sent < deadline_sent_ns:
            self._fail(C_TIMEOUT)
            return True
        return False

    def repeat(self, data):
        """Closed-loop fast path: after each answer, send ``data`` again at once (same
        journey, step and expectations) without calling the owner; None turns it off. A
        TraceTemplate (bound to its context) writes each request anew, with its own
        traceparent."""
        if isinstance(data, TraceTemplate):
            self._again, self._again_tpl = None, data
        else:
            self._again, self._again_tpl = data, None

    def close(self):
        """Drop the connection without recording anything (end of run)."""
        self.busy = False
        if self.transport is not None:
            self.transport.abort()

    cdef _new_parser(self, bint headers):
        self._headers = headers
        parser = _HttpResponseParser(self if headers else _CNoHeaders(self))
        self.parser = parser
        self._feed = parser.feed_data
        self._status_fn = parser.get_status_code
        self._keep_fn = parser.should_keep_alive

    cdef int _outcome(self):
        cdef int s = self.status
        if 0 <= s < 600 and len(self._expect) == 600:
            return <int>self._expect[s]
        return C_PROTOCOL

    cdef _fail(self, int outcome):
        if self.transport is not None:
            self.transport.abort()
        self._finish(outcome)

    cdef bytes _redirect(self, int outcome):
        if (self._follow is None or outcome > C_STATUS_5XX
                or not 300 <= self.status < 400 or self._hops >= self._max_hops):
            return None
        # the Python twin's code: a redirect is rare, so no C copy of it (imported here,
        # not at module level: engine.driver imports this module through engine.hotpath.native)
        from engine.driver.redirects import head_location, redirect_request
        location = self.location
        if location is None and self._raw is not None:
            location = head_location(self._raw)
        return None if location is None else redirect_request(location, self._follow)

    cdef _finish(self, int outcome):
        cdef int64_t done = c_monotonic_ns()
        self.busy = False
        hop = self._redirect(outcome)
        cdef int s = self.status
        if self._has_sc and 0 < s < _D_STATUS_SLOTS:
            self._sc[self.journey * _D_STATUS_SLOTS + s] += 1
        if hop is not None and self.transport is not None and not self._closing_fn():
            # a followed hop: the chain is one request, timed from the first intended send
            self._hops += 1
            if self._has_sc:
                self._sc[self.journey * _D_STATUS_SLOTS] += 1
            self._write(hop, self.intended, self.sent)
            return
        self._rec.record_c(self.journey, self.intended, self.sent, done, outcome)
        if self._headers and self.timings is not None:
            st = self.st
            self.timings.observe(st is not None or not self.framed or not self._keep_fn())
            if st is not None:
                self.st = None
                self.timings(self.journey, st)
        cdef bint reusable = self.transport is not None and not self._closing_fn()
        if reusable and self._again_tpl is not None:
            self._start(self._again_tpl.render_c(self._again_tpl.ctx), self.journey, self.step,
                        c_monotonic_ns(), self._expect, self._head, self._follow)
            return
        if reusable and self._again is not None:
            self._start(self._again, self.journey, self.step, c_monotonic_ns(), self._expect,
                        self._head, self._follow)
            return
        if reusable and self._idle is not None and not self._queue:
            self._idle.append(self)  # OpenPool.released's common case, without the call
            return
        self.owner.released(self, reusable)
