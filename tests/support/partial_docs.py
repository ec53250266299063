"""A result document whose runs stopped early or fell short, for the report tests.

Every warning the pipeline raises (engine/drive.py) appears once: a target that did not
keep up, an interrupted stress (2 of 5 steps), soak and spike, an invalid capacity run,
and runs shorter than the flow's guidance. Runs come from ``docs.make_run``, so every
number is deterministic.
"""

from __future__ import annotations

from typing import Any

from engine.report.document import empty_spec_report, new_document
from tests.support.docs import NOW, _stress_step, make_run
from tests.support.runs import run_doc

OVERLOADED = ("target did not keep up: answered 171/s of 200/s offered (the run stays valid; "
              "the SLOs judge the shortfall)")
STRESS_PARTIAL = "interrupted after 2 of 5 steps"
SOAK_PARTIAL = "interrupted after 20 s of 60 s"
SPIKE_PARTIAL = "interrupted after 12 s of 30 s"
CAPACITY_INVALID = "worker saturated: generator CPU 99% (the measurement cannot be trusted)"
MESSAGES = (
    f"Target overloaded: baseline run: {OVERLOADED}",
    f"Load test failed: capacity run invalid: {CAPACITY_INVALID}",
    "baseline ran 10 s; the flow's guidance is 15-30 min: the SLO verdicts cover 10 s of evidence",
    "soak ran 20 s; the flow's guidance is 4-24 h: the leak verdict covers 20 s of evidence",
)


def _run(rid: str, kind: str, rates: list[float], seed: int) -> dict[str, Any]:
    return run_doc(make_run(kind, rates, seed=seed), rid, ())


def _interrupted(run: dict[str, Any]) -> dict[str, Any]:
    return {**run, "aborted": True, "abort_reason": "interrupted"}


def _runs() -> list[dict[str, Any]]:
    base = _run("baseline", "baseline", [200.0] * 10, 21)
    base["validity"] = {**base["validity"], "notes": [OVERLOADED]}
    capacity = _run("capacity", "capacity", [200.0] * 5, 25)
    capacity["validity"] = {**capacity["validity"], "valid": False, "reasons": [CAPACITY_INVALID]}
    return [base, _run("stress", "stress", [200.0] * 5 + [300.0] * 5, 22),
            _interrupted(_run("soak", "soak", [100.0] * 20, 23)),
            _interrupted(_run("spike", "spike", [100.0] * 10 + [500.0] * 2, 24)), capacity]


def _stress(run: dict[str, Any]) -> dict[str, Any]:
    steps = [_stress_step(run, i) for i in (0, 5)]
    return {"breaking_point_rate": None, "max_rate_tested": 300.0, "failure_mode": "none",
            "limiting_resource": None, "steps": steps, "knee_rate": None, "evidence": [],
            "message": f"INCONCLUSIVE: {STRESS_PARTIAL}: no breaking point claimed; steps up "
                       "to 300/s passed", "partial": True, "partial_reason": STRESS_PARTIAL,
            "broke": False, "first_failure_rate": None, "held_up_to_rate": 300.0,
            "conditions": "p95 <= 250ms, SLOs hold, run valid, target keeps up"}


def _soak() -> dict[str, Any]:
    leak = {"verdict": "INCONCLUSIVE", "slope_bytes_per_s": 5_000.0, "ci_low": -2_000.0,
            "ci_high": 12_000.0, "metric": "rss_bytes",
            "message": f"rss_bytes undecided ({SOAK_PARTIAL}: partial evidence): 19 samples over "
                       "19 s, too few to fit"}
    return {"duration_s": 20.0, "windows": [], "leak": leak, "partial": True,
            "partial_reason": SOAK_PARTIAL,
            "degradation": {"p95_change": None, "throughput_change": None},
            "generator_rss_growth_bytes": 0}


def _spike() -> dict[str, Any]:
    return {"base_rate": 100.0, "peak_rate": 500.0, "error_rate_during": 0.002,
            "p99_during": 0.09, "p95_before": 0.03, "recovery_time_s": None, "recovered": False,
            "partial": True, "partial_reason": SPIKE_PARTIAL, "verdict": "INCONCLUSIVE",
            "before_s": 10.0, "spike_s": 5.0, "after_s": 15.0,
            "shape": "100/s for 10 s, 500/s for 5 s, 100/s for 15 s"}


def partial_document() -> dict[str, Any]:
    """Interrupted and short runs; verdict INCONCLUSIVE, exit code 130."""
    runs = _runs()
    spec = empty_spec_report(
        "interrupted", "users-api", trigger="pre-release", status="IN_PROGRESS",
        verdict="INCONCLUSIVE", started_at="2026-11-27T14:59:00Z",
        finished_at="2026-11-27T15:00:00Z", duration_s=60.0,
        target={"url": "http://127.0.0.1:8080", "managed": False, "demo_fix": None,
                "output_tail": None}, runs=runs, messages=list(MESSAGES),
        stress=_stress(runs[1]), soak=_soak(), spike=_spike(),
        gates=[{"name": "load", "kind": "load", "status": "INCONCLUSIVE",
                "message": "stress, soak and spike were interrupted", "details": [],
                "decides_exit": True}])
    return new_document([spec], verdict="INCONCLUSIVE", exit_code=130, generated_at=NOW,
                        version="0.1.0")
