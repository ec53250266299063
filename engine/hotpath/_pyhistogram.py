"""Pure-Python twin of the native HDR Histogram and clock (part of engine.hotpath._pyhdr)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.hotpath import codec

__all__ = ["Histogram", "monotonic_ns"]

_NO_MIN = sys.maxsize


def monotonic_ns() -> int:
    """Monotonic clock in integer nanoseconds (CLOCK_MONOTONIC)."""
    return time.monotonic_ns()


class Histogram:
    """Log-linear HDR histogram of non-negative integers (ns by convention)."""

    def __init__(self, lowest: int = 1_000, highest: int = 3_600_000_000_000,
                 significant_digits: int = 3) -> None:
        self._lay = codec.layout(lowest, highest, significant_digits)
        self._counts = np.zeros(self._lay.counts_len, dtype=np.int64)
        self._total = self._under = self._over = self._max = 0
        self._min = _NO_MIN

    lowest = property(lambda self: self._lay.lowest, doc="lowest discernible value")
    highest = property(lambda self: self._lay.highest, doc="highest recordable value")
    significant_digits = property(lambda self: self._lay.significant_digits)
    total_count = property(lambda self: self._total, doc="in-range values recorded")
    underflow_count = property(lambda self: self._under, doc="values < 0 seen")
    overflow_count = property(lambda self: self._over, doc="values > highest seen")
    max = property(lambda self: self._max, doc="largest value recorded, 0 when empty")
    relative_error = property(lambda self: self._lay.relative_error)

    @property
    def min(self) -> int:
        """Smallest value recorded, 0 when empty."""
        return 0 if self._total == 0 else self._min

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the counts array (data and header) plus the object itself."""
        return sys.getsizeof(self) + sys.getsizeof(self._counts)

    def _index(self, v: int) -> int:
        lay = self._lay
        b = (v | lay.sub_bucket_mask).bit_length() - lay.unit_magnitude \
            - lay.sub_bucket_half_count_magnitude - 1
        return ((b + 1) << lay.sub_bucket_half_count_magnitude) \
            + (v >> (b + lay.unit_magnitude)) - lay.sub_bucket_half_count

    def record(self, value: int, count: int = 1) -> bool:
        """Add ``count`` (>= 1) occurrences of ``value``; False (and counted) if out of range."""
        if count < 1:
            return False
        if value < 0 or value > self._lay.highest:
            if value < 0:
                self._under += count
            else:
                self._over += count
            return False
        self._counts[self._index(value)] += count
        self._total += count
        self._min = min(self._min, value)
        self._max = max(self._max, value)
        return True

    def record_corrected(self, value: int, expected_interval: int, count: int = 1) -> bool:
        """Record ``value`` plus the samples coordinated omission hid, as HdrHistogram's
        recordValueWithExpectedInterval: value - k*interval for every k >= 1 while >= interval."""
        if not self.record(value, count):
            return False
        if expected_interval <= 0 or value <= expected_interval:
            return True
        v = value - expected_interval
        while v >= expected_interval:
            # add every term of the arithmetic sequence that falls in v's bucket at once
            i = self._index(v)
            n = (v - max(int(codec.bucket_values(self._lay)[0][i]), expected_interval)) \
                // expected_interval + 1
            self._counts[i] += n * count
            self._total += n * count
            v -= n * expected_interval
        self._min = min(self._min, v + expected_interval)
        return True

    def record_many(self, values: Any) -> int:
        """Record every value of an integer numpy array; returns how many were in range."""
        arr = np.asarray(values)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"record_many expects an integer array, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False).ravel()
        under = int(np.count_nonzero(arr < 0))
        over = int(np.count_nonzero(arr > self._lay.highest))
        ok = arr[(arr >= 0) & (arr <= self._lay.highest)] if under or over else arr
        self._under += under
        self._over += over
        if ok.size:
            self._counts += np.bincount(self._indices(ok), minlength=self._lay.counts_len)
            self._total += int(ok.size)
            self._min = min(self._min, int(ok.min()))
            self._max = max(self._max, int(ok.max()))
        return int(ok.size)

    def _indices(self, ok: Any) -> Any:
        lay = self._lay
        # frexp's exponent is the bit length; exact because values are <= 2**53
        bits = np.frexp((ok | lay.sub_bucket_mask).astype(np.float64))[1].astype(np.int64)
        b = bits - lay.unit_magnitude - lay.sub_bucket_half_count_magnitude - 1
        return ((b + 1) << lay.sub_bucket_half_count_magnitude) \
            + (ok >> (b + lay.unit_magnitude)) - lay.sub_bucket_half_count

    def add(self, other: Any) -> None:
        """Merge ``other`` (either twin) into this one; other configs are re-recorded by
        bucket at each bucket's lowest equivalent value, as HdrHistogram does."""
        if self._same_config(other):
            self._counts += other.counts()
            self._total += other.total_count
            if other.total_count:
                self._min = min(self._min, other.min)
                self._max = max(self._max, other.max)
        else:
            values, counts = other._bucket_lows()
            for v, c in zip(values.tolist(), counts.tolist(), strict=True):
                self.record(v, c)
        self._under += other.underflow_count
        self._over += other.overflow_count

    def _same_config(self, other: Any) -> bool:
        return bool(self.lowest == other.lowest and self.highest == other.highest
                    and self.significant_digits == other.significant_digits)

    def _bucket_lows(self) -> tuple[Any, Any]:
        nz = np.flatnonzero(self._counts)
        return codec.bucket_values(self._lay)[0][nz], self._counts[nz]

    def value_at_percentile(self, percentile: float) -> int:
        """Value at ``percentile`` in [0, 100]: the highest equivalent value of the bucket
        holding the rank-ceil(p/100*total) sample, clamped to [min, max]; 0 when empty."""
        return self.values_at_percentiles([percentile])[0]

    def values_at_percentiles(self, percentiles: Sequence[float]) -> list[int]:
        """value_at_percentile for each of ``percentiles`` (any order), in one pass."""
        ps = [codec.check_percentile(p) for p in percentiles]
        if self._total == 0:
            return [0 for _ in ps]
        lows, widths = codec.bucket_values(self._lay)
        ranks = np.array([codec.rank_for_percentile(p, self._total) for p in ps], np.int64)
        idx = np.searchsorted(np.cumsum(self._counts), ranks, side="left")
        vals = np.clip(lows[idx] + widths[idx] - 1, self._min, self._max).tolist()
        return [self._min if p == 0.0 else int(v) for p, v in zip(ps, vals, strict=True)]

    @property
    def mean(self) -> float:
        """Mean of the bucket median-equivalent values; 0.0 when empty."""
        if self._total == 0:
            return 0.0
        return float(np.dot(self._medians(), self._counts.astype(np.float64))) / self._total

    @property
    def stdev(self) -> float:
        """Population standard deviation over bucket median-equivalent values; 0.0 if empty."""
        if self._total == 0:
            return 0.0
        dev = self._medians() - self.mean
        return math.sqrt(float(np.dot(dev * dev, self._counts.astype(np.float64))) / self._total)

    def _medians(self) -> Any:
        lows, widths = codec.bucket_values(self._lay)
        return (lows + (widths >> 1)).astype(np.float64)

    def reset(self) -> None:
        """Forget every recorded value and out-of-range count."""
        self._counts[:] = 0
        self._total = self._under = self._over = self._max = 0
        self._min = _NO_MIN

    def copy(self) -> Histogram:
        """An independent histogram with the same configuration and contents."""
        h = Histogram(self.lowest, self.highest, self.significant_digits)
        h._counts[:] = self._counts
        h._total, h._under, h._over = self._total, self._under, self._over
        h._min, h._max = self._min, self._max
        return h

    def counts(self) -> Any:
        """Copy of the bucket counts (int64, length = number of buckets)."""
        return self._counts.copy()

    def recorded(self) -> tuple[Any, Any]:
        """(median-equivalent values, counts) of the non-empty buckets, values ascending."""
        nz = np.flatnonzero(self._counts)
        return self._medians()[nz].astype(np.int64), self._counts[nz].copy()

    def lowest_equivalent(self, value: int) -> int:
        """Smallest value sharing ``value``'s bucket (0 <= value <= highest)."""
        return int(codec.bucket_values(self._lay)[0][self._index(value)])

    def highest_equivalent(self, value: int) -> int:
        """Largest value sharing ``value``'s bucket (0 <= value <= highest)."""
        lows, widths = codec.bucket_values(self._lay)
        i = self._index(value)
        return int(lows[i] + widths[i] - 1)

    def encode(self) -> str:
        """Base64 compressed V2 HdrHistogram encoding ("HISTF..."); out-of-range counts
        and the exact min/max are not part of the format."""
        return codec.pack(self._lay, codec.encode_counts(self._counts))

    @classmethod
    def decode(cls, data: str | bytes) -> Histogram:
        """Histogram from a V2 histoblob (ours or any HdrHistogram's); ValueError if invalid.
        min/max become the decoded lowest/highest non-empty bucket bounds."""
        lay, payload = codec.unpack(data)
        h = cls(lay.lowest, lay.highest, lay.significant_digits)
        h._counts[:] = codec.decode_counts(payload, lay.counts_len)
        h._total = int(h._counts.sum())
        nz = np.flatnonzero(h._counts)
        if nz.size:
            lows, widths = codec.bucket_values(lay)
            h._min = int(lows[nz[0]])
            h._max = int(lows[nz[-1]] + widths[nz[-1]] - 1)
        return h

    def _set_out_of_range(self, underflow: int, overflow: int) -> None:
        self._under, self._over = underflow, overflow

    def __eq__(self, other: object) -> bool:
        if not hasattr(other, "counts") or not hasattr(other, "significant_digits"):
            return NotImplemented
        return (self._same_config(other) and self._under == other.underflow_count  # type: ignore[attr-defined]
                and self._over == other.overflow_count  # type: ignore[attr-defined]
                and bool(np.array_equal(self._counts, other.counts())))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Histogram(lowest={self.lowest}, highest={self.highest}, "
                f"significant_digits={self.significant_digits}, total_count={self._total})")
