"""The report's charts as inline SVG, each a pure function of one document part."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.fmt import primary_runs
from engine.report.svg import Axis, HLine, Series, VLine, line_chart
from engine.result import rate_bins, sample_seconds
from engine.units import UnitError, parse_comparison

__all__ = [
    "breaking_marker", "capacity_chart", "cpu_chart", "cpu_points", "distribution_chart",
    "glance_charts", "kind_charts", "latency_chart", "resource_charts", "rss_chart",
    "stress_chart", "throughput_chart",
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


_PCT_KEYS = ("p50", "p95", "p99")
_PCT_COLORS = {"p50": "#16a34a", "p95": "#2563eb", "p99": "#9333ea"}
_JOURNEY_COLORS = ("#f97316", "#0891b2", "#ca8a04", "#dc2626")


def _slo_series(check: Doc, run: Doc) -> tuple[str, str | None] | None:
    """(series name, journey whose interval percentiles it plots; None: the aggregate) of the
    series a latency SLO is defined on; None when the chart has no such series (p99.9)."""
    key = str(check.get("metric", "")).split(" ")[-1]
    if key not in _PCT_KEYS:
        return None
    journey = check.get("journey")
    names = [j["name"] for j in run.get("journeys") or []]
    if journey is None or names == [journey]:
        return key, None
    return (f"{journey} {key}", str(journey)) if journey in names else None


def _target(check: Doc, series: str) -> HLine | None:
    try:
        cmp = parse_comparison(str(check["target"]), "duration")
    except UnitError:
        return None
    return HLine(cmp.value * MS, f"{check['metric']} target {check['target']}", series=series)


def _slo_lines(spec: Doc, run: Doc) -> tuple[list[Series], list[HLine]]:
    """Each latency SLO's target line on the series it is defined on: the aggregate
    percentile, or the journey's own (added as a dashed series)."""
    extra: list[Series] = []
    lines: list[HLine] = []
    ivs = chart_intervals(run)
    for c in spec.get("slo_checks") or []:
        found = _slo_series(c, run) if c.get("sli") == "latency" else None
        line = _target(c, found[0]) if found else None
        if found is None or line is None:
            continue
        name, journey = found
        if journey is not None and all(s.name != name for s in extra):
            key = name.split(" ")[-1]
            pts = [(_time(run, iv["t_s"]), iv["journeys"][journey][key] * MS) for iv in ivs
                   if journey in (iv.get("journeys") or {})]
            if not pts:
                continue
            color = _JOURNEY_COLORS[len(extra) % len(_JOURNEY_COLORS)]
            extra.append(Series(name, thin(pts, True), color=color, dashed=True))
        lines.append(line)
    return extra, lines


