"""Fixed result documents for the report tests, built from real RunResults.

Runs are recorded into ``engine.hotpath.native.Histogram`` from a seeded RNG, so every
number is deterministic and comes out of the same ``run_to_doc`` path ``apply``
uses. ``full_document()`` fills every section of the template; ``minimal_document()``
has one short baseline run and most sections empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from engine.hotpath.native import OUTCOME_NAMES, Histogram
from engine.report.document import empty_spec_report, new_document
from engine.result import JourneyResult, ResourceSample, RunInterval, RunResult
from engine.units import format_value
from tests.support.runs import build_run, histogram_ns, run_doc, synthetic_validity

NOW = datetime(2026, 11, 27, 15, 0, 0, tzinfo=UTC)
T0 = 1_795_791_600.0  # 2026-11-27T15:00:00Z, the fixed start of every fixture run
SECRET_TOKEN = "s3cr3t-token-4f9a"
JOURNEYS = (("lookup", 0.8, {"db": 0.55, "app": 0.2}), ("signup", 0.2, {"db": 0.3, "cache": 0.1}))
_IDX = {name: i for i, name in enumerate(OUTCOME_NAMES)}


def _ns(seconds: np.ndarray) -> np.ndarray:
    return np.maximum(1_000, np.round(seconds * 1e9)).astype(np.int64)


def _hist(values_s: np.ndarray) -> Histogram:
    return histogram_ns(_ns(values_s))


class _Journey:
    """Accumulates one journey's totals while intervals are generated."""

    def __init__(self, name: str, timing: dict[str, float]) -> None:
        self.name, self.timing = name, timing
        self.response, self.service = Histogram(), Histogram()
        self.server = {k: Histogram() for k in timing}
        self.outcomes = dict.fromkeys(OUTCOME_NAMES, 0)

    def result(self) -> JourneyResult:
        outs = {k: v for k, v in self.outcomes.items() if v}
        return JourneyResult(self.name, self.response, self.service, outs, self.server)


def _second(rng: np.random.Generator, js: list[_Journey], weights: Sequence[float], rate: float,
            median_s: float, rho: float) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """One 1-second interval at ``rate`` with utilisation ``rho`` (queueing inflates latency)."""
    enc, outs = [], []
    for j, w in zip(js, weights, strict=True):
        n = int(rng.poisson(rate * w))
        service = rng.lognormal(np.log(median_s), 0.35, n)
        response = service / max(0.04, 1.0 - min(rho, 0.96))
        h = _hist(response)
        enc.append(h.encode())
        j.response.add(h)
        j.service.add(_hist(service))
        for comp, share in j.timing.items():
            j.server[comp].add(_hist(service * share * rng.uniform(0.8, 1.2, n)))
        counts = [0] * len(OUTCOME_NAMES)
        errors = int(rng.binomial(n, min(0.5, 0.001 + max(0.0, rho - 0.85) * 2)))
        counts[_IDX["timeout" if rho > 0.9 else "status_5xx"]] = errors
        counts[_IDX["ok"]] = n - errors
        for name, c in zip(OUTCOME_NAMES, counts, strict=True):
            j.outcomes[name] += c
        outs.append(tuple(counts))
    return tuple(enc), tuple(outs)


def make_run(kind: str, rates: Sequence[float], *, seed: int, median_s: float = 0.02,
             capacity: float = 600.0, variant: str = "", profile: str | None = None,
             rss: Callable[[int], int] = lambda t: 80_000_000 + 5_000 * t) -> RunResult:
    """A RunResult of ``len(rates)`` 1-second intervals at the given scheduled rates."""
    rng = np.random.default_rng(seed)
    js = [_Journey(name, dict(timing)) for name, _, timing in JOURNEYS]
    weights = [w for _, w, _ in JOURNEYS]
    intervals, resources = [], []
    for t, rate in enumerate(rates):
        rho = rate / capacity
        enc, outs = _second(rng, js, weights, rate, median_s, rho)
        intervals.append(RunInterval(t, float(t), 1.0, float(rate), enc, outs))
        cpu = min(195.0, 190.0 * rho + float(rng.normal(0, 3)))
        resources.append(ResourceSample(t + 0.5, round(cpu, 1), rss(t), 8, 40, 12, 0, 0, 100,
                                        round(cpu / 2, 1), 41.0, 0, 0))
    sent = sum(sum(o) for iv in intervals for o in iv.outcomes)
    target = float(np.mean(rates))
    validity = synthetic_validity(sent / len(rates), target=target, generator_cpu=23.5,
                                  rss_growth=1_048_576, lag_p99_s=0.0004, lag_max_s=0.0021)
    return build_run([j.result() for j in js], validity, duration_s=float(len(rates)), kind=kind,
                     profile=profile or kind, variant=variant, intervals=intervals,
                     resources=resources, started_at=T0 + 100 * seed,
                     target_url="http://127.0.0.1:8080")


