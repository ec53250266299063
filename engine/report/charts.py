"""The report's charts as inline SVG, each a pure function of one document part."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.fmt import primary_runs
from engine.report.svg import Axis, HLine, Series, VLine, line_chart
from engine.units import UnitError, parse_comparison

__all__ = [
    "cpu_chart", "distribution_chart", "latency_chart", "rss_chart", "stress_chart",
    "throughput_chart",
]

Doc = Mapping[str, Any]
MS = 1e3
MIB = 1024 * 1024
_PCT_AXIS = Axis("percentile", fmt=lambda p: f"{round(p, 6):g}%", scale="percentile")


MAX_POINTS = 600


def thin(points: Sequence[tuple[float, float]], peak: bool,
         limit: int = MAX_POINTS) -> list[tuple[float, float]]:
    """At most ``limit`` points: consecutive chunks become one point (max when ``peak``, so a
    4-hour soak still shows its worst second; otherwise the mean)."""
    if len(points) <= limit:
        return list(points)
    size = math.ceil(len(points) / limit)
    out = []
    for i in range(0, len(points), size):
        chunk = points[i:i + size]
        ys = [y for _, y in chunk]
        out.append((chunk[0][0], max(ys) if peak else sum(ys) / len(ys)))
    return out


def chart_intervals(run: Doc) -> list[Doc]:
    """The run's intervals minus a short trailing drain interval (e.g. 0.06 s holding the
    last few completions), whose rate would otherwise draw a spike that never happened."""
    ivs = list(run.get("intervals") or [])
    if len(ivs) >= 3:
        durations = sorted(float(iv["duration_s"]) for iv in ivs)
        if float(ivs[-1]["duration_s"]) < 0.5 * durations[len(durations) // 2]:
            ivs.pop()
    return ivs


def _time(run: Doc, t_s: float) -> float:
    return t_s / 60.0 if run["duration_s"] > 600 else t_s


def _time_axis(run: Doc) -> Axis:
    return Axis("time since start (min)" if run["duration_s"] > 600 else "time since start (s)")


def _slo_lines(spec: Doc) -> list[HLine]:
    lines = []
    for c in spec.get("slo_checks") or []:
        if c.get("sli") != "latency":
            continue
        try:
            cmp = parse_comparison(str(c["target"]), "duration")
        except UnitError:
            continue
        lines.append(HLine(cmp.value * MS, f"{c['metric']} target {c['target']}"))
    return lines


def latency_chart(spec: Doc, run: Doc) -> str:
    """p50/p95/p99 per interval (ms) with latency SLO targets as reference lines."""
    ivs = chart_intervals(run)
    series = [Series(name, thin([(_time(run, iv["t_s"]), iv[key] * MS) for iv in ivs], True),
                     color=color, area=key == "p99")
              for name, key, color in (("p50", "p50", "#16a34a"), ("p95", "p95", "#2563eb"),
                                       ("p99", "p99", "#9333ea"))]
    return line_chart(series, title=f"Latency percentiles over time · {run['id']}",
                      x=_time_axis(run), y=Axis("latency (ms)"), hlines=_slo_lines(spec),
                      chart_id=f"latency-{run['id']}")


def throughput_chart(run: Doc) -> str:
    """Sent requests/s and target rate (left) and errors/s (right) per interval."""
    ivs = chart_intervals(run)
    series = [Series("throughput", thin([(_time(run, iv["t_s"]), iv["rate"]) for iv in ivs], False),
                     color="#2563eb", area=True)]
    if any(iv.get("target_rate") is not None for iv in ivs):
        target = [(_time(run, iv["t_s"]), iv["target_rate"]) for iv in ivs
                  if iv.get("target_rate") is not None]
        series.append(Series("target rate", thin(target, False), color="#64748b", dashed=True))
    errors = [(_time(run, iv["t_s"]), iv["errors"] / (iv["duration_s"] or 1)) for iv in ivs]
    series.append(Series("errors/s", thin(errors, True), color="#dc2626", axis="right"))
    return line_chart(series, title=f"Throughput and errors over time · {run['id']}",
                      x=_time_axis(run), y=Axis("requests/s"), y2=Axis("errors/s"),
                      chart_id=f"throughput-{run['id']}")


_AB_RUN = re.compile(r"^(?P<hyp>.+)-(?P<side>baseline|candidate)-(?P<round>\d+)$")
_HYP_COLORS = ("#f97316", "#16a34a", "#9333ea")


def _ab_series(spec: Doc) -> list[Series]:
    """First-round before (dashed) / after (solid) spectra per hypothesis, one colour each."""
    pairs: dict[str, dict[str, Doc]] = {}
    for r in spec.get("runs") or []:
        m = _AB_RUN.match(str(r.get("id")))
        if m and m.group("round") == "1":
            pairs.setdefault(m.group("hyp"), {})[m.group("side")] = r
    series = []
    for (hyp, sides), color in zip(list(pairs.items())[:3], _HYP_COLORS, strict=False):
        for side, label, dashed in (("baseline", "before", True), ("candidate", "after", False)):
            if side in sides:
                pts = [(p, v * MS) for p, v in sides[side].get("spectrum") or []]
                series.append(Series(f"{hyp} {label}", pts, color=color, dashed=dashed))
    return series


def distribution_chart(spec: Doc) -> str:
    """Percentile spectrum of the baseline/soak runs and of each hypothesis' A/B sides (ms,
    log-tail x axis)."""
    # stress, spike and capacity runs mix several rates: their spectra are not comparable
    runs = [r for r in primary_runs(spec) if r.get("kind") in ("baseline", "soak")]
    colors = {"baseline": "#2563eb", "soak": "#0891b2"}
    series = [Series(r["id"], [(p, v * MS) for p, v in r.get("spectrum") or []],
                     color=colors.get(str(r.get("kind")))) for r in runs]
    return line_chart(series + _ab_series(spec), title="Latency distribution (percentile spectrum)",
                      x=_PCT_AXIS, y=Axis("latency (ms)"), chart_id="distribution")


def stress_chart(stress: Doc) -> str:
    """Latency vs achieved throughput over the stress steps, error rate on the right."""
    steps = sorted(stress.get("steps") or [], key=lambda s: s["achieved_rate"])
    series = [Series(key, [(s["achieved_rate"], s[key] * MS) for s in steps if s.get(key) is not None],
                     color=color) for key, color in (("p50", "#16a34a"), ("p95", "#2563eb"),
                                                     ("p99", "#9333ea"))]
    series.append(Series("error rate", [(s["achieved_rate"], s["error_rate"] * 100) for s in steps],
                         color="#dc2626", axis="right", dashed=True))
    broke = stress.get("breaking_point_rate")
    marks = [VLine(float(broke), f"breaking point {broke:g}/s")] if broke is not None else []
    return line_chart(series, title="Stress: latency vs throughput", x=Axis("achieved requests/s"),
                      y=Axis("latency (ms)"), y2=Axis("error rate (%)"), vlines=marks,
                      chart_id="stress")


def capacity_chart(capacity: Doc) -> str:
    """p95 (ms) and target CPU (right axis) at each capacity multiplier's achieved rate."""
    points = sorted(capacity.get("points") or [], key=lambda p: p["achieved_rate"])
    series = [Series("p95", [(p["achieved_rate"], p["p95"] * MS) for p in points
                             if p.get("p95") is not None], color="#2563eb"),
              Series("error rate", [(p["achieved_rate"], p["error_rate"] * 100) for p in points],
                     color="#dc2626", axis="right", dashed=True)]
    return line_chart(series, title="Capacity: p95 and errors by load",
                      x=Axis("achieved requests/s"), y=Axis("p95 (ms)"), y2=Axis("error rate (%)"),
                      chart_id="capacity")


