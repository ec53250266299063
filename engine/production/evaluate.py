"""Fetch one SLO's production numbers from Prometheus and judge them.

Per SLO: one batched instant query (window compliance, event count, burn rates over
5m-3d, the percentile), one range query stepped by an hour (which hours have samples)
and one stepped by a day (per-day compliance). SLOs are evaluated in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from engine.production import queries as q
from engine.production.client import PrometheusClient, QueryRejected, Series
from engine.production.judge import BURN_WINDOWS, burn_state, data_problem, exhaustion_s, policy_line
from engine.production.regression import regression
from engine.production.result import Coverage, Day, SloStatus
from engine.production.shifts import shifts
from engine.spec.model import Slo
from engine.spec.production_model import ProductionSli

HOUR, DAY = 3600.0, 86400.0


class SloQueryRejected(Exception):
    """A query of this SLO was rejected by Prometheus: names the SLO, not a traceback."""


@dataclass(frozen=True)
class Window:
    end: float
    seconds: float
    deployed_at: float | None = None

    @property
    def start(self) -> float:
        return self.end - self.seconds


def evaluate_all(client: PrometheusClient, slos: Sequence[Slo], window: Window,
                 workers: int = 8) -> list[SloStatus]:
    """Every production SLO, in spec order."""
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(slos)))) as pool:
        return list(pool.map(lambda slo: evaluate(client, slo, window), slos))


def evaluate(client: PrometheusClient, slo: Slo, window: Window) -> SloStatus:
    """One SLO's status; QueryRejected becomes SloQueryRejected naming the SLO."""
    try:
        return _evaluate(client, slo, window)
    except QueryRejected as exc:
        raise SloQueryRejected(f"SLO {slo.name}: {exc}") from None


def _metric(slo: Slo) -> str:
    pct = slo.sli.percentile
    if slo.sli.kind == "latency" and pct is not None:
        return f"p{pct:g}"
    return "error_rate"


def _evaluate(client: PrometheusClient, slo: Slo, window: Window) -> SloStatus:
    sli = slo.production
    assert sli is not None and slo.target is not None
    budget = 1.0 - slo.target
    instant = _instant(client, sli, slo, window)
    err = instant.get("window")
    rates = {name: (None if instant.get(name) is None else instant[name] / budget)
             for name in BURN_WINDOWS}
    coverage = _coverage(client, sli, window)
    consumed = None if err is None else err / budget
    status = SloStatus(
        slo.name, _metric(slo), slo.objective.text, slo.target, window.seconds, window.start,
        window.end, "INSUFFICIENT_DATA", "", None if err is None else 1.0 - err,
        _days(client, sli, window), coverage, instant.get("events"), consumed,
        burn_state(rates), exhaustion_s(consumed, rates, window.seconds),
        instant.get(q.QUANTILE) if sli.histogram else err, policy_line(consumed))
    status = replace(_judge(status, slo),
                     shifts=shifts(client, slo, window.start, window.end))
    if window.deployed_at is not None and window.start < window.deployed_at < window.end:
        status = replace(status, regression=regression(client, slo, window.start, window.end,
                                                       window.deployed_at))
    return status


def _judge(status: SloStatus, slo: Slo) -> SloStatus:
    problem = data_problem(status.coverage or Coverage(0, 0, None, None), status.compliance)
    if problem:
        # no budget figure beside "budget unknown": consumption over a window with too
        # little data is not a measurement (and must not drive the hypotheses' risk line)
        return replace(status, verdict="INSUFFICIENT_DATA", reason=problem,
                       policy=policy_line(None), budget_consumed=None, exhaustion_s=None)
    assert status.compliance is not None
    if status.compliance >= status.target:
        return replace(status, verdict="COMPLIANT",
                       reason=f"{status.compliance:.4%} good over the window, target "
                              f"{status.target:.4%}")
    return replace(status, verdict="BREACHED", reason=_breach_line(status, slo))


def _breach_line(status: SloStatus, slo: Slo) -> str:
    over = status.value is not None and status.value > slo.objective.value
    if status.metric.startswith("p") and status.value is not None and over:
        value, target = f"{status.value * 1000:.1f}ms", slo.objective.text.lstrip("<= ")
    elif status.metric.startswith("p"):
        # judged on the good-event share: the percentile itself may be under the threshold
        # (a 99% target with p95), and the message must not say it exceeds it
        return (f"SLO breached: {status.metric} requests within {slo.objective.text.lstrip('<= ')}"
                f" {status.compliance or 0.0:.3%} of events, target {status.target:.3%}")
    else:
        value = f"{(1.0 - (status.compliance or 0.0)):.3%}"
        target = f"{status.budget:.3%}"
    return f"SLO breached: {status.metric} {value} exceeds target {target}"


def _instant(client: PrometheusClient, sli: ProductionSli, slo: Slo,
             window: Window) -> dict[str, float]:
    parts = {name: q.error_ratio(sli, secs) for name, secs in BURN_WINDOWS.items()}
    parts["window"] = q.error_ratio(sli, window.seconds)
    parts["events"] = q.events(sli, window.seconds)
    quantile = q.slo_quantile(slo, window.seconds)
    if quantile is not None:
        parts[q.QUANTILE] = quantile
    return q.read_batch(client, parts, window.end)


def _days(client: PrometheusClient, sli: ProductionSli, window: Window) -> tuple[Day, ...]:
    """Per-day compliance: one range query stepped by a day, each point the day before it."""
    n = max(1, round(window.seconds / DAY))
    got = _points(client.query_range(q.good_ratio(sli, DAY), window.end - (n - 1) * DAY,
                                     window.end, DAY))
    return tuple(Day(end, got.get(round(end))) for end in
                 (window.end - (n - 1 - k) * DAY for k in range(n)))


def _coverage(client: PrometheusClient, sli: ProductionSli, window: Window) -> Coverage:
    """Which hours have samples: the total-events query over 1h, stepped by an hour."""
    hours = max(1, round(window.seconds / HOUR))
    start = window.end - (hours - 1) * HOUR
    got = _points(client.query_range(q.events(sli, HOUR), start, window.end, HOUR))
    present = sorted(got)
    if not present:
        return Coverage(hours, 0, None, None)
    gaps, run_start = [], None
    for k in range(hours):
        t = start + k * HOUR
        missing = t >= present[0] and round(t) not in got
        if missing and run_start is None:
            run_start = t - HOUR
        elif not missing and run_start is not None:
            gaps.append((run_start, t - HOUR))
            run_start = None
    if run_start is not None:
        gaps.append((run_start, window.end))
    return Coverage(hours, len(present), present[0] - HOUR, present[-1], tuple(gaps))


def _points(series: list[Series]) -> dict[int, float]:
    """The first series' points by whole second (range results are one series here)."""
    if not series:
        return {}
    return {round(t): v for t, v in series[0].points}