def _runs() -> dict[str, dict[str, Any]]:
    steps = [r for r in (200, 300, 400, 500, 600, 700) for _ in range(5)]
    spike = [100.0] * 10 + [500.0] * 5 + [100.0] * 15
    specs: dict[str, tuple[str, list[float], dict[str, Any]]] = {
        "baseline": ("baseline", [200.0] * 30, {"seed": 1}),
        "stress": ("stress", [float(r) for r in steps], {"seed": 2}),
        "soak": ("soak", [100.0] * 60, {"seed": 3, "rss": lambda t: 80_000_000 + 400_000 * t}),
        "spike": ("spike", spike, {"seed": 4}),
        "capacity": ("capacity", [200.0] * 5 + [600.0] * 5 + [1000.0] * 5, {"seed": 5}),
        "H1-baseline-1": ("baseline", [150.0] * 10, {"seed": 6, "variant": "baseline"}),
        "H1-candidate-1": ("baseline", [150.0] * 10,
                           {"seed": 7, "variant": "candidate", "median_s": 0.008}),
    }
    return {rid: run_doc(make_run(kind, rates, **kw), rid, ())
            for rid, (kind, rates, kw) in specs.items()}


def _slo_checks(base: dict[str, Any]) -> list[dict[str, Any]]:
    p95 = base["journeys"][0]["latency"]["p95"]
    rate, err = base["achieved_rate"], base["error_rate"]
    return [
        {"slo": "lookup-p95", "sli": "latency", "journey": "lookup", "metric": "lookup p95",
         "value": p95, "target": "< 25ms", "value_text": format_value("latency", p95),
         "status": "PASS" if p95 < 0.025 else "FAIL", "margin": round(1 - p95 / 0.025, 4),
         "error_bound": 0.001, "message": "" if p95 < 0.025 else
         f"SLO breached: lookup p95 {p95 * 1e3:.3g}ms exceeds target 25ms"},
        {"slo": "availability", "sli": "error_rate", "journey": None, "metric": "error_rate",
         "value": err, "target": "< 0.1%", "value_text": format_value("error_rate", err),
         "status": "PASS" if err < 0.001 else "FAIL", "margin": round(1 - err / 0.001, 4),
         "error_bound": None,
         "message": "" if err < 0.001 else f"SLO breached: error_rate {err * 100:.3g}% exceeds "
                                           "target < 0.1%"},
        {"slo": "throughput", "sli": "throughput", "journey": None, "metric": "throughput",
         "value": rate, "target": ">= 190/s", "value_text": format_value("throughput", rate),
         "status": "PASS" if rate >= 190 else "FAIL", "margin": round(rate / 190 - 1, 4),
         "error_bound": None, "message": ""},
    ]


STRESS_P95_LIMIT_S = 0.25


CORES = 2
"""The synthetic machine's cores: a step's CPU p95 as a share of it (Resources' figure)."""


