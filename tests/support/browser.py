"""Headless Chromium for the HTML report test: screenshot, DOM dump, PNG decoding.

Pillow is not a dependency: PNGs are decoded with zlib + numpy (8-bit RGB/RGBA,
non-interlaced, which is what Chromium writes).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1")


def chromium() -> str:
    """Path of the Chromium binary; AssertionError (a failure, not a skip) when absent."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("chromium is not installed (apt-get install chromium); the HTML "
                         "report test needs a real browser and must not be skipped")


def run_chromium(args: list[str], profile: Path, timeout_s: float = 90.0) -> str:
    """Run Chromium headless with the project's flags; returns stdout."""
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc.stdout


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> np.ndarray:
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytes(stride)
    pos = 0
    for _ in range(height):
        ftype, line = raw[pos], raw[pos + 1:pos + 1 + stride]
        pos += stride + 1
        prev = _unfilter_line(ftype, line, prev, bpp)
        rows.append(prev)
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, bpp)


def _unfilter_line(ftype: int, line: bytes, prev: bytes, bpp: int) -> bytes:
    # plain Python ints on purpose: element access on numpy arrays is ~10x slower here
    if ftype == 0:
        return bytes(line)
    if ftype == 2:
        return bytes((x + b) & 0xFF for x, b in zip(line, prev, strict=True))
    cur = bytearray(line)
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        if ftype == 1:
            pred = a
        elif ftype == 3:
            pred = (a + prev[i]) >> 1
        else:
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        cur[i] = (cur[i] + pred) & 0xFF
    return bytes(cur)


def decode_png(data: bytes) -> np.ndarray:
    """PNG bytes -> uint8 array (height, width, channels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG variant"
    bpp = 3 if colour == 2 else 4
    return _unfilter(zlib.decompress(bytes(idat)), width, height, bpp)
