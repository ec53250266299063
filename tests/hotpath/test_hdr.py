"""HDR histogram behaviour, run against both twins (ids py / c)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.hotpath import codec as hdr_codec

HIGHEST = 3_600_000_000_000
FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # impl/pure are stateless modules
values_st = st.lists(st.integers(min_value=0, max_value=HIGHEST), max_size=60)
small_st = st.lists(st.integers(min_value=0, max_value=10**7), max_size=60)
PCTS = [0.0, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0]


def _lognormal(n: int = 200_000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.lognormal(np.log(2e6), 0.8, n).astype(np.int64)


def _filled(impl: ModuleType, values: list[int] | np.ndarray, **kw: int) -> Any:
    h = impl.Histogram(**kw)
    for v in np.asarray(values, dtype=np.int64).tolist():
        h.record(v)
    return h


def test_default_layout_is_under_200kb_and_states_its_error(impl: ModuleType) -> None:
    h = impl.Histogram()
    assert (h.lowest, h.highest, h.significant_digits) == (1_000, HIGHEST, 3)
    assert len(h.counts()) == 24_576
    assert h.memory_bytes < 200_000
    assert h.relative_error == pytest.approx(1 / 1024)


def test_bad_config_is_a_clear_value_error(impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="significant_digits"):
        impl.Histogram(significant_digits=7)
    with pytest.raises(ValueError, match="highest"):
        impl.Histogram(lowest=1000, highest=1500)
    with pytest.raises(ValueError, match="highest"):
        impl.Histogram(highest=2**70)
    with pytest.raises(ValueError, match="lowest"):
        impl.Histogram(lowest=1000.0)


def test_empty_histogram_reports_zeros(impl: ModuleType) -> None:
    h = impl.Histogram()
    assert (h.total_count, h.min, h.max, h.mean, h.stdev) == (0, 0, 0, 0.0, 0.0)
    assert h.value_at_percentile(99) == 0
    assert h.values_at_percentiles([50, 99]) == [0, 0]


def test_out_of_range_values_are_counted_not_raised(impl: ModuleType) -> None:
    h = impl.Histogram()
    assert h.record(-5) is False
    assert h.record(HIGHEST + 1, 3) is False
    assert h.record(HIGHEST) is True
    assert h.record(10, 0) is False
    assert (h.underflow_count, h.overflow_count, h.total_count) == (1, 3, 1)
    assert h.record(2**70) is False and h.record(-(2**70)) is False  # beyond int64: counted too
    assert h.record_corrected(2**70, 5) is False
    assert h.record_corrected(HIGHEST, 2**70) is True  # interval above the value: no fill-in
    assert (h.underflow_count, h.overflow_count, h.total_count) == (2, 5, 2)
    assert h.max == HIGHEST


def test_record_with_count_and_stats(impl: ModuleType) -> None:
    h = impl.Histogram(lowest=1, highest=10**6)
    h.record(100, 3)
    h.record(300)
    assert (h.total_count, h.min, h.max) == (4, 100, 300)
    assert h.mean == pytest.approx(150.0)
    assert h.stdev == pytest.approx(np.std([100, 100, 100, 300]))


def test_equivalent_values_match_hdrhistogram(impl: ModuleType) -> None:
    h = impl.Histogram()
    ref = HdrHistogram(1_000, HIGHEST, 3)
    for v in [0, 1, 511, 512, 1_000, 1_048_575, 1_048_576, 123_456_789, HIGHEST]:
        assert h.lowest_equivalent(v) == ref.get_lowest_equivalent_value(v)
        assert h.highest_equivalent(v) == ref.get_highest_equivalent_value(v)


def test_percentiles_are_the_exact_sample_bucket_within_the_bound(impl: ModuleType) -> None:
    data = _lognormal()
    h = impl.Histogram()
    assert h.record_many(data) == data.size
    ordered = np.sort(data)
    got = h.values_at_percentiles(PCTS)
    for p, value in zip(PCTS, got, strict=True):
        exact = int(ordered[hdr_codec.rank_for_percentile(p, data.size) - 1])
        expected = min(max(h.highest_equivalent(exact), h.min), h.max)
        assert value == (h.min if p == 0 else expected)
        if exact >= 512 * 1024:
            assert abs(value - exact) / exact <= h.relative_error
    assert got[-1] == int(ordered[-1]) == h.max
    assert h.value_at_percentile(99.9) == got[6]


def test_bad_percentile_is_a_value_error(impl: ModuleType) -> None:
    h = impl.Histogram()
    with pytest.raises(ValueError, match="percentile"):
        h.value_at_percentile(101)


def test_record_many_equals_recording_one_by_one(impl: ModuleType) -> None:
    values = np.array([-3, 0, 5, 1_500, 10**9, HIGHEST, HIGHEST + 7, 10**9], dtype=np.int64)
    batch = impl.Histogram()
    assert batch.record_many(values) == 6
    assert batch == _filled(impl, values)
    assert (batch.underflow_count, batch.overflow_count) == (1, 1)
    assert (batch.min, batch.max) == (0, HIGHEST)
    with pytest.raises(TypeError):
        batch.record_many(np.array([1.5]))


def test_corrected_matches_hdrhistogram_worked_example(impl: ModuleType) -> None:
    # HdrHistogram's recordValueWithExpectedInterval(10000, 1000) adds 9000, 8000 ... 1000
    h = impl.Histogram(lowest=1, highest=10**6)
    assert h.record_corrected(10_000, 1_000)
    values, counts = h.recorded()
    assert h.total_count == 10 and counts.tolist() == [1] * 10
    assert [h.lowest_equivalent(int(v)) for v in values] == [
        h.lowest_equivalent(k * 1_000) for k in range(1, 11)]
    # a non-multiple stops at the last missing value >= interval: 10, 7, 4 (not 1)
    h2 = impl.Histogram(lowest=1, highest=10**6)
    h2.record_corrected(10, 3, count=2)
    assert h2.recorded()[0].tolist() == [4, 7, 10] and h2.min == 4


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(value=st.integers(0, 10**7), interval=st.integers(-5, 10**5), count=st.integers(1, 4))
def test_corrected_equals_naive_loop(impl: ModuleType, value: int, interval: int,
                                     count: int) -> None:
    fast = impl.Histogram()
    fast.record_corrected(value, interval, count)
    naive = impl.Histogram()
    naive.record(value, count)
    missing = value - interval
    while interval > 0 and value > interval and missing >= interval:
        naive.record(missing, count)
        missing -= interval
    assert fast == naive and fast.min == naive.min


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(a=values_st, b=values_st)
def test_merge_equals_recording_both_streams(impl: ModuleType, a: list[int],
                                             b: list[int]) -> None:
    merged = _filled(impl, a)
    merged.add(_filled(impl, b))
    both = _filled(impl, a + b)
    assert merged == both
    assert (merged.min, merged.max, merged.total_count) == (both.min, both.max, both.total_count)


def test_merge_of_other_config_rerecords_by_bucket(impl: ModuleType) -> None:
    fine = impl.Histogram(lowest=1, highest=10**9, significant_digits=4)
    fine.record(5_000_000, 2)
    fine.record(-1)
    coarse = impl.Histogram()
    coarse.add(fine)
    assert coarse.total_count == 2 and coarse.underflow_count == 1
    assert coarse.lowest_equivalent(coarse.max) == coarse.lowest_equivalent(5_000_000)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(values=values_st)
def test_encode_decode_round_trips(impl: ModuleType, values: list[int]) -> None:
    h = _filled(impl, values)
    text = h.encode()
    assert text.startswith("HISTF")
    back = impl.Histogram.decode(text)
    assert back == h and back.total_count == len(values)
    assert impl.Histogram.decode(text.encode()) == h


def test_decode_rejects_garbage_with_value_error(impl: ModuleType) -> None:
    for bad in ["", "not base64!", "SElTVEZBQUFB", impl.Histogram().encode()[:-8]]:
        with pytest.raises(ValueError):
            impl.Histogram.decode(bad)


def test_encoding_is_read_by_hdrhistogram(impl: ModuleType) -> None:
    data = _lognormal(20_000, seed=3)
    ours = impl.Histogram()
    ours.record_many(data)
    theirs = HdrHistogram.decode(ours.encode())
    assert theirs.get_total_count() == data.size
    their_counts = [theirs.get_count_at_index(i) for i in range(theirs.counts_len)]
    assert their_counts == ours.counts().tolist()


def test_decodes_what_hdrhistogram_wrote(impl: ModuleType) -> None:
    ref = HdrHistogram(1_000, HIGHEST, 3)
    values = _lognormal(20_000, seed=4)
    for v in values.tolist():
        ref.record_value(v)
    ref.record_value(7, 5)
    ours = impl.Histogram.decode(ref.encode())
    expected = impl.Histogram()
    expected.record_many(values)
    expected.record(7, 5)
    assert ours == expected
    assert ours.max == ref.get_max_value()


def test_copy_reset_and_recorded(impl: ModuleType) -> None:
    h = _filled(impl, [2_000, 2_000, 3_000_000])
    c = h.copy()
    h.reset()
    assert h.total_count == 0 and h == impl.Histogram() and c.total_count == 3
    values, counts = c.recorded()
    assert counts.sum() == 3 and values.dtype == np.int64 and counts.dtype == np.int64
    assert c.counts().dtype == np.int64 and c != h


@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURE_OK)
@given(values=small_st, pcts=st.lists(st.floats(0, 100), min_size=1, max_size=5))
def test_native_and_pure_twins_agree(native: ModuleType, pure: ModuleType, values: list[int],
                                     pcts: list[float]) -> None:
    ours, ref = _filled(native, values), _filled(pure, values)
    assert ours.encode() == ref.encode()
    assert ours.values_at_percentiles(pcts) == ref.values_at_percentiles(pcts)
    assert (ours.min, ours.max, ours.total_count) == (ref.min, ref.max, ref.total_count)
    assert ours.mean == pytest.approx(ref.mean) and ours.stdev == pytest.approx(ref.stdev)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(values=values_st, counts=st.lists(st.integers(1, 2**40), max_size=60))
def test_interop_both_ways_on_any_values(impl: ModuleType, values: list[int],
                                         counts: list[int]) -> None:
    ref = HdrHistogram(1_000, HIGHEST, 3)
    ours = impl.Histogram()
    for v, c in zip(values, counts + [1] * len(values), strict=False):
        ref.record_value(v, c)
        ours.record(v, c)
    assert impl.Histogram.decode(ref.encode()) == ours
    back = HdrHistogram.decode(ours.encode())
    assert back.get_total_count() == ours.total_count
    assert ours.encode() == ref.encode().decode("ascii")


def test_decodes_other_configurations_from_hdrhistogram(impl: ModuleType) -> None:
    ref = HdrHistogram(1, 10**6, 2)
    for v in (0, 1, 99, 100, 101, 12_345, 999_999):
        ref.record_value(v)
    ours = impl.Histogram.decode(ref.encode())
    assert (ours.lowest, ours.highest, ours.significant_digits) == (1, 10**6, 2)
    assert ours.total_count == 7
    assert ours.counts().tolist() == [ref.get_count_at_index(i) for i in range(ref.counts_len)]


def test_decodes_java_style_lone_zero(impl: ModuleType) -> None:
    # HdrHistogram (Java) writes one zero count as 0, not as a run of -1: counts 1, 0, 1
    blob = hdr_codec.pack(hdr_codec.layout(1_000, HIGHEST, 3), bytes([2, 0, 2]))
    assert impl.Histogram.decode(blob).counts()[:4].tolist() == [1, 0, 1, 0]


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(values=st.lists(st.integers(0, HIGHEST), min_size=1, max_size=80),
       pcts=st.lists(st.floats(0, 100), min_size=1, max_size=6))
def test_percentiles_within_bound_for_any_data(impl: ModuleType, values: list[int],
                                               pcts: list[float]) -> None:
    h = _filled(impl, values)
    ordered = sorted(values)
    for p, got in zip(pcts, h.values_at_percentiles(pcts), strict=True):
        exact = ordered[hdr_codec.rank_for_percentile(p, len(values)) - 1]
        assert h.lowest_equivalent(exact) <= got <= h.highest_equivalent(exact)
        assert abs(got - exact) <= max(exact * h.relative_error, 511)