def _stress_step(run: dict[str, Any], i: int) -> dict[str, Any]:
    """Five 1-second intervals at one rate, judged on the stop condition p95 <= 250ms."""
    ivs = run["intervals"][i:i + 5]
    sent = sum(iv["rate"] for iv in ivs)
    errors = sum(iv["errors"] for iv in ivs)
    # the fixture's target times out above 90% utilisation: those requests got no answer
    unanswered = errors if ivs[0]["target_rate"] / 600.0 > 0.9 else 0
    p95 = max(iv["p95"] for iv in ivs)
    breaches = [f"p95 {p95 * 1000:.1f}ms > {STRESS_P95_LIMIT_S * 1000:g}ms"] \
        if p95 > STRESS_P95_LIMIT_S else []
    return {"rate": ivs[0]["target_rate"], "achieved_rate": (sent - unanswered) / 5,
            "sent_rate": sent / 5, "p50": float(np.median([iv["p50"] for iv in ivs])),
            "p95": p95, "p99": max(iv["p99"] for iv in ivs), "error_rate": errors / max(sent, 1),
            "cpu_pct": run["resources"][i]["cpu_pct"],
            "cpu_p95_pct": run["resources"][i]["cpu_pct"] / CORES, "passed": not breaches, "valid": True,
            "breaches": breaches}


def _stress(run: dict[str, Any]) -> dict[str, Any]:
    """The real rule (engine/analysis/stress.py): a breaking point exists iff a step failed a
    stop condition, and it is the last passing rate before the first failing step."""
    steps = [_stress_step(run, i) for i in range(0, len(run["intervals"]), 5)]
    first = next((k for k, s in enumerate(steps) if not s["passed"]), None)
    broke = first is not None
    bp = steps[first - 1]["rate"] if first else None
    held = bp if broke else steps[-1]["rate"]
    failed = steps[first] if first is not None else None
    mode = "latency knee" if failed else "none"
    where = f"breaking point {bp:g}/s" if bp is not None else "broke below the first step"
    message = (f"{where}: {mode} at {failed['rate']:g}/s ({'; '.join(failed['breaches'])}); "
               "limited by cpu" if failed else
               f"no breaking point up to {steps[-1]['rate']:g}/s: every step stayed within "
               "the stop conditions")
    return {"breaking_point_rate": bp, "max_rate_tested": steps[-1]["rate"],
            "failure_mode": mode, "limiting_resource": "cpu" if broke else None, "steps": steps,
            "message": message, "knee_rate": bp, "evidence": [], "partial": False,
            "partial_reason": "", "broke": broke,
            "first_failure_rate": failed["rate"] if failed else None, "held_up_to_rate": held,
            "conditions": "p95 <= 250ms, SLOs hold, run valid, target keeps up"}


LEAK_TEXT = ("rss_bytes grows: slope 1.34 GiB/h (95% CI 1.33 GiB/h to 1.35 GiB/h), projected "
             "32.2 GiB in 24 h from 59 s of samples")
LEAK_MESSAGE = f"Load test failed: soak: {LEAK_TEXT}"
"""What the pipeline says for a leaking soak (engine/analysis/evidence.analysis_failure)."""


def _soak(run: dict[str, Any]) -> dict[str, Any]:
    windows = [{"t_s": float(t), "p95": max(iv["p95"] for iv in run["intervals"][t:t + 10]),
                "rate": sum(iv["rate"] for iv in run["intervals"][t:t + 10]) / 10,
                "rss_bytes": run["resources"][t]["rss_bytes"]} for t in range(0, 60, 10)]
    return {"duration_s": run["duration_s"], "windows": windows,
            "leak": {"verdict": "LEAK", "slope_bytes_per_s": 400_000.0, "ci_low": 398_000.0,
                     "ci_high": 402_000.0, "metric": "rss_bytes",
                     "message": LEAK_TEXT},
            "degradation": {"p95_change": round(windows[-1]["p95"] / windows[0]["p95"] - 1, 4),
                            "throughput_change": round(windows[-1]["rate"] / windows[0]["rate"] - 1,
                                                       4)},
            "generator_rss_growth_bytes": 1_048_576}