def latency_chart(spec: Doc, run: Doc) -> str:
    """p50/p95/p99 per interval (ms); each latency SLO's target on its own series."""
    ivs = chart_intervals(run)
    series = [Series(key, thin([(_time(run, iv["t_s"]), iv[key] * MS) for iv in ivs], True),
                     color=_PCT_COLORS[key], area=key == "p99") for key in _PCT_KEYS]
    extra, lines = _slo_lines(spec, run)
    return line_chart(series + extra, title=f"Latency percentiles over time · {run['id']}",
                      x=_time_axis(run), y=Axis("latency (ms)"), hlines=lines,
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


def breaking_marker(stress: Doc) -> list[VLine]:
    """The breaking-point marker, only where one exists: a whole stress run in which a
    step failed a stop condition above the first step (none when every step passed)."""
    bp = stress.get("breaking_point_rate")
    broke = stress.get("broke", stress.get("failure_mode") not in (None, "none"))
    if bp is None or not broke or stress.get("partial"):
        return []
    return [VLine(float(bp), f"breaking point {bp:g}/s")]


def stress_chart(stress: Doc) -> str:
    """Latency by offered rate over the stress steps (the breaking point is an offered
    rate), error rate on the right."""
    steps = sorted(stress.get("steps") or [], key=lambda s: s["rate"])
    series = [Series(key, [(s["rate"], s[key] * MS) for s in steps if s.get(key) is not None],
                     color=_PCT_COLORS[key]) for key in _PCT_KEYS]
    series.append(Series("error rate", [(s["rate"], s["error_rate"] * 100) for s in steps],
                         color="#dc2626", axis="right", dashed=True))
    others = sorted(stress.get("others") or [], key=lambda s: s["rate"])
    if others:  # the runs the breaking point also counts (engine.analysis.ladder)
        series.append(Series("capacity p95", [(o["rate"], o["p95"] * MS) for o in others],
                             color="#f59e0b", dashed=True))
    return line_chart(series, title="Stress: latency by offered rate", x=Axis("offered requests/s"),
                      y=Axis("latency (ms)"), y2=Axis("error rate (%)"),
                      vlines=breaking_marker(stress), chart_id="stress")


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


def cpu_points(samples: Sequence[Doc], limit: int = MAX_POINTS) -> list[tuple[float, float]]:
    """CPU (% of one core) per bin of at least 1 s aligned to the run's start: the CPU time
    the readings used in the bin over the seconds they cover (engine.result.rate_bins, the
    1 s bins every CPU quantile is taken over). A reading is CPU time over the window since
    the sample before, so it counts in the bins of that window, not in the bin of its
    ``t_s``; a 0.1 s reading counts whole 10 ms clock ticks (10% steps), a second's bin is at
    1% resolution."""
    read = [smp for smp in samples if "cpu_pct" not in (smp.get("unknown") or ())]
    if not read:  # a reading a remote target's scrape missed is no 0% (as cpu_bins)
        return []
    times = [float(smp["t_s"]) for smp in read]
    first = times[0] - sample_seconds(times[:2], rate=True)[0]  # the first reading's window
    # at most ``limit`` bins: whole seconds; a span aligned to 0 touches one bin more
    width = float(max(1, math.ceil((times[-1] - first) / max(1, limit - 1))))
    bins = rate_bins(times, [float(smp["cpu_pct"]) for smp in read], width)
    return [(start, pct) for start, pct, _ in bins]


def cpu_chart(run: Doc) -> str:
    """Target process CPU (% of one core) over time of one run, per 1 s (or wider) bin."""
    pts = [(_time(run, t), v) for t, v in cpu_points(run["resources"])]
    return line_chart([Series(f"CPU · {run['id']}", pts, color="#0891b2")],
                      title=f"Target CPU over time · {run['id']}", x=_time_axis(run),
                      y=Axis("CPU (% of one core)"), chart_id=f"cpu-{run['id']}")


def rss_chart(run: Doc) -> str:
    """Target resident memory (MiB) over time of one run."""
    pts = [(_time(run, s["t_s"]), s["rss_bytes"] / MIB) for s in run["resources"]]
    return line_chart([Series(f"RSS · {run['id']}", thin(pts, True), color="#9333ea")],
                      title=f"Target memory (RSS) over time · {run['id']}", x=_time_axis(run),
                      y=Axis("RSS (MiB)"), chart_id=f"rss-{run['id']}")


def resource_charts(run: Doc) -> list[str]:
    """CPU and RSS of one run (one panel per profile: runs never share a time axis)."""
    return [cpu_chart(run), rss_chart(run)] if run.get("resources") else []


def glance_charts(spec: Doc) -> Sequence[str]:
    """The at-a-glance set: latency, throughput, distribution, stress curve, CPU and RSS of
    the first primary run."""
    runs = primary_runs(spec)
    charts: list[str] = []
    if runs:
        charts += [latency_chart(spec, runs[0]), throughput_chart(runs[0]), distribution_chart(spec)]
    if spec.get("stress") and (spec["stress"].get("steps") or []):
        charts.append(stress_chart(spec["stress"]))
    if runs:
        charts += resource_charts(runs[0])
    return charts


def kind_charts(spec: Doc, kind: str) -> Sequence[str]:
    """Latency, throughput, CPU and RSS over time of the primary run of ``kind`` (not the
    first primary run: the at-a-glance charts already show it)."""
    runs = primary_runs(spec)
    run = next((r for r in runs if r.get("kind") == kind), None)
    charts: list[str] = []
    if kind == "capacity" and (spec.get("capacity") or {}).get("points"):
        charts.append(capacity_chart(spec["capacity"]))
    if run is not None and run is not runs[0]:
        charts += [latency_chart(spec, run), throughput_chart(run), *resource_charts(run)]
    return charts
