# Recorder and outcome codes, part of engine.hotpath._native (twin: engine.hotpath._pyhdr.Recorder).
# The per-request path is Recorder.record_c: plain C arithmetic on preallocated counters
# and histograms; only closing an interval (once per interval_ns) touches Python objects.

from engine.hotpath.snapshot import (
    MAX_GAP_INTERVALS,
    N_OUTCOMES,
    OUTCOME_NAMES,
    STATE_VERSION,
    IntervalSnapshot,
    check_mergeable,
    check_recorder_args,
    hist_from_state,
    hist_state,
    merge_snapshot_lists,
    open_snapshot,
)

# the outcome codes (C_OK ... C_DROPPED, C_N_OUTCOMES) come from outcomes.pxi, generated
cdef int64_t _MAX_GAP = MAX_GAP_INTERVALS


cdef inline long long _to_i64(object x, int* over) except? -1:
    # sets *over (never clears it) when x does not fit an int64; TypeError if not an int
    cdef int o = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(x, &o)
    if o:
        over[0] = 1
    return v


cdef class Recorder:
    """Per-journey response-time (from intended send) and service-time (from actual send)
    histograms, outcome counters and per-interval snapshots, for one worker."""

    def __cinit__(self, journeys, start_ns, interval_ns=1_000_000_000, lowest=1_000,
                  highest=3_600_000_000_000, significant_digits=3):
        names = check_recorder_args(journeys, start_ns, interval_ns)
        self._journeys = names
        self._cfg = (lowest, highest, significant_digits)
        self._n = len(names)
        self._response = tuple(Histogram(*self._cfg) for _ in names)
        self._service = tuple(Histogram(*self._cfg) for _ in names)
        self._open = tuple(Histogram(*self._cfg) for _ in names)
        self._outcomes = <int64_t*>calloc(self._n * C_N_OUTCOMES, sizeof(int64_t))
        self._open_outcomes = <int64_t*>calloc(self._n * C_N_OUTCOMES, sizeof(int64_t))
        if self._outcomes == NULL or self._open_outcomes == NULL:
            raise MemoryError()
        self._start, self._interval = start_ns, interval_ns
        self._index, self._end = 0, start_ns + interval_ns
        self._closed = []

    def __dealloc__(self):
        free(self._outcomes)
        free(self._open_outcomes)

    def __reduce__(self):
        return (Recorder.from_state, (self.to_state(),))

    # ---- C hot path -------------------------------------------------------------------
    cdef void record_c(self, int journey, int64_t intended_ns, int64_t sent_ns,
                       int64_t done_ns, int outcome) noexcept:
        cdef Histogram h
        if journey < 0 or journey >= self._n or outcome < 0 or outcome >= C_N_OUTCOMES:
            self._invalid += 1
            return
        if done_ns >= self._end and not self.roll_c(done_ns):
            self._invalid += 1
            return
        self._outcomes[journey * C_N_OUTCOMES + outcome] += 1
        self._open_outcomes[journey * C_N_OUTCOMES + outcome] += 1
        if outcome == C_CONNECT or outcome == C_DROPPED:
            return
        h = <Histogram>self._response[journey]
        h.record_c(done_ns - intended_ns, 1)
        h = <Histogram>self._open[journey]
        h.record_c(done_ns - intended_ns, 1)
        h = <Histogram>self._service[journey]
        h.record_c(done_ns - sent_ns, 1)

    cdef bint roll_c(self, int64_t t) noexcept:
        cdef int64_t target = (t - self._start) // self._interval
        if target - self._index > _MAX_GAP:
            return False
        while self._index < target:
            try:
                self._close(self._end)
            except Exception:
                # only an allocation failure can get here; drop the snapshot, keep counting
                self._index += 1
                self._end += self._interval
        return True

    cdef int _close(self, int64_t end_ns) except -1:
        cdef Py_ssize_t j
        snap = IntervalSnapshot(
            self._index, self._end - self._interval, end_ns,
            tuple([(<Histogram>h).encode() for h in self._open]), self._outcome_rows(True))
        self._closed.append(snap)
        for j in range(self._n):
            (<Histogram>self._open[j]).reset_c()
        memset(self._open_outcomes, 0, self._n * C_N_OUTCOMES * sizeof(int64_t))
        self._index += 1
        self._end += self._interval
        return 0

    def _outcome_rows(self, bint open_interval):
        cdef int64_t* base = self._open_outcomes if open_interval else self._outcomes
        cdef Py_ssize_t j, k
        rows = []
        for j in range(self._n):
            rows.append(tuple([base[j * C_N_OUTCOMES + k] for k in range(C_N_OUTCOMES)]))
        return tuple(rows)

    # ---- Python API (documented in engine/hotpath/_native.pyi) ----------------------------------
    @property
    def journeys(self):
        return self._journeys

    @property
    def start_ns(self):
        return self._start

    @property
    def interval_ns(self):
        return self._interval

    @property
    def invalid_count(self):
        return self._invalid

    def record(self, journey, intended_ns, sent_ns, done_ns, outcome):
        """Count ``outcome`` for ``journey``; record latencies unless CONNECT or DROPPED."""
        cdef int over = 0
        cdef long long j = _to_i64(journey, &over), oc = _to_i64(outcome, &over)
        cdef long long t0 = _to_i64(intended_ns, &over), t1 = _to_i64(sent_ns, &over)
        cdef long long t2 = _to_i64(done_ns, &over)
        if over or j < 0 or j >= self._n or oc < 0 or oc >= C_N_OUTCOMES:
            self._invalid += 1  # Python ints of any size: what does not fit is invalid
            return
        self.record_c(<int>j, t0, t1, t2, <int>oc)

    def record_dropped(self, journey, intended_ns):
        """Count a request the driver never sent (DROPPED), in the interval of intended_ns."""
        self.record(journey, intended_ns, intended_ns, intended_ns, C_DROPPED)

    def tick(self, now_ns):
        """Close every interval that ended at or before ``now_ns``."""
        cdef int over = 0
        cdef int64_t now = PyLong_AsLongLongAndOverflow(now_ns, &over)
        if over != 0 or (now >= self._end and not self.roll_c(now)):
            self._invalid += 1

    def finish(self, int64_t end_ns):
        """Close finished intervals and the last partial one [start, end_ns)."""
        self.tick(end_ns)
        if end_ns > self._end - self._interval:
            self._close(end_ns)

    def response(self, journey):
        """Response-time histogram of ``journey`` over the whole run (live object)."""
        return self._response[self._journey_index(journey)]

    def service(self, journey):
        """Service-time histogram of ``journey`` over the whole run (live object)."""
        return self._service[self._journey_index(journey)]

    def outcomes(self, journey):
        """Outcome counters of ``journey`` over the whole run, indexed by outcome code."""
        return list(self._outcome_rows(False)[self._journey_index(journey)])

    def _journey_index(self, journey):
        # checked here: the tuples are indexed without bounds checks
        if not 0 <= journey < self._n:
            raise IndexError(f"journey index must be in 0..{self._n - 1}, got {journey!r}")
        return journey

    def intervals(self):
        """Closed intervals, by index."""
        return list(self._closed)

    def last_interval(self):
        """Most recently closed interval, or None."""
        # explicit index: negative indexing is undefined under wraparound=False
        return self._closed[len(self._closed) - 1] if self._closed else None

    def merge(self, other):
        """Add ``other``'s data (same journeys, config and interval); intervals by index."""
        self._merge_state(other.to_state())

    def to_state(self):
        """JSON-able state for moving across processes; from_state rebuilds an equal one."""
        return {
            "version": STATE_VERSION, "journeys": list(self._journeys),
            "start_ns": self._start, "interval_ns": self._interval,
            "config": list(self._cfg), "index": self._index, "invalid": self._invalid,
            "response": [hist_state(h) for h in self._response],
            "service": [hist_state(h) for h in self._service],
            "open": [hist_state(h) for h in self._open],
            "outcomes": [list(o) for o in self._outcome_rows(False)],
            "open_outcomes": [list(o) for o in self._outcome_rows(True)],
            "intervals": [s.to_dict() for s in self._closed],
        }

    @classmethod
    def from_state(cls, state):
        """Rebuild a recorder from to_state output; ValueError if it is not one."""
        cdef Recorder rec
        try:
            rec = Recorder(state["journeys"], state["start_ns"], state["interval_ns"],
                           *state["config"])
            rec._index = int(state["index"])
            rec._end = rec._start + (rec._index + 1) * rec._interval
            rec._merge_state(state)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"not a recorder state: {exc!r}") from None
        return rec

    def _merge_state(self, st):
        check_mergeable(st, self._journeys, self._interval, self._cfg)
        cdef Py_ssize_t j, k
        for j in range(self._n):
            self._response[j].add(hist_from_state(Histogram, st["response"][j]))
            self._service[j].add(hist_from_state(Histogram, st["service"][j]))
            for k in range(C_N_OUTCOMES):
                self._outcomes[j * C_N_OUTCOMES + k] += int(st["outcomes"][j][k])
        self._invalid += int(st["invalid"])
        theirs = [IntervalSnapshot.from_dict(d) for d in st["intervals"]]
        self._merge_open(st, theirs)
        self._closed = merge_snapshot_lists(self._closed, theirs, Histogram.decode)

    def _merge_open(self, st, list theirs):
        cdef int64_t index = int(st["index"])
        cdef Py_ssize_t j, k
        if index > self._index:
            self.roll_c(self._start + index * self._interval)
        if index == self._index:
            for j in range(self._n):
                self._open[j].add(hist_from_state(Histogram, st["open"][j]))
                for k in range(C_N_OUTCOMES):
                    self._open_outcomes[j * C_N_OUTCOMES + k] += int(st["open_outcomes"][j][k])
        else:
            snap = open_snapshot(st, self._start, self._interval)
            if snap is not None:
                theirs.append(snap)


def _bench_recorder_c(Recorder r, values, int64_t start_ns, int64_t step_ns):
    """Benchmark helper (engine.bench): one Recorder.record_c per latency in ``values``,
    requests ``step_ns`` apart from ``start_ns``, alternating journeys; not part of the API."""
    cdef const int64_t[::1] mv = np.ascontiguousarray(values, dtype=np.int64)
    cdef Py_ssize_t i
    cdef int64_t t
    for i in range(mv.shape[0]):
        t = start_ns + i * step_ns
        r.record_c(<int>(i % r._n), t, t + 1_000, t + mv[i], 0)