def _spike(run: dict[str, Any]) -> dict[str, Any]:
    during = run["intervals"][10:15]
    sent = sum(iv["rate"] for iv in during)
    return {"base_rate": 100.0, "peak_rate": 500.0,
            "error_rate_during": sum(iv["errors"] for iv in during) / max(sent, 1),
            "p99_during": max(iv["p99"] for iv in during),
            "p95_during": max(iv["p95"] for iv in during),
            "p95_before": max(iv["p95"] for iv in run["intervals"][:10]),
            "recovery_time_s": 2.0, "recovered": True, "before_s": 10.0, "spike_s": 5.0,
            "after_s": 15.0, "shape": "100/s for 10 s, 500/s for 5 s, 100/s for 15 s"}


def _capacity(run: dict[str, Any]) -> dict[str, Any]:
    points = []
    for mult, start, instances in ((1.0, 0, 1), (3.0, 5, 1), (5.0, 10, 2)):
        ivs = run["intervals"][start:start + 5]
        sent = sum(iv["rate"] for iv in ivs) / 5
        err = sum(iv["errors"] for iv in ivs) / max(sent * 5, 1)
        p95 = max(iv["p95"] for iv in ivs)
        points.append({"multiplier": mult, "rate": 200.0 * mult, "achieved_rate": sent, "p95": p95,
                       "error_rate": err, "slo_pass": p95 < 0.025 and err < 0.001,
                       "cpu_pct": run["resources"][start + 2]["cpu_pct"],
                       "cpu_p95_pct": run["resources"][start + 2]["cpu_pct"] / CORES,
                       "cost_per_million": round(instances * 0.50 / (sent * 3600) * 1e6, 4),
                       "instances": instances})
    return {"cost_per_hour": 0.50, "points": points}


