"""HDR histogram layout and HdrHistogram's compressed V2 wire format, shared by both twins.

The layout is HdrHistogram's log-linear bucketing: ``lowest`` fixes the unit (rounded down
to a power of two, ``2**unit_magnitude`` ns), ``significant_digits`` fixes the sub-buckets
per power of two, ``highest`` fixes how many powers of two are covered.

The wire format (what HdrHistogram's log files and ``hdrh`` call a "histoblob"):
    base64( cookie 0x1c849314 | u32 length | zlib( 40-byte header | counts ) )
where the inner header is cookie 0x1c849313, u32 payload length, u32 normalizing index
offset, u32 significant digits, u64 lowest, u64 highest, f64 integer-to-double ratio (all
big-endian) and counts are zig-zag LEB128 varints (at most 9 bytes, the 9th carries 8 bits);
a negative varint -n stands for n consecutive zero counts (a lone zero may also be 0).
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

ENCODING_COOKIE = 0x1C849303 | 0x10
COMPRESSION_COOKIE = 0x1C849304 | 0x10
_OUTER = struct.Struct(">II")
_INNER = struct.Struct(">IIIIqqd")
MAX_HIGHEST = 2**53  # values stay exact in float64, which the vectorized paths rely on
MAX_COUNTS_LEN = 1 << 22  # refuse to allocate more than 32 MiB of counts from a decoded blob
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Layout:
    """Bucket geometry of one histogram configuration (all values in the recorded unit)."""

    lowest: int
    highest: int
    significant_digits: int
    unit_magnitude: int
    sub_bucket_half_count_magnitude: int
    sub_bucket_half_count: int
    sub_bucket_mask: int
    bucket_count: int
    counts_len: int

    @property
    def relative_error(self) -> float:
        """Largest bucket width divided by the bucket's lowest value, for values at or above
        ``2**unit_magnitude * sub_bucket_half_count`` (0.5 ms at the defaults); below that the
        error is absolute, at most ``2**unit_magnitude`` - 1 (511 ns at the defaults)."""
        return 1.0 / self.sub_bucket_half_count


def layout(lowest: int, highest: int, significant_digits: int) -> Layout:
    """Validate a configuration and compute its layout; ValueError names the bad argument."""
    for name, arg in (("lowest", lowest), ("highest", highest),
                      ("significant_digits", significant_digits)):
        # checked before the cache, which would take 1000.0 for 1000
        if not isinstance(arg, int) or isinstance(arg, bool):
            raise ValueError(f"{name} must be an integer, got {arg!r}")
    return _layout(lowest, highest, significant_digits)


@functools.lru_cache(maxsize=64)
def _layout(lowest: int, highest: int, significant_digits: int) -> Layout:
    if lowest < 1:
        raise ValueError(f"lowest must be an integer >= 1, got {lowest!r}")
    if highest < 2 * lowest or highest > MAX_HIGHEST:
        raise ValueError(f"highest must be an integer in [2*lowest, 2**53], got {highest!r}")
    if not 1 <= significant_digits <= 5:
        raise ValueError(
            f"significant_digits must be an integer in 1..5, got {significant_digits!r}")
    unit = lowest.bit_length() - 1
    count_mag = (2 * 10**significant_digits - 1).bit_length()
    half_mag = max(count_mag - 1, 0)
    sub_count = 1 << (half_mag + 1)
    buckets, untrackable = 1, sub_count << unit
    while untrackable <= highest:
        untrackable <<= 1
        buckets += 1
    half = sub_count // 2
    return Layout(lowest, highest, significant_digits, unit, half_mag, half,
                  (sub_count - 1) << unit, buckets, (buckets + 1) * half)


@functools.lru_cache(maxsize=16)
def bucket_values(lay: Layout) -> tuple[I64, I64]:
    """(lowest equivalent value, bucket width) for every counts index, as read-only arrays."""
    idx = np.arange(lay.counts_len, dtype=np.int64)
    bucket = (idx >> lay.sub_bucket_half_count_magnitude) - 1
    sub = (idx & (lay.sub_bucket_half_count - 1)) + lay.sub_bucket_half_count
    low_bucket = bucket < 0
    sub[low_bucket] -= lay.sub_bucket_half_count
    bucket[low_bucket] = 0
    lows = sub << (bucket + lay.unit_magnitude)
    widths = np.int64(1) << (bucket + lay.unit_magnitude)
    lows.setflags(write=False)
    widths.setflags(write=False)
    return lows, widths


def rank_for_percentile(percentile: float, total: int) -> int:
    """1-based rank of the sample at ``percentile`` among ``total``: ceil(p/100 * total), at
    least 1, with float noise within 1e-9 of an integer rounded away (numpy's inverted_cdf)."""
    x = percentile * float(total) / 100.0
    r = round(x)
    rank = r if abs(x - r) <= 1e-9 * max(1.0, x) else math.ceil(x)
    return max(int(rank), 1)


def check_percentile(percentile: float) -> float:
    """Return ``percentile`` as float, or raise ValueError unless it is in [0, 100]."""
    p = float(percentile)
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile must be in [0, 100], got {percentile!r}")
    return p


def encode_counts(counts: I64) -> bytes:
    """Zig-zag LEB128 counts up to the last non-zero one; every run of n >= 1 zeros is the
    varint -n, as HdrHistogram_c and hdrh write it (Java writes a lone zero as 0; both read)."""
    nz = np.flatnonzero(counts)
    out = bytearray()
    prev = 0
    for i in nz.tolist():
        if i > prev:
            _put_varint(out, prev - i)
        _put_varint(out, int(counts[i]))
        prev = i + 1
    return bytes(out)


def _put_varint(out: bytearray, value: int) -> None:
    v = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    for _ in range(8):
        if v < 0x80:
            out.append(v)
            return
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v & 0xFF)


