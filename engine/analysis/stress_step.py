"""One stress step read from its run: its figures and the stop conditions it broke.

``evaluate_step`` judges a run at a known offered rate on a stress profile's stop conditions
(docs/STATISTICS.md, "Breaking point"); engine.analysis.stress steps through them, and
engine.analysis.ladder judges other profiles' runs at known rates (capacity scenarios) the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis.metrics import latency_value, merged_response
from engine.analysis.resources import run_headroom, summarize_run
from engine.result import RunResult
from engine.spec.model import StopWhen

__all__ = ["StressStep", "evaluate_step", "stop_conditions"]


@dataclass(frozen=True)
class StressStep:
    """One rate step. Latencies in seconds (None: no response), CPU in % of one core."""

    rate: float
    achieved_rate: float
    requests: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    error_rate: float
    errors: tuple[tuple[str, int], ...]
    """Error counts by outcome name, largest first."""
    cpu_pct: float | None
    valid: bool
    slo_ok: bool
    breaches: tuple[str, ...]
    """Why the step did not pass (empty when it passed)."""
    generator_cpu_pct: float
    sent_rate: float = 0.0
    """Requests the generator sent per second (``achieved_rate`` counts answered ones)."""
    cpu_p95_pct: float | None = None
    """The target's CPU p95 as the run's Resources row states it (``run_headroom``, in its
    ``cpu_scope``): the CPU the report shows. ``cpu_pct`` (mean, % of one core) is the
    analysis' input."""
    thread_note: str = ""
    """'busiest thread at 100% of a core: saturated' (Headroom.thread_note), or ''."""
    source: str = ""
    """'' for a stress step; the other run judged as one, e.g. 'capacity 4x'."""

    @property
    def passed(self) -> bool:
        return not self.breaches

    def to_doc(self) -> dict[str, object]:
        """The report's stress step (plus ``breaches`` and ``valid``)."""
        return {"rate": self.rate, "achieved_rate": self.achieved_rate, "sent_rate": self.sent_rate,
                "p50": self.p50_s or 0.0, "p95": self.p95_s or 0.0, "p99": self.p99_s or 0.0,
                "error_rate": self.error_rate, "cpu_pct": self.cpu_pct,
                "cpu_p95_pct": self.cpu_p95_pct, "thread_note": self.thread_note,
                "passed": self.passed,
                "valid": self.valid, "breaches": list(self.breaches),
                **({"source": self.source} if self.source else {})}


def stop_conditions(stop: StopWhen) -> str:
    """The stop conditions in words: 'p95 <= 250ms, error rate <= 5.00%, SLOs hold, ...'."""
    out = []
    if stop.p95_s is not None:
        out.append(f"p95 <= {stop.p95_s * 1000:g}ms")
    if stop.p99_s is not None:
        out.append(f"p99 <= {stop.p99_s * 1000:g}ms")
    if stop.error_rate is not None:
        out.append(f"error rate <= {stop.error_rate:.2%}")
    if stop.slo_broken:
        out.append("SLOs hold")
    return ", ".join([*out, "run valid", "target keeps up"])


def _errors(run: RunResult) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for j in run.journeys:
        for name, n in j.outcomes.items():
            if name != "ok" and n:
                counts[name] = counts.get(name, 0) + n
    return tuple(sorted(counts.items(), key=lambda kv: -kv[1]))


def _breaches(run: RunResult, p95: float | None, p99: float | None, ok: bool,
              stop: StopWhen) -> tuple[str, ...]:
    out = []
    if stop.p95_s is not None and p95 is not None and p95 > stop.p95_s:
        out.append(f"p95 {p95 * 1000:.1f}ms > {stop.p95_s * 1000:g}ms")
    if stop.p99_s is not None and p99 is not None and p99 > stop.p99_s:
        out.append(f"p99 {p99 * 1000:.1f}ms > {stop.p99_s * 1000:g}ms")
    if stop.error_rate is not None and run.error_rate > stop.error_rate:
        out.append(f"error rate {run.error_rate:.2%} > {stop.error_rate:.2%}")
    if not ok and stop.slo_broken:
        out.append("SLO broken")
    if not run.validity.valid:
        out.append("invalid: " + ("; ".join(run.validity.reasons) or "rate not reached"))
    out.extend(run.validity.notes)
    if run.aborted:
        out.append(f"aborted: {run.abort_reason}")
    return tuple(out)


def evaluate_step(run: RunResult, rate: float, slo_ok: bool, stop: StopWhen) -> StressStep:
    """Read one step's run into a :class:`StressStep`."""
    # one merged histogram for the three percentiles (latency_value: None when it is empty)
    hist = merged_response(run) if run.requests and run.journeys else None
    p50, p95, p99 = (None, None, None) if hist is None else (
        latency_value(hist, "p50"), latency_value(hist, "p95"), latency_value(hist, "p99"))
    h = run_headroom(run)
    return StressStep(
        rate, run.validity.achieved_rate, run.requests, p50, p95, p99, run.error_rate,
        _errors(run), summarize_run(run).cpu_pct_mean, run.validity.valid, slo_ok,
        _breaches(run, p95, p99, slo_ok, stop), run.validity.generator_cpu_pct,
        run.validity.sent_rate, h.cpu_pct, h.thread_note,
    )
