"""Synthetic RunResults for tests: the one builder, and runs from latency arrays.

``build_run(journeys, ...)`` is the one place a test RunResult is constructed (every other
helper in tests/support adapts its inputs and calls it), so a new RunResult field changes one
function. ``make_run(latencies_ns, duration_s, errors=..., valid=True)`` builds a run without a
server; ``lognormal_ns`` and ``drifted_runs`` draw realistic latency samples (a
lognormal body, and a per-run multiplicative drift like a noisy machine's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine.analysis.servertiming import run_timing_rows
from engine.hotpath.native import Histogram
from engine.report.document import run_to_doc
from engine.result import JourneyResult, ResourceSample, RunInterval, RunResult, Validity

Latencies = np.ndarray | Mapping[str, np.ndarray]


def synthetic_validity(achieved: float, *, target: float | None = None, valid: bool = True,
                       reasons: Sequence[str] = (), generator_cpu: float = 10.0,
                       rss_growth: int = 0, lag_p99_s: float = 0.0,
                       lag_max_s: float = 0.0, sent: float | None = None) -> Validity:
    """A Validity for a synthetic run (an invalid one gets a reason when none is given)."""
    why = tuple(reasons) or (() if valid else ("synthetic: marked invalid",))
    return Validity(valid, why, target, achieved, lag_p99_s, lag_max_s, 0, generator_cpu,
                    rss_growth, sent_rate=achieved if sent is None else sent)


def build_run(journeys: Sequence[JourneyResult], validity: Validity, *, duration_s: float,
              kind: str = "baseline", profile: str = "", variant: str = "",
              intervals: Sequence[RunInterval] = (), resources: Sequence[ResourceSample] = (),
              started_at: float = 0.0, target_url: str = "http://127.0.0.1:1") -> RunResult:
    """The one RunResult constructor of the test suite."""
    return RunResult(profile=profile or kind, kind=kind, variant=variant, target_url=target_url,
                     model="open", workers=1, started_at=started_at, duration_s=duration_s,
                     journeys=tuple(journeys), intervals=tuple(intervals), validity=validity,
                     resources=tuple(resources))


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
    return build_run(journeys, synthetic_validity(rate, target=rate, valid=valid),
                     duration_s=duration_s, variant=variant, started_at=1.8e9)


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


def run_doc(run: RunResult, run_id: str, secrets: Sequence[str] = ()) -> dict[str, Any]:
    """``run_to_doc`` with the Server-Timing rows the analysis stage would give it."""
    return run_to_doc(run, run_id, secrets, run_timing_rows(run))
