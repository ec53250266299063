"""Warnings about a spec that loads but cannot deliver what it asks for.

Unlike ``SpecError`` these never stop a run: the exit code is unchanged. Today's one
check: a latency SLO's percentile needs ``MIN_TAIL_SAMPLES`` requests beyond it (p95 ->
200, p99 -> 1000) before it may decide anything; a profile that sends fewer leaves the
SLO INCONCLUSIVE at run time (and the strict ``slo`` gate FAILS it), so say so up front.
Pure arithmetic on the records: no numpy or native code (validate and --dry-run stay fast).
"""

from __future__ import annotations

import math

from engine.spec.model import LoadProfile, Slo, Spec

__all__ = ["MIN_TAIL_SAMPLES", "percentile_samples_needed", "slo_profile", "spec_warnings"]

MIN_TAIL_SAMPLES = 10
"""Recorded values expected beyond a percentile before it may decide (p99 -> 1000)."""

_JUDGED_KINDS = ("baseline", "soak", "spike")
"""Profiles apply judges the SLOs on (outcome.primary): single runs, not stress/capacity."""


def percentile_samples_needed(percentile: float, min_tail: int = MIN_TAIL_SAMPLES) -> int:
    """Requests a ``percentile`` (e.g. 99.0) needs: ``min_tail`` beyond it; 0 for 100."""
    tail = 1.0 - percentile / 100.0
    return math.ceil(min_tail / tail - 1e-9) if tail > 0 else 0


def slo_profile(spec: Spec) -> LoadProfile | None:
    """The profile the SLOs are judged on: the baseline, else the first single-run profile."""
    judged = [p for p in spec.profiles if p.kind in _JUDGED_KINDS]
    return next((p for p in judged if p.kind == "baseline"), judged[0] if judged else None)


def _sent(p: LoadProfile) -> tuple[float, str] | None:
    """(requests the profile schedules, the arithmetic as text); None when unknowable
    (closed model, CSV replay)."""
    if p.stages:
        if any(s.rate is None for s in p.stages):
            return None
        total, prev = 0.0, 0.0
        for stage in p.stages:
            total += (prev + (stage.rate or 0.0)) / 2 * stage.duration_s
            prev = stage.rate or 0.0
        return total, f"{len(p.stages)} stages totalling {total:.0f} requests"
    if p.base_rate is not None and p.peak_rate is not None:
        parts = [(p.base_rate, p.before_s or 0.0), (p.peak_rate, p.spike_s or 0.0),
                 (p.base_rate, p.after_s or 0.0)]
        return (sum(r * d for r, d in parts),
                " + ".join(f"{r:g}/s x {d:g}s" for r, d in parts))
    if p.rate is not None and p.duration_s > 0:
        return p.rate * p.duration_s, f"{p.rate:g}/s x {p.duration_s:g}s"
    return None


def _slo_warning(spec: Spec, slo: Slo, profile: LoadProfile, sent: tuple[float, str]) -> str:
    pct = slo.sli.percentile
    if slo.sli.kind != "latency" or pct is None:
        return ""
    need = percentile_samples_needed(pct)
    requests, text = sent
    weights = {j.name: j.weight for j in spec.journeys}
    journey = slo.sli.journey
    if journey is not None and journey in weights and len(weights) > 1:
        share = weights[journey] / sum(weights.values())
        requests *= share
        text += f" x {share:.0%} ({journey})"
    if requests >= need:
        return ""
    where = slo.location or spec.source
    return (f"{where}: warning: slo {slo.name!r}: {profile.name} sends about {text} = "
            f"{requests:.0f} requests, a p{pct:g} needs at least {need}")


def spec_warnings(spec: Spec) -> list[str]:
    """One line per SLO its judged profile cannot measure with enough requests."""
    profile = slo_profile(spec)
    sent = _sent(profile) if profile is not None else None
    if profile is None or sent is None:
        return []
    return [w for slo in spec.slos if (w := _slo_warning(spec, slo, profile, sent))]