def _hypothesis(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    before = runs["H1-baseline-1"]["journeys"][0]["latency"]["p95"]
    after = runs["H1-candidate-1"]["journeys"][0]["latency"]["p95"]
    change = after / before - 1
    return {"id": "H1", "title": "Index users.email", "type": "database",
            "change_text": "CREATE INDEX users_email ON users(email)",
            "expectation": "if we add an index on users.email, p95 of lookup drops at least 50%",
            "metric": "p95", "journey": "lookup", "effort_hours": 4.0, "risk": "low",
            "status": "IMPLEMENTED", "verdict": "CONFIRMED", "before": before, "after": after,
            "improvement_pct": round(-change * 100, 2), "improvement_x": round(before / after, 3),
            "ci_low": round(change - 0.04, 4), "ci_high": round(change + 0.04, 4), "rounds": 1,
            "confidence": 0.95,
            "requests_needed": None, "message": "",
            "detail": (f"lookup p95: measured {change * 100:+.1f}%; expected lookup p95 <= -50%; "
                       "1+1 runs, 150+150 requests; smallest change this noise detects: "
                       "-16.0% or +19.0%")}


def _hypothesis_refuted() -> dict[str, Any]:
    return {"id": "H2", "title": "Cache signup validation", "type": "caching",
            "change_text": "memoize the e-mail domain check", "expectation":
            "signup p95 drops at least 30%", "metric": "p95", "journey": "signup",
            "effort_hours": 16.0, "risk": "medium", "status": "REJECTED", "verdict": "REFUTED",
            "before": 0.021, "after": 0.0205, "improvement_pct": 2.38, "improvement_x": 1.024,
            "ci_low": -0.06, "ci_high": 0.01, "rounds": 3, "requests_needed": None,
            "confidence": 0.95,
            "message": "Optimization did not improve p95 as expected"}


def _basis(stress: dict[str, Any], capacity: dict[str, Any]) -> dict[str, Any]:
    """The runs the bottleneck shares are over (engine.analysis.bottleneck_runs): the stress
    and capacity runs left out as the engine would a step that did not hold and a point above
    1x that missed the SLOs (each is one run of several steps or points here)."""
    left = [{"id": "stress", "why": f"stress step at {s['rate']:g}/s did not hold: "
             f"{'; '.join(s['breaches'])}"} for s in stress["steps"] if not s["passed"]][:1]
    left += [{"id": "capacity", "why": f"capacity point {p['multiplier']:g}x ({p['rate']:g}/s) "
              "missed the SLOs"} for p in capacity["points"]
             if not p["slo_pass"] and p["multiplier"] > 1][:1]
    out = {x["id"] for x in left}
    held = [r for r in ("baseline", "stress", "soak", "spike", "capacity") if r not in out]
    return {"runs": held, "left_out": left, "none_held": False}


def _analysis(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    base = runs["baseline"]
    stress = _stress(runs["stress"])
    h1 = _hypothesis(runs)
    db_share = base["journeys"][0]["server_timing"][0]["share"]
    return {
        "slo_checks": _slo_checks(base), "stress": stress, "soak": _soak(runs["soak"]),
        "spike": _spike(runs["spike"]), "capacity": _capacity(runs["capacity"]),
        "hypotheses": [h1, _hypothesis_refuted()],
        "error_budgets": [
            {"slo": "lookup-p95", "target": 0.95, "budget": 0.05, "bad_ratio": 0.031,
             "burn_rate": 0.62, "consumed": 0.0001, "tier": "ok", "policy": "none"},
            {"slo": "availability", "target": 0.999, "budget": 0.001, "bad_ratio": 0.0021,
             "burn_rate": 2.1, "consumed": 0.0004, "tier": "slow-burn", "policy": "ticket"}],
        "bottlenecks": [
            {"rank": 1, "name": "db", "kind": "database", "share": db_share,
             "journeys": ["lookup"], "evidence": [f"Server-Timing db is {db_share:.0%} of lookup "
                                                  "mean response time", "lookup p95 grows 3x "
                                                  "from 200/s to 500/s"], "suggestion": "database"},
            {"rank": 2, "name": "queueing", "kind": "queueing", "share": 0.18,
             "journeys": ["lookup", "signup"], "evidence": ["schedule lag grows past 500/s"],
             "suggestion": "async"}],
        "bottleneck_runs": _basis(stress, _capacity(runs["capacity"])),
        "priorities": [
            {"rank": 1, "id": "H1", "title": "Index users.email", "type": "database",
             "impact": round(-float(h1["ci_high"]), 4), "impact_source": "measured",
             "effort_hours": 4.0, "risk": "low", "roi": round(-float(h1["ci_high"]) / 4.0, 4),
             "tier": "quick-win", "top": True, "quick_win": True, "matrix_score": 4.4},
            {"rank": 2, "id": "H2", "title": "Cache signup validation", "type": "caching",
             "impact": 0.0, "impact_source": "measured", "effort_hours": 16.0, "risk": "medium",
             "roi": 0.0, "tier": "strategic", "top": False, "quick_win": False,
             "matrix_score": None}],
        "messages": [m for m in (c["message"] for c in _slo_checks(base)) if m]
        + [LEAK_MESSAGE]
        + ["Performance regression detected: p99 degraded by 21.4%",
           "Optimization did not improve p95 as expected"],
    }


def _gates_and_checklist() -> dict[str, Any]:
    gates = [
        {"name": "slo", "kind": "slo", "status": "FAIL", "message": "1 of 3 SLOs breached",
         "details": ["availability: FAIL"], "decides_exit": True},
        {"name": "validity", "kind": "validity", "status": "PASS",
         "message": "all runs valid", "details": [], "decides_exit": True},
        {"name": "regression", "kind": "regression", "status": "INCONCLUSIVE",
         "message": "only 2 baseline runs in the window (need 3)", "details": [],
         "decides_exit": True},
        {"name": "error-budget", "kind": "error_budget", "status": "NOT_RUN",
         "message": "no SLO window elapsed", "details": [], "decides_exit": False},
        {"name": "hypothesis", "kind": "hypothesis", "status": "INVALID",
         "message": "H2 candidate run could not keep its rate", "details": [],
         "decides_exit": True},
    ]
    steps = ["Baseline", "Bottlenecks", "Prioritize", "Implement", "Validate", "Monitor"]
    checklist = [{"step": i + 1, "step_name": s, "criterion": c, "status": st, "evidence": e}
                 for i, (s, c, st, e) in enumerate(zip(steps, [
                     "SLIs measured", "top bottlenecks named", "ROI computed",
                     "hypothesis measured", "load tests pass", "history recorded"],
                     ["PASS", "PASS", "PASS", "PASS", "FAIL", "MANUAL"],
                     ["baseline run valid", "2 bottlenecks", "2 options", "H1 confirmed",
                      "breaking point 500/s (latency knee at 600/s)",
                      "production metrics not connected"],
                     strict=True))]
    return {"gates": gates, "checklist": checklist}


def _regression() -> dict[str, Any]:
    return {"status": "FAIL", "baseline": {"mode": "window", "runs": 5, "days": 7.0,
                                           "pinned": None, "hosts_excluded": 0},
            "checks": [
                {"metric": "p99", "journey": "lookup", "baseline": 0.0262, "current": 0.0318,
                 "change": 0.214, "ci_low": 0.15, "ci_high": 0.28, "tolerance": 0.2, "confidence": 0.98,
                 "significant": True, "status": "FAIL",
                 "message": "Performance regression detected: p99 degraded by 21.4%"},
                {"metric": "throughput", "journey": None, "baseline": 199.0, "current": 200.3,
                 "change": 0.0065, "ci_low": -0.01, "ci_high": 0.02, "tolerance": -0.1,
                 "significant": False, "status": "PASS", "message": ""}],
            "changepoints": [{"metric": "p99", "run_id": "20261126T1200Z", "at":
                              "2026-11-26T12:00:00Z", "before": 0.026, "after": 0.0318,
                              "change": 0.223}]}


def full_document() -> dict[str, Any]:
    """Every section of the template filled (verdict FAIL, exit code 1)."""
    runs = _runs()
    spec = empty_spec_report(
        "user-lookup", "users-api", project="shop", trigger="user-complaint",
        description="Users report slow profile pages; lookup by e-mail is the suspect.",
        source="specs/user-lookup.yaml", status="COMPLETE", verdict="FAIL",
        started_at="2026-11-27T14:50:00Z", finished_at="2026-11-27T15:00:00Z", duration_s=600.0,
        target={"url": "http://127.0.0.1:8080", "managed": True, "demo_fix": None,
                "output_tail": "GET /users 200\nAuthorization: Bearer " + SECRET_TOKEN},
        runs=list(runs.values()), regression=_regression(),
        lessons=["The e-mail lookup was a full table scan; index it before tuning workers."],
        next_steps=["Re-run stress after H1 to find the new breaking point.",
                    "Connect production metrics for the 7-day SLO window."],
        **_analysis(runs), **_gates_and_checklist())
    return new_document([spec], verdict="FAIL", exit_code=1, generated_at=NOW, version="0.1.0")


def minimal_document() -> dict[str, Any]:
    """One 10-second baseline run, one gate; every other section empty (verdict PASS)."""
    run = run_doc(make_run("baseline", [50.0] * 10, seed=11), "baseline", ())
    spec = empty_spec_report(
        "smoke", "health-endpoint", trigger="proactive", status="IN_PROGRESS", verdict="PASS",
        started_at="2026-11-27T14:59:50Z", finished_at="2026-11-27T15:00:00Z", duration_s=10.0,
        target={"url": "http://127.0.0.1:8080", "managed": False, "demo_fix": None,
                "output_tail": None}, runs=[run],
        gates=[{"name": "validity", "kind": "validity", "status": "PASS",
                "message": "all runs valid", "details": [], "decides_exit": True}])
    return new_document([spec], verdict="PASS", exit_code=0, generated_at=NOW, version="0.1.0")


def blocked_document(output_tail: str) -> dict[str, Any]:
    """A managed target that failed to start: no run, the target's last output (exit 3)."""
    spec = empty_spec_report(
        "nostart", "users-api", status="BLOCKED", verdict="INVALID",
        started_at="2026-11-27T14:59:50Z", finished_at="2026-11-27T15:00:00Z", duration_s=10.0,
        target={"url": "http://127.0.0.1:8080", "managed": True, "demo_fix": None,
                "output_tail": output_tail},
        messages=["Load test failed: target failed to start: exited with code 4"])
    return new_document([spec], verdict="INVALID", exit_code=3, generated_at=NOW, version="0.1.0")
