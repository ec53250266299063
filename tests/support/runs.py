"""Synthetic RunResults for tests: the one builder, and runs from latency arrays.

``build_run(journeys, ...)`` is the one place a test RunResult is constructed (every other
helper in tests/support adapts its inputs and calls it), so a new RunResult field changes one
function. ``build_journey`` and ``build_step`` make journeys with per-step results, checks,
status codes, early-ended instances, redirects and tags for it.
``make_run(latencies_ns, duration_s, errors=..., valid=True)`` builds a run without a server;
``lognormal_ns`` and ``drifted_runs`` draw realistic latency samples (a lognormal body, and a
per-run multiplicative drift like a noisy machine's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine.analysis.servertiming import run_timing_rows
from engine.analysis.steps import run_details
from engine.hotpath.native import Histogram
from engine.report.document import run_to_doc
from engine.result import (
    CheckResult,
    JourneyResult,
    ResourceSample,
    RunInterval,
    RunResult,
    StepResult,
    Validity,
)

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


def build_step(index: int, name: str, latencies_ns: np.ndarray | Sequence[int], *,
               errors: Mapping[str, int] | None = None,
               tags: Mapping[str, str] | None = None) -> StepResult:
    """A step whose requests took ``latencies_ns``; ``errors`` (outcome -> count) of them
    failed, the rest are ok."""
    errs = {k: v for k, v in (errors or {}).items() if v}
    ok = max(0, len(np.asarray(latencies_ns)) - sum(errs.values()))
    return StepResult(index, name, histogram_ns(np.asarray(latencies_ns)), {"ok": ok, **errs},
                      dict(tags or {}))


def build_journey(name: str, latencies_ns: np.ndarray | Sequence[int] = (), *,
                  steps: Sequence[StepResult] = (), errors: Mapping[str, int] | None = None,
                  statuses: Mapping[int, int] | None = None,
                  checks: Sequence[CheckResult] = (), ended: Mapping[str, int] | None = None,
                  redirects: int = 0, tags: Mapping[str, str] | None = None) -> JourneyResult:
    """A journey with the request details of issue #16. With ``steps`` its histogram and
    outcomes are the steps' summed (as the driver records them); else ``latencies_ns`` with
    ``errors`` (outcome -> count) of them failed."""
    if steps:
        response = histogram_ns(np.asarray((), dtype=np.int64))
        outcomes: dict[str, int] = {}
        for s in steps:
            response.add(s.response)
            for k, v in s.outcomes.items():
                outcomes[k] = outcomes.get(k, 0) + v
    else:
        step = build_step(0, name, latencies_ns, errors=errors)
        response, outcomes = step.response, dict(step.outcomes)
    return JourneyResult(name, response, response.copy(), outcomes,
                         statuses=dict(statuses or {}), steps=tuple(steps),
                         checks=tuple(checks), ended=dict(ended or {}), redirects=redirects,
                         tags=dict(tags or {}))


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
    """``run_to_doc`` with the Server-Timing rows and request details the analysis stage
    would give it."""
    return run_to_doc(run, run_id, secrets, run_timing_rows(run), run_details(run).to_doc())


def details_run(seed: int = 16) -> RunResult:
    """A run with every request detail of issue #16: a three-step journey (login, create,
    read) whose create step got 401s and failed a status check, instances ended early when
    the id could not be extracted, step and journey tags; and a single-step journey with
    followed redirects, timeouts and its own tags."""
    rng = np.random.default_rng(seed)
    login = build_step(0, "login", lognormal_ns(rng, 300, 0.004), tags={"kind": "auth"})
    create = build_step(1, "POST /orders", lognormal_ns(rng, 300, 0.012),
                        errors={"status_4xx": 30}, tags={"kind": "write"})
    read = build_step(2, "GET /orders/{var:order_id}", lognormal_ns(rng, 270, 0.006))
    checks = (CheckResult(0, "status is 200", 300, 0),
              CheckResult(1, "status is 201", 270, 30, fail_request=True),
              CheckResult(2, 'json $.status == "open"', 261, 9))
    orders = build_journey("orders", steps=(login, create, read),
                           statuses={200: 570, 201: 270, 401: 30}, checks=checks,
                           ended={"extract order_id failed at step POST /orders": 30},
                           tags={"team": "checkout", "kind": "flow"})
    browse = build_journey("browse", lognormal_ns(rng, 600, 0.008), errors={"timeout": 4},
                           statuses={200: 596, 302: 120}, redirects=120,
                           tags={"team": "catalog"})
    validity = synthetic_validity(147.0, target=150.0)
    return build_run((orders, browse), validity, duration_s=10.0, started_at=1.8e9)


def details_document() -> dict[str, Any]:
    """A one-spec result document whose baseline run is ``details_run()`` (verdict FAIL)."""
    from datetime import UTC, datetime

    from engine.report.document import empty_spec_report, new_document

    spec = empty_spec_report(
        "orders-flow", "orders-api", status="COMPLETE", verdict="FAIL",
        started_at="2026-11-29T12:00:00Z", finished_at="2026-11-29T12:00:10Z", duration_s=10.0,
        target={"url": "http://127.0.0.1:8080", "managed": False, "demo_fix": None,
                "output_tail": None}, runs=[run_doc(details_run(), "baseline")],
        gates=[{"name": "validity", "kind": "validity", "status": "PASS",
                "message": "all runs valid", "details": [], "decides_exit": True}])
    return new_document([spec], verdict="FAIL", exit_code=1,
                        generated_at=datetime(2026, 11, 29, 12, 0, 10, tzinfo=UTC),
                        version="0.1.0")
