"""The figures three of the regression gate's constants were measured from, read from
history databases of A-vs-A applies (issue #14; docs/STATISTICS.md):

- drift: the engine's own drift estimator (engine.analysis.drift.run_noise) over each
  spec's valid baseline runs, pooled over the series by degrees of freedom, of the p50 and
  the p95, for the whole service and per journey: the one-run priors
  ``StatsConfig.assumed_drift`` (median) and ``tail_drift`` (p90 and above);
- slope: log of the target's main Server-Timing component's median against log of the
  machine-speed probe's, each centred per series (``machine_speed.REACHED`` is about half);
- lag: each baseline run's generator lag p99 over the median of the spec's earlier ones
  (``generator_lag.LAG_TIMES``), and over their p50 (``LAG_SHARE``).

Usage: ``python benchmarks/calibrate.py .perfopt/history.db [more.db ...]`` (the quick
start's history after a few applies, or a power run's). Prints; changes nothing.
"""

from __future__ import annotations

import math
import statistics
import sys

import numpy as np

from engine.analysis.drift import run_noise
from engine.analysis.generator_lag import generator_lag
from engine.analysis.groups import pool
from engine.analysis.machine_speed import component_p50_ns, main_component, probe_ns
from engine.history.store import HistoryStore
from engine.result import RunResult


def _series(db: str) -> dict[str, list[RunResult]]:
    """Each spec's valid baseline runs of its own profile (no hypothesis, no set-aside), oldest first."""
    with HistoryStore(db, create=False) as h:
        rows = sorted(h.runs(limit=5000), key=lambda s: s.id)
        out: dict[str, list[RunResult]] = {}
        for s in rows:
            if s.profile == "baseline" and not s.variant:
                run = h.load_result(s.id)
                if run.validity.valid:
                    out.setdefault(f"{db}:{s.spec}", []).append(run)
    return out


def _drift(series: dict[str, list[RunResult]], metric: str = "p50",
           journeys: bool = False) -> str:
    """``metric``'s drift pooled by degrees of freedom over the series of 3+ runs: each
    series' whole service, or with ``journeys`` each of its journeys instead."""
    num = df = 0.0
    for runs in series.values():
        if len(runs) < 3:
            continue
        names = sorted({j.name for r in runs for j in r.journeys}) if journeys else [None]
        for name in names:
            group = pool(runs, name)
            if any(part.requests == 0 for part in group.per_run):
                continue
            n = run_noise((group,), metric, np.random.default_rng(1))
            num, df = num + n.df * max(0.0, n.s2 - n.mean_within), df + n.df
    where = "journeys" if journeys else "whole service"
    return (f"{metric} drift ({where}) pooled {math.sqrt(num / df):.1%} over {df:g} df"
            if df else f"no {metric} drift ({where})")


def _slope(series: dict[str, list[RunResult]]) -> str:
    xs: list[float] = []
    ys: list[float] = []
    for runs in series.values():
        main = main_component(runs)
        pts = [(probe_ns(r), component_p50_ns(r, main) if main else None) for r in runs]
        good = [(math.log(p), math.log(c)) for p, c in pts if p and c]
        if len(good) >= 2:
            mx, my = statistics.fmean(g[0] for g in good), statistics.fmean(g[1] for g in good)
            xs += [g[0] - mx for g in good]
            ys += [g[1] - my for g in good]
    if len(xs) < 3:
        return "no slope"
    x, y = np.array(xs), np.array(ys)
    return (f"component ~ probe slope {float(x @ y / (x @ x)):.2f} "
            f"(correlation {float(np.corrcoef(x, y)[0, 1]):.2f}, {len(xs)} runs)")


def _lags(series: dict[str, list[RunResult]]) -> list[str]:
    """Each run against up to five earlier ones, by the gate's own generator_lag (the same
    medians, host and zero-lag exclusions the remeasure rule reads)."""
    out = []
    for name, runs in series.items():
        for k in range(1, len(runs)):
            lag = generator_lag([runs[k]], runs[max(0, k - 5):k])
            if lag is not None and lag.baseline_s > 0 and lag.latency_s > 0:
                out.append(f"{name} run {k + 1}: lag p99 {lag.current_s * 1e3:.2f} ms, "
                           f"x{lag.current_s / lag.baseline_s:.1f} the earlier runs', "
                           f"{lag.current_s / lag.latency_s:.0%} of their p50")
    return out


def main(dbs: list[str]) -> int:
    series: dict[str, list[RunResult]] = {}
    for db in dbs:
        series.update(_series(db))
    for metric in ("p50", "p95"):
        print(_drift(series, metric))
        print(_drift(series, metric, journeys=True))
    print(_slope(series))
    print("\n".join(_lags(series)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
