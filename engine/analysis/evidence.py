"""How much evidence a load-test run is: partial (stopped early) or shorter than the flow's
guidance. Both come back as sentences for the spec's messages and analysis records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.result import RunResult
from engine.units import human_duration

if TYPE_CHECKING:  # soak imports this module
    from engine.analysis.soak import SoakAnalysis
    from engine.analysis.spike import SpikeAnalysis

__all__ = ["GUIDANCE", "abort_failure", "analysis_failure", "partial_reason", "short_evidence"]

GUIDANCE: dict[str, tuple[float, str, str]] = {
    # kind -> (shortest run the flow recommends in s, its guidance, what the run decides)
    "baseline": (15 * 60.0, "15-30 min", "the SLO verdicts cover"),
    "soak": (4 * 3600.0, "4-24 h", "the leak verdict covers"),
    "spike": (5 * 60.0, "5-10 min", "the recovery verdict covers"),
    "capacity": (30 * 60.0, "30-60 min per scenario", "each scenario's verdict covers"),
}
SLACK = 0.95
"""A run within 5% of the guidance (ramp and shutdown trim a little) is not short."""


def abort_failure(run: RunResult) -> str:
    """Why a gate's abort_on_fail stopped the run ('' if it did not): a failure, unlike a
    user's stop (reason 'interrupted'), which only makes the run partial."""
    if not run.aborted or not run.abort_reason or run.abort_reason == "interrupted":
        return ""
    return run.abort_reason


def partial_reason(run: RunResult, planned_s: float | None = None) -> str:
    """'interrupted after 4 s of 15 s' for a run that stopped early (Ctrl-C, an abort, the
    maximum run duration); '' for a whole run."""
    if not run.aborted:
        return ""
    reason = run.abort_reason or "aborted"
    why = "interrupted" if reason == "interrupted" else f"aborted ({reason})"
    of = f" of {human_duration(planned_s)}" if planned_s else ""
    return f"{why} after {human_duration(run.duration_s)}{of}"


def short_evidence(kind: str, duration_s: float) -> str:
    """The warning for a ``kind`` run shorter than the flow's guidance, else ''."""
    guide = GUIDANCE.get(kind)
    if guide is None or duration_s >= SLACK * guide[0]:
        return ""
    _, text, decides = guide
    ran = human_duration(duration_s)
    per = " per scenario" if kind == "capacity" else ""
    return f"{kind} ran {ran}{per}; the flow's guidance is {text}: {decides} {ran} of evidence"


def analysis_failure(kind: str, soak: SoakAnalysis | None, spike: SpikeAnalysis | None) -> str:
    """The failure a whole soak or spike analysis found ('' when none, or when the evidence is
    partial): one sentence for the flow message, the load gate and the checklist."""
    if kind == "soak" and soak is not None and soak.leak.verdict == "LEAK":
        return f"soak: {soak.leak.message}"
    if kind == "soak" and soak is not None and soak.degradation and not soak.partial:
        return f"soak: {'; '.join(soak.degradation)}"
    if kind == "spike" and spike is not None and spike.verdict == "NOT_RECOVERED" \
            and not spike.partial:
        return f"spike: {spike.message}"
    return ""
