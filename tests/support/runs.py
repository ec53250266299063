"""Synthetic RunResults from arrays of latencies in nanoseconds, for statistical tests.

``make_run(latencies_ns, duration_s, errors=..., valid=True)`` builds a run without a
server; ``lognormal_ns`` and ``drifted_runs`` draw realistic latency samples (a
lognormal body, and a per-run multiplicative drift like a noisy machine's).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine.hotpath.native import Histogram
from engine.result import JourneyResult, RunResult, Validity

Latencies = np.ndarray | Mapping[str, np.ndarray]


def histogram_ns(latencies_ns: np.ndarray) -> Histogram:
    """A response histogram holding ``latencies_ns`` (integers, nanoseconds)."""
    h = Histogram()
    values = np.asarray(latencies_ns, dtype=np.int64)
    if values.size:
        h.record_many(values)
    return h


def _journey(name: str, latencies_ns: np.ndarray, errors: int) -> JourneyResult:
    response = histogram_ns(latencies_ns)
    ok = max(0, int(np.asarray(latencies_ns).size) - errors)
    return JourneyResult(name=name, response=response, service=response.copy(),
                         outcomes={"ok": ok, "status_5xx": errors})


def make_run(latencies_ns: Latencies, duration_s: float = 10.0,
             errors: int | Mapping[str, int] = 0, valid: bool = True,
             variant: str = "") -> RunResult:
    """A run whose journeys recorded ``latencies_ns`` (one array = journey 'main').

    Every latency counts as a request; ``errors`` of them (per journey when a mapping)
    are counted as 5xx instead of ok.
    """
    per_journey = latencies_ns if isinstance(latencies_ns, Mapping) else {"main": latencies_ns}
    errs = errors if isinstance(errors, Mapping) else {next(iter(per_journey)): errors}
    journeys = tuple(_journey(name, np.asarray(lat), errs.get(name, 0))
                     for name, lat in per_journey.items())
    rate = sum(j.requests for j in journeys) / duration_s if duration_s > 0 else 0.0
    validity = Validity(valid=valid, reasons=() if valid else ("synthetic: marked invalid",),
                        target_rate=rate, achieved_rate=rate,
                        schedule_lag_p99_s=0.0, schedule_lag_max_s=0.0, dropped=0,
                        generator_cpu_pct=10.0)
    return RunResult(profile="baseline", kind="baseline", variant=variant,
                     target_url="http://127.0.0.1:1", model="open", workers=1,
                     started_at=1.8e9, duration_s=duration_s, journeys=journeys, intervals=(),
                     validity=validity)


def lognormal_ns(rng: np.random.Generator, n: int, median_s: float = 0.02,
                 sigma: float = 0.5) -> np.ndarray:
    """``n`` lognormal latencies (ns) with the given median (s) and log-sd."""
    return (rng.lognormal(np.log(median_s * 1e9), sigma, n)).astype(np.int64)


def drifted_runs(rng: np.random.Generator, runs: int, n: int, median_s: float = 0.02,
                 drift: float = 0.03, sigma: float = 0.5, duration_s: float = 10.0,
                 error_rate: float = 0.0) -> list[RunResult]:
    """``runs`` runs of ``n`` requests each; each run's latencies are scaled by
    exp(N(0, drift)) -- the between-run drift of a shared machine."""
    out = []
    for _ in range(runs):
        scale = float(np.exp(rng.normal(0.0, drift)))
        errors = int(rng.binomial(n, error_rate)) if error_rate else 0
        out.append(make_run(lognormal_ns(rng, n, median_s * scale, sigma), duration_s,
                            errors=errors))
    return out
