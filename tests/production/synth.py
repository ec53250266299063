"""Generated production histories with known ground truth, written as OpenMetrics.

Counters are deterministic (fractional increments, no randomness), so the ground truth
is exact: the share of good events in any interval is computed from the same per-minute
increments that are written. Latency is a lognormal whose median may drift (a p95 creep);
histogram buckets hold its CDF. One label, ``scenario``, tells the histories apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

STEP_S = 60
DAY_S = 86400
BUCKETS = (0.025, 0.05, 0.1, 0.25)
SIGMA = 0.5
RATE_PER_S = 10.0


def lognormal_cdf(x: float, median: float) -> float:
    """P(latency <= x) for a lognormal with this median and SIGMA."""
    return 0.5 * (1.0 + math.erf(math.log(x / median) / (SIGMA * math.sqrt(2.0))))


def _const(value: float) -> Callable[[float], float]:
    return lambda _t: value


@dataclass(frozen=True)
class Scenario:
    """``days`` of data ending at the evaluation time; t is seconds since the first sample."""

    name: str
    days: float
    error_rate: Callable[[float], float] = field(default=_const(0.0002))
    median_s: Callable[[float], float] = field(default=_const(0.020))
    gap: tuple[float, float] | None = None
    """[from, to) seconds since start with no samples at all (the scrape target was down)."""
    deployed_day: float | None = None

    def steps(self) -> Iterator[tuple[float, float, float, tuple[float, ...]]]:
        """Per step: t, requests, errors, cumulative bucket shares (one per BUCKETS)."""
        total = RATE_PER_S * STEP_S
        for k in range(1, int(self.days * DAY_S / STEP_S) + 1):
            t = k * STEP_S
            median = self.median_s(t)
            yield (t, total, total * self.error_rate(t),
                   tuple(lognormal_cdf(le, median) for le in BUCKETS))

    def sampled(self, t: float) -> bool:
        return self.gap is None or not self.gap[0] <= t < self.gap[1]


def _breach_day9(t: float) -> float:
    # baseline 0.02% errors; 6 h on day 9 (from 08:00) at the rate that burns 30% of a
    # 99.9% SLO's 14-day budget: 0.3 * 0.001 * 14 d / 6 h = 1.68% (traffic is flat)
    start = 8 * DAY_S + 8 * 3600
    return 0.0168 + 0.0002 if start < t <= start + 6 * 3600 else 0.0002


def _creep(t: float) -> float:
    # median 20 ms until the deploy on day 10, then rising linearly to 40 ms at day 14
    deploy = 10 * DAY_S
    return 0.020 if t <= deploy else 0.020 + 0.020 * (t - deploy) / (4 * DAY_S)


def _burning(t: float) -> float:
    # fine for 14 days, then 5% errors in the last 2 hours: a 50x burn of a 99.9% SLO
    return 0.05 if t > 14 * DAY_S - 2 * 3600 else 0.0002


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("compliant", 14),
    Scenario("breach_day9", 14, error_rate=_breach_day9),
    Scenario("short", 3),
    Scenario("gap", 14, gap=(5 * DAY_S, 7 * DAY_S)),
    Scenario("creep", 14, median_s=_creep, deployed_day=10),
    Scenario("burning", 14, error_rate=_burning),
)}


@dataclass(frozen=True)
class Truth:
    """Good-event shares over an interval, from the generated increments."""

    requests: float
    errors: float
    fast: float
    """Requests no slower than 50 ms (the BUCKETS[1] threshold)."""

    @property
    def availability(self) -> float:
        return 1.0 - self.errors / self.requests

    @property
    def fast_share(self) -> float:
        return self.fast / self.requests


def truth(scenario: Scenario, start_s: float, end_s: float) -> Truth:
    """Ground truth over the samples with start_s < t <= end_s (seconds since the first)."""
    req = err = fast = 0.0
    for t, total, errors, shares in scenario.steps():
        if start_s < t <= end_s and scenario.sampled(t):
            req, err, fast = req + total, err + errors, fast + total * shares[1]
    return Truth(req, err, fast)


def _labels(scenario: Scenario) -> str:
    # the compliant history is also the shipped example's service (examples/production.yaml)
    job = "shop" if scenario.name == "compliant" else "synthetic"
    return f'scenario="{scenario.name}",job="{job}"'


def _counter_lines(scenario: Scenario, t0: float) -> Iterator[str]:
    for code in ("200", "500"):
        value = 0.0
        for t, total, errors, _ in scenario.steps():
            value += errors if code == "500" else total - errors
            if scenario.sampled(t):
                yield (f'http_requests_total{{{_labels(scenario)},code="{code}"}} '
                       f"{value!r} {t0 + t:.0f}")


def _histogram_lines(scenario: Scenario, t0: float) -> Iterator[str]:
    cum = [0.0] * (len(BUCKETS) + 1)
    total_sum = 0.0
    name, label = "http_request_duration_seconds", _labels(scenario)
    for t, total, _, shares in scenario.steps():
        for i, share in enumerate((*shares, 1.0)):
            cum[i] += total * share
        total_sum += total * scenario.median_s(t)
        if not scenario.sampled(t):
            continue
        stamp = f"{t0 + t:.0f}"
        for le, value in zip((*map(str, BUCKETS), "+Inf"), cum, strict=True):
            yield f'{name}_bucket{{{label},le="{le}"}} {value!r} {stamp}'
        yield f"{name}_count{{{label}}} {cum[-1]!r} {stamp}"
        yield f"{name}_sum{{{label}}} {total_sum!r} {stamp}"


def openmetrics(end_s: float, scenarios: list[Scenario]) -> Iterator[str]:
    """OpenMetrics text for every scenario, each ending at ``end_s`` (unix seconds)."""
    yield "# TYPE http_requests counter"
    for s in scenarios:
        yield from _counter_lines(s, end_s - s.days * DAY_S)
    yield "# TYPE http_request_duration_seconds histogram"
    for s in scenarios:
        yield from _histogram_lines(s, end_s - s.days * DAY_S)
    yield "# EOF"