def _resource_runs(spec: Doc) -> list[Doc]:
    return [r for r in primary_runs(spec) if r.get("resources")]


def cpu_chart(spec: Doc) -> str:
    """Target process CPU (% of one core) over time, one line per primary run."""
    series = [Series(r["id"], thin([(s["t_s"], s["cpu_pct"]) for s in r["resources"]], False))
              for r in _resource_runs(spec)]
    return line_chart(series, title="Target CPU over time", x=Axis("time since start (s)"),
                      y=Axis("CPU (% of one core)"), chart_id="cpu")


def rss_chart(spec: Doc) -> str:
    """Target resident memory (MiB) over time, one line per primary run."""
    series = [Series(r["id"], thin([(s["t_s"], s["rss_bytes"] / MIB) for s in r["resources"]], True))
              for r in _resource_runs(spec)]
    return line_chart(series, title="Target memory (RSS) over time", x=Axis("time since start (s)"),
                      y=Axis("RSS (MiB)"), chart_id="rss")


def has_resources(spec: Doc) -> bool:
    """True when any primary run carries target resource samples."""
    return bool(_resource_runs(spec))


def glance_charts(spec: Doc) -> Sequence[str]:
    """The at-a-glance set: latency, throughput, distribution, stress curve, CPU and RSS."""
    runs = primary_runs(spec)
    charts: list[str] = []
    if runs:
        charts += [latency_chart(spec, runs[0]), throughput_chart(runs[0]), distribution_chart(spec)]
    if spec.get("stress") and (spec["stress"].get("steps") or []):
        charts.append(stress_chart(spec["stress"]))
    if has_resources(spec):
        charts += [cpu_chart(spec), rss_chart(spec)]
    return charts


def kind_charts(spec: Doc, kind: str) -> Sequence[str]:
    """Latency and throughput over time of the primary run of ``kind`` (baseline: none,
    the at-a-glance charts already show it)."""
    run = next((r for r in primary_runs(spec) if r.get("kind") == kind), None)
    charts: list[str] = []
    if kind == "capacity" and (spec.get("capacity") or {}).get("points"):
        charts.append(capacity_chart(spec["capacity"]))
    if run is not None and kind != "baseline":
        charts += [latency_chart(spec, run), throughput_chart(run)]
    return charts
