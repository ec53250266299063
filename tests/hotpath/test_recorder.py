"""Recorder behaviour (outcomes, intervals, state, merge), run against both twins."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from engine.hotpath.snapshot import IntervalSnapshot

S = 1_000_000_000
MS = 1_000_000
T0 = 10 * S
NAMES = ("ok", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
         "connect", "read", "write", "timeout", "protocol", "dropped", "check")


def _rec(impl: ModuleType, journeys: tuple[str, ...] = ("home", "search")) -> Any:
    return impl.Recorder(journeys, T0)


def test_outcome_codes_are_the_documented_ones(impl: ModuleType) -> None:
    assert impl.OUTCOME_NAMES == NAMES and impl.N_OUTCOMES == 13
    for code, name in enumerate(NAMES):
        assert getattr(impl, name.upper()) == code


def test_monotonic_ns_is_monotonic_integer_ns(impl: ModuleType) -> None:
    a = impl.monotonic_ns()
    b = impl.monotonic_ns()
    assert isinstance(a, int) and 0 < a <= b


def test_response_from_intended_service_from_sent(impl: ModuleType) -> None:
    r = _rec(impl)
    r.record(1, T0, T0 + 40 * MS, T0 + 50 * MS, impl.OK)
    assert r.response(1).max == 50 * MS and r.service(1).max == 10 * MS
    assert r.outcomes(1)[impl.OK] == 1 and r.response(0).total_count == 0
    assert r.journeys == ("home", "search")


def test_connect_and_dropped_counted_but_not_timed_timeouts_timed(impl: ModuleType) -> None:
    r = _rec(impl)
    r.record(0, T0, T0, T0 + 5 * MS, impl.CONNECT)
    r.record_dropped(0, T0 + MS)
    r.record(0, T0, T0, T0 + 900 * MS, impl.TIMEOUT)
    r.record(0, T0, T0, T0 + 2 * MS, impl.STATUS_5XX)
    counts = r.outcomes(0)
    assert (counts[impl.CONNECT], counts[impl.DROPPED], counts[impl.TIMEOUT]) == (1, 1, 1)
    assert counts[impl.STATUS_5XX] == 1 and len(counts) == impl.N_OUTCOMES
    assert r.response(0).total_count == 2 and r.response(0).max == 900 * MS


def test_bad_input_is_counted_never_raised(impl: ModuleType) -> None:
    r = _rec(impl)
    r.record(7, T0, T0, T0 + MS, impl.OK)
    r.record(-1, T0, T0, T0 + MS, impl.OK)
    r.record(0, T0, T0, T0 + MS, 99)
    r.record(0, T0, T0, T0 + 10**9 * S, impl.OK)  # absurd timestamp, not a stall
    r.record(0, 2**70, T0, T0, impl.OK)  # not an int64
    r.tick(2**80)
    r.record(0, T0 + MS, T0 + MS, T0, impl.OK)  # done before intended: histogram underflow
    assert r.invalid_count == 6
    assert r.response(0).underflow_count == 1 and r.outcomes(0)[impl.OK] == 1


def test_reading_an_unknown_journey_is_an_index_error(impl: ModuleType) -> None:
    r = _rec(impl)
    for read in (r.response, r.service, r.outcomes):
        for bad in (2, -1):
            with pytest.raises(IndexError, match="journey"):
                read(bad)


def test_bad_constructor_arguments_are_value_errors(impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="journeys"):
        impl.Recorder([], T0)
    with pytest.raises(ValueError, match="interval_ns"):
        impl.Recorder(["a"], T0, interval_ns=0)
    with pytest.raises(ValueError, match="start_ns"):
        impl.Recorder(["a"], 2**70)
    with pytest.raises(ValueError, match="lowest"):
        impl.Recorder(["a"], T0, lowest=1.5)


def test_intervals_roll_tick_and_finish(impl: ModuleType) -> None:
    r = _rec(impl)
    r.record(0, T0, T0, T0 + 500 * MS, impl.OK)
    assert r.last_interval() is None
    r.record(0, T0 + 2 * S, T0 + 2 * S, T0 + 2 * S + 100 * MS, impl.STATUS_4XX)
    r.tick(T0 + 3 * S)  # stalled: no completion, but interval 2 still closes
    r.finish(T0 + 3 * S + 250 * MS)
    snaps = r.intervals()
    assert [s.index for s in snaps] == [0, 1, 2, 3]
    assert [(s.start_ns - T0, s.end_ns - T0) for s in snaps] == [
        (0, S), (S, 2 * S), (2 * S, 3 * S), (3 * S, 3 * S + 250 * MS)]
    assert snaps[0].outcomes[0][impl.OK] == 1 and not any(snaps[1].outcomes[0])
    assert snaps[2].outcomes[0][impl.STATUS_4XX] == 1
    assert snaps[0].response_histogram(0).total_count == 1
    assert snaps[1].response_histogram(0).total_count == 0
    assert isinstance(r.last_interval(), IntervalSnapshot) and r.last_interval() == snaps[3]


def test_state_round_trips_through_json(impl: ModuleType) -> None:
    r = _rec(impl)
    r.record(0, T0, T0 + MS, T0 + 3 * MS, impl.OK)
    r.record(1, T0 + S, T0 + S, T0 + S + 7 * MS, impl.READ)
    r.record(1, T0, T0, T0 - 1, impl.OK)
    state = json.loads(json.dumps(r.to_state()))
    back = impl.Recorder.from_state(state)
    assert back.to_state() == r.to_state()
    assert back.response(1) == r.response(1) and back.intervals() == r.intervals()
    with pytest.raises(ValueError):
        impl.Recorder.from_state({"journeys": ["x"]})


def _feed(r: Any, impl: ModuleType, events: list[tuple[int, int, int]]) -> None:
    for journey, at, latency in events:
        r.record(journey, T0 + at, T0 + at, T0 + at + latency, impl.OK)


def test_merge_equals_recording_both_streams(impl: ModuleType) -> None:
    a_events = [(0, 0, 3 * MS), (1, S, 9 * MS), (0, 2 * S + 5, 4 * MS)]
    b_events = [(0, 10, 5 * MS), (0, 3 * S, 2 * MS), (1, 4 * S, 1 * MS)]
    a, b, both = _rec(impl), _rec(impl), _rec(impl)
    _feed(a, impl, a_events)
    _feed(b, impl, b_events)
    _feed(both, impl, sorted(a_events + b_events, key=lambda e: e[1] + e[2]))
    a_copy = impl.Recorder.from_state(a.to_state())
    a.merge(b)  # b is ahead of a: a rolls forward first
    b.merge(a_copy)  # a is behind b: a's open interval joins b's closed ones
    for rec in (a, b, both):
        rec.finish(T0 + 5 * S)
    for rec in (a, b):
        for j in (0, 1):
            assert rec.response(j) == both.response(j) and rec.outcomes(j) == both.outcomes(j)
        assert [s.outcomes for s in rec.intervals()] == [s.outcomes for s in both.intervals()]
        assert [s.response_histogram(0) for s in rec.intervals()] == [
            s.response_histogram(0) for s in both.intervals()]


def test_merge_refuses_different_journeys(impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="same journeys"):
        _rec(impl).merge(_rec(impl, ("other",)))


def test_state_moves_between_native_and_pure_twins(native: ModuleType, pure: ModuleType) -> None:
    ref = _rec(pure)
    _feed(ref, pure, [(0, 0, 3 * MS), (1, S + 1, 8 * MS)])
    ref.record(1, T0, T0, T0 + 2 * MS, pure.CONNECT)
    ours = native.Recorder.from_state(ref.to_state())
    assert ours.to_state() == ref.to_state()
    ours.finish(T0 + 2 * S)
    ref.finish(T0 + 2 * S)
    assert ours.to_state() == ref.to_state()
