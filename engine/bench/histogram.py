"""Histogram benchmark: native twin vs pure twin vs the ``hdrhistogram`` package, one run.

``python -m engine.bench histogram [--quick]`` prints a markdown table (docs/BENCHMARKS.md
holds a copy). Timings are the best of a few repeats, in wall-clock ns from perf_counter_ns;
the machine is noisy, so this is a benchmark run by hand, never a timed test.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from types import ModuleType
from typing import Any

import numpy as np

from engine.hotpath import _pyhdr
from engine.hotpath import codec as hdr_codec

NA = "n/a"
PCTS = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)
MS = 1_000_000


@dataclass(frozen=True)
class Row:
    """One line of the table: a metric, its target, and the figure for each implementation."""

    metric: str
    target: str
    c: str
    py: str
    hdrh: str
    meets: bool | None = None


@dataclass(frozen=True)
class Sizes:
    """Sample counts: ``big`` for batch and accuracy, ``small`` for per-call Python loops."""

    big: int
    small: int
    repeat: int


def _best_ns(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        fn()
        best = min(best, time.perf_counter_ns() - t0)
    return best


def samples(kind: str, n: int, seed: int = 7) -> np.ndarray:
    """Latency samples in ns: lognormal (median 2 ms), bimodal (2 ms / 40 ms modes) or
    Pareto (alpha 1.5 from 1 ms)."""
    rng = np.random.default_rng(seed)
    if kind == "lognormal":
        x = rng.lognormal(np.log(2e6), 0.8, n)
    elif kind == "bimodal":
        fast = rng.random(n) < 0.7
        x = np.where(fast, rng.lognormal(np.log(2e6), 0.3, n), rng.lognormal(np.log(4e7), 0.2, n))
    else:
        x = (rng.pareto(1.5, n) + 1.0) * 1e6
    return np.minimum(x, 3.6e12).astype(np.int64)


def _native() -> ModuleType:
    from engine.hotpath import _native

    return _native


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def record_rows(s: Sizes, data: np.ndarray) -> list[Row]:
    """Per-value recording: C-level call, Python call, numpy batch."""
    nat = _native()
    small = data[: s.small].tolist()
    c_rec = _best_ns(lambda: nat._bench_record_c(nat.Histogram(), data), s.repeat) / data.size
    rec_c = _best_ns(lambda: nat._bench_recorder_c(nat.Recorder(["a", "b"], 0), data, 0, 1000),
                     s.repeat) / data.size
    per_py = {name: _py_loop(make, small, s.repeat) for name, make in _makers().items()}
    batch_c = _best_ns(lambda: nat.Histogram().record_many(data), s.repeat) / data.size
    batch_py = _best_ns(lambda: _pyhdr.Histogram().record_many(data), 1) / data.size
    rec_py = {name: _recorder_loop(mod, small, s.repeat)
              for name, mod in (("c", nat), ("py", _pyhdr))}
    speedup = per_py["hdrh"] / per_py["c"]
    return [
        Row("record from Cython, Histogram.record_c (ns/value)", "<= 10", _fmt(c_rec), NA, NA,
            c_rec <= 10),
        Row("Recorder.record_c per request, 3 histograms + counters (ns)", "-", _fmt(rec_c),
            NA, NA),
        Row("Recorder.record from Python, per request (ns)", "-", _fmt(rec_py["c"]),
            _fmt(rec_py["py"]), NA),
        Row("record from Python, h.record(v) (ns/value)", "-", _fmt(per_py["c"]),
            _fmt(per_py["py"]), _fmt(per_py["hdrh"])),
        Row("  speed-up over hdrhistogram record_value", ">= 20x", f"{speedup:.1f}x",
            f"{per_py['hdrh'] / per_py['py']:.1f}x", "1.0x", speedup >= 20),
        Row(f"batch record_many, {data.size:,} values (ns/value)", "<= 5", _fmt(batch_c, 2),
            _fmt(batch_py, 2), NA, batch_c <= 5),
    ]


def _makers() -> dict[str, Callable[[], Callable[[int], object]]]:
    from hdrh.histogram import HdrHistogram

    nat = _native()
    return {
        "c": lambda: nat.Histogram().record,
        "py": lambda: _pyhdr.Histogram().record,
        "hdrh": lambda: HdrHistogram(1_000, 3_600_000_000_000, 3).record_value,
    }


def _py_loop(make: Callable[[], Callable[[int], object]], values: list[int],
             repeat: int) -> float:
    def run() -> None:
        record = make()
        for v in values:
            record(v)

    return _best_ns(run, repeat) / len(values)


def _recorder_loop(mod: ModuleType, latencies: list[int], repeat: int) -> float:
    def run() -> None:
        record = mod.Recorder(["a", "b"], 0).record
        t = 0
        for i, latency in enumerate(latencies):
            t += 1_000
            record(i & 1, t, t + 1_000, t + latency, 0)

    return _best_ns(run, repeat) / len(latencies)


def accuracy_rows(s: Sizes) -> list[Row]:
    """Worst relative error over p50..p99.99 and max, against the exact order statistic."""
    from hdrh.histogram import HdrHistogram

    rows = []
    for kind in ("lognormal", "bimodal", "pareto"):
        data = samples(kind, s.big)
        exact = _exact(data)
        c, py = _native().Histogram(), _pyhdr.Histogram()
        c.record_many(data)
        py.record_many(data)
        theirs = HdrHistogram.decode(c.encode())
        errs = [_max_err(h.values_at_percentiles(PCTS), exact) for h in (c, py)]
        errs.append(_max_err([theirs.get_value_at_percentile(p) for p in PCTS], exact))
        c_err, py_err, ref_err = (f"{e:.4%}" for e in errs)
        rows.append(Row(f"percentile error, {kind} {s.big:,} (p50..p99.99, max)", "<= 0.1%",
                        c_err, py_err, ref_err, errs[0] <= 0.001))
    return rows


def _exact(data: np.ndarray) -> list[int]:
    ranks = [hdr_codec.rank_for_percentile(p, data.size) - 1 for p in PCTS]
    part = np.partition(data, ranks)
    return [int(part[r]) for r in ranks]


def _max_err(got: Sequence[int], exact: Sequence[int]) -> float:
    return max(abs(g - e) / e for g, e in zip(got, exact, strict=True))


def memory_rows(data: np.ndarray) -> list[Row]:
    """Bytes held by one default histogram, empty and after 1e9 recorded values."""
    from hdrh.histogram import HdrHistogram

    c = _native().Histogram()
    empty_c = c.memory_bytes
    for _ in range(max(1, 10**9 // data.size)):
        c.record_many(data)
    py = _pyhdr.Histogram()
    ref = HdrHistogram(1_000, 3_600_000_000_000, 3)
    ref_bytes = ctypes.sizeof(ref.counts) + ref.__sizeof__()
    return [
        Row("memory, empty 1 µs..1 h 3-digit histogram (bytes)", "< 200 KB", f"{empty_c:,}",
            f"{py.memory_bytes:,}", f"{ref_bytes:,}", empty_c < 200_000),
        Row(f"memory after {c.total_count:,} values (bytes)", "< 200 KB",
            f"{c.memory_bytes:,}", f"{py.memory_bytes:,}", f"{ref_bytes:,}",
            c.memory_bytes < 200_000),
    ]


def merge_query_rows(s: Sizes, data: np.ndarray) -> list[Row]:
    """Merging 64 histograms, percentile queries, encode/decode, for all three."""
    sets = {name: _filled_set(name, data) for name in ("c", "py", "hdrh")}
    blobs = {n: sets[n][0].encode() for n in sets}
    merge, query, enc, dec = {}, {}, {}, {}
    for n, hists in sets.items():
        merge[n] = _best_ns(partial(_merge_all, n, hists), s.repeat) / 1e6
        query[n] = _best_ns(partial(_query, n, hists[0]), s.repeat) / 1e3
        enc[n] = _best_ns(hists[0].encode, s.repeat) / 1e3
        dec[n] = _best_ns(partial(_decode, n, blobs[n]), s.repeat) / 1e3
    c, py, ref = (f"{len(blobs[n]):,}" for n in ("c", "py", "hdrh"))
    return [
        Row("merge 64 histograms (ms)", "< 5", *_cols(merge, 2), merge["c"] < 5),
        Row(f"{len(PCTS)} percentiles in one pass (µs)", "-", *_cols(query)),
        Row("encode to V2 base64 (µs)", "-", *_cols(enc)),
        Row("decode from V2 base64 (µs)", "-", *_cols(dec)),
        Row("encoded size (bytes)", "-", c, py, ref),
    ]


def _cols(d: dict[str, float], digits: int = 1) -> tuple[str, str, str]:
    return _fmt(d["c"], digits), _fmt(d["py"], digits), _fmt(d["hdrh"], digits)


def _filled_set(name: str, data: np.ndarray) -> list[Any]:
    from hdrh.histogram import HdrHistogram

    out: list[Any] = []
    for k in range(64):
        chunk = data[k * 10_000:(k + 1) * 10_000]
        h: Any = _native().Histogram() if name == "c" else _pyhdr.Histogram()
        h.record_many(chunk)
        out.append(HdrHistogram.decode(h.encode()) if name == "hdrh" else h)
    return out


def _merge_all(name: str, hists: list[Any]) -> None:
    from hdrh.histogram import HdrHistogram

    total: Any = (HdrHistogram(1_000, 3_600_000_000_000, 3) if name == "hdrh"
                  else type(hists[0])())
    for h in hists:
        total.add(h)


def _query(name: str, h: Any) -> object:
    return h.get_percentile_to_value_dict(list(PCTS)) if name == "hdrh" \
        else h.values_at_percentiles(PCTS)


def _decode(name: str, blob: Any) -> object:
    from hdrh.histogram import HdrHistogram

    cls: Any = {"c": _native().Histogram, "py": _pyhdr.Histogram, "hdrh": HdrHistogram}[name]
    return cls.decode(blob)


def machine() -> str:
    """One line naming the CPU, cores and library versions this run used."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    vers = ", ".join(f"{p} {metadata.version(p)}" for p in ("numpy", "cython", "hdrhistogram"))
    return (f"{cpu}, {os.cpu_count()} logical CPUs, Linux {platform.release()}, "
            f"Python {platform.python_version()}, {vers}")


def run(s: Sizes) -> list[Row]:
    """All rows, computed (no printing)."""
    data = samples("lognormal", s.big)
    return (record_rows(s, data) + accuracy_rows(s) + memory_rows(data)
            + merge_query_rows(s, data))


def render(rows: Sequence[Row]) -> str:
    """Markdown table of ``rows``; the last column says whether the native twin met it."""
    mark = {True: "yes", False: "**no**", None: ""}
    lines = ["| metric | target | native (c) | pure (py) | hdrhistogram | met |",
             "|---|---|---:|---:|---:|---|"]
    lines += [f"| {r.metric} | {r.target} | {r.c} | {r.py} | {r.hdrh} | {mark[r.meets]} |"
              for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Entry point for ``python -m engine.bench histogram``."""
    parser = argparse.ArgumentParser(prog="python -m engine.bench histogram")
    parser.add_argument("--quick", action="store_true",
                        help="1M samples instead of 10M (smoke run; targets are for 10M)")
    args = parser.parse_args(list(argv))
    sizes = Sizes(1_000_000, 20_000, 2) if args.quick else Sizes(10_000_000, 200_000, 3)
    print(f"Machine: {machine()}")
    print(render(run(sizes)))
    return 0
