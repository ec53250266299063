"""Live gate checks during a run: k6-style abortOnFail on the recorder's running totals.

After the gate's ``abort_delay``, once an SLO is already broken on the data so
far (with enough samples to say so), the run stops early and is marked
aborted with the reason; the SLO gate then fails on the partial run.
"""

from __future__ import annotations

from engine.analysis.metrics import latency_value, tail_samples_needed
from engine.analysis.slo import MIN_REQUESTS, MIN_TAIL_SAMPLES, metric_label
from engine.hotpath.native import OK, Histogram, Recorder
from engine.result import AbortCheck
from engine.spec.build_flow import metric_name
from engine.spec.model import Slo, Spec
from engine.units import format_value


def abort_check(spec: Spec) -> AbortCheck | None:
    """An abort check for the spec's abort_on_fail SLO gates, or None when there are none."""
    gates = [g for g in spec.gates if g.abort_on_fail and g.kind == "slo"]
    if not gates:
        return None
    delay = min(g.abort_delay_s for g in gates)

    def check(recorder: Recorder, elapsed_s: float) -> str:
        if elapsed_s < delay:
            return ""
        for slo in spec.slos:
            reason = _breach(slo, recorder)
            if reason:
                return f"abort_on_fail: {reason}"
        return ""
    return check


def _indices(slo: Slo, recorder: Recorder) -> list[int]:
    names = list(recorder.journeys)
    return [i for i, n in enumerate(names) if slo.sli.journey is None or n == slo.sli.journey]


def _breach(slo: Slo, recorder: Recorder) -> str:
    idx = _indices(slo, recorder)
    if not idx:
        return ""
    if slo.sli.kind == "latency" and slo.sli.percentile is not None:
        return _latency_breach(slo, recorder, idx)
    if slo.sli.kind in ("error_rate", "availability"):
        return _ratio_breach(slo, recorder, idx)
    return ""


def _latency_breach(slo: Slo, recorder: Recorder, idx: list[int]) -> str:
    merged = Histogram()
    for i in idx:
        merged.add(recorder.response(i))
    metric = metric_name(slo.sli)
    value = latency_value(merged, metric)
    if merged.total_count < tail_samples_needed(metric, MIN_TAIL_SAMPLES) or value is None:
        return ""
    if slo.objective.holds(value):
        return ""
    return f"{metric_label(slo)} {format_value('latency', value)} breaks {slo.objective.text}"


def _ratio_breach(slo: Slo, recorder: Recorder, idx: list[int]) -> str:
    counts = [recorder.outcomes(i) for i in idx]
    requests = sum(sum(c) for c in counts)
    if requests < MIN_REQUESTS:
        return ""
    errors = requests - sum(c[OK] for c in counts)
    value = errors / requests if slo.sli.kind == "error_rate" else 1 - errors / requests
    if slo.objective.holds(value):
        return ""
    return f"{metric_label(slo)} {format_value(slo.sli.kind, value)} breaks {slo.objective.text}"