def decode_counts(payload: bytes, counts_len: int) -> I64:
    """Inverse of encode_counts into a zeroed array of ``counts_len``; ValueError if corrupt."""
    counts = np.zeros(counts_len, dtype=np.int64)
    pos, idx, end = 0, 0, len(payload)
    while pos < end:
        value, pos = _get_varint(payload, pos)
        if value < 0:
            idx -= value
            continue
        if idx >= counts_len:
            raise ValueError("HdrHistogram payload has more counts than its header allows")
        counts[idx] = value
        idx += 1
    return counts


def _get_varint(buf: bytes, pos: int) -> tuple[int, int]:
    v, shift = 0, 0
    try:
        for _ in range(8):
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            if b < 0x80:
                return (v >> 1) ^ -(v & 1), pos
            shift += 7
        v |= buf[pos] << 56
    except IndexError:
        raise ValueError("HdrHistogram payload ends inside a varint") from None
    v = v - (1 << 64) if v >= 1 << 63 else v
    return (v >> 1 & 0x7FFFFFFFFFFFFFFF) ^ -(v & 1), pos + 1


def pack(lay: Layout, payload: bytes) -> str:
    """Wrap varint ``payload`` into a base64 compressed V2 histoblob ("HISTF...")."""
    inner = _INNER.pack(ENCODING_COOKIE, len(payload), 0, lay.significant_digits,
                        lay.lowest, lay.highest, 1.0) + payload
    body = zlib.compress(inner)
    return base64.b64encode(_OUTER.pack(COMPRESSION_COOKIE, len(body)) + body).decode("ascii")


def unpack(data: str | bytes) -> tuple[Layout, bytes]:
    """Parse a base64 compressed V2 histoblob into (layout, varint payload).

    Raises ValueError with a message naming what was expected for anything else."""
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("expected a base64 HdrHistogram V2 histoblob ('HISTF...')") from None
    if len(raw) < _OUTER.size:
        raise ValueError("HdrHistogram histoblob is too short")
    cookie, length = _OUTER.unpack_from(raw)
    if cookie & ~0xF0 != COMPRESSION_COOKIE & ~0xF0 or length != len(raw) - _OUTER.size:
        raise ValueError(f"not a compressed V2 HdrHistogram (cookie {cookie:#x})")
    try:
        inner = zlib.decompress(raw[_OUTER.size:])
    except zlib.error as exc:
        raise ValueError(f"HdrHistogram histoblob is not valid zlib data: {exc}") from None
    return _parse_inner(inner)


def _parse_inner(inner: bytes) -> tuple[Layout, bytes]:
    if len(inner) < _INNER.size:
        raise ValueError("HdrHistogram payload is shorter than its header")
    cookie, plen, offset, digits, lowest, highest, _ = _INNER.unpack_from(inner)
    if cookie & ~0xF0 != ENCODING_COOKIE & ~0xF0:
        raise ValueError(f"not a V2 HdrHistogram encoding (cookie {cookie:#x})")
    if offset != 0:
        raise ValueError("HdrHistogram with a normalizing index offset is not supported")
    if plen > len(inner) - _INNER.size:
        raise ValueError("HdrHistogram payload is truncated")
    lay = layout(int(lowest), int(highest), int(digits))
    if lay.counts_len > MAX_COUNTS_LEN:
        raise ValueError("HdrHistogram configuration is too large to decode")
    return lay, inner[_INNER.size:_INNER.size + plen]
