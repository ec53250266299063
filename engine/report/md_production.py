"""The report's Production Monitoring section from the ``production`` entry (issue #17):
period, compliance and error budget per SLO, per-day compliance, the flow template's
checks (p95 within +10% of target, error rate stable, no regression after the deploy),
and the per-day chart of the HTML report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.report.fmt import fmt_pct
from engine.report.md_parts import bullets, no_data, table
from engine.report.svg import Axis, HLine, Series, line_chart

Doc = Mapping[str, Any]
NOT_MEASURED = "Production SLO compliance over 7-14 days is not measured by this run."
BAND = 0.10
"""The flow template's 'p95 within ±10% of target'."""


def production_markdown(spec: Doc) -> str:
    """The section's production part; the one 'not measured' line without a production block."""
    prod = spec.get("production")
    if not prod:
        return NOT_MEASURED
    if prod.get("error"):
        return f"**Production not judged:** {prod['error']}. No SLO is marked compliant."
    slos = prod.get("slos") or []
    if not slos:
        return no_data("No production SLO was evaluated.")
    first = slos[0]["period"]
    parts = [f"Production SLOs from Prometheus, {first['start']} → {first['end']} "
             f"({first['days']:g} days, evaluated {prod.get('at')}).", _summary(slos)]
    parts += [_per_day(slos), "Flow checks:\n\n" + bullets(_checks(slos))]
    parts.append("Budget policy:\n\n" + bullets(f"{s['slo']}: {s['policy']}" for s in slos))
    missing = prod.get("alerts_missing")
    if missing:
        parts.append(f"Burn-rate alerts not loaded for: {', '.join(missing)} "
                     "(perfopt-engine rules writes them).")
    return "\n\n".join(parts)


def _summary(slos: Sequence[Doc]) -> str:
    rows = []
    for s in slos:
        budget, burn = s["error_budget"], s["burn"]
        rates = burn.get("rates") or {}
        rows.append([s["slo"], s["verdict"], fmt_pct(s.get("compliance"), 3),
                     fmt_pct(s.get("target"), 3), fmt_pct(budget.get("consumed"), 1),
                     fmt_pct(budget.get("remaining"), 1),
                     " / ".join(_x(rates.get(w)) for w in ("1h", "6h", "3d")),
                     str(burn.get("state", "unknown")).upper(),
                     _days(s["period"].get("days_of_data"))])
    return table(["SLO", "Verdict", "Compliance", "Target", "Budget consumed", "Remaining",
                  "Burn 1h / 6h / 3d", "Alert state", "Data"], rows)


def _x(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.2f}x"


def _days(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1f} d"


def _per_day(slos: Sequence[Doc]) -> str:
    days = [d["end"][:10] for d in slos[0].get("per_day") or []]
    rows = [[day, *(_day_value(s, i) for s in slos)] for i, day in enumerate(days)]
    return "Per-day compliance (day ending):\n\n" + table(["Day", *(s["slo"] for s in slos)], rows)


def _day_value(slo: Doc, i: int) -> str:
    per_day = slo.get("per_day") or []
    value = per_day[i]["compliance"] if i < len(per_day) else None
    return "no data" if value is None else fmt_pct(value, 3)


def _checks(slos: Sequence[Doc]) -> list[str]:
    out = []
    for s in slos:
        if s["metric"].startswith("p") and s.get("value") is not None:
            out.append(_band(s))
        else:
            out.append(_stable(s))
        out.append(_shifts(s))
        reg = s.get("regression")
        if reg:
            verdict = {True: "REGRESSION", False: "no regression"}.get(reg["regressed"],
                                                                          "not judged")
            out.append(f"{s['slo']}: deploy at {reg['deployed_at']}: burn {_x(reg['burn_before'])}"
                       f" before, {_x(reg['burn_after'])} after: {verdict}")
    return out


def _shifts(s: Doc) -> str:
    """No regression: the change points of the 6-hourly series (engine.production.shifts)."""
    cps = s.get("changepoints") or []
    if not cps and s.get("verdict") == "INSUFFICIENT_DATA":  # no series to look at
        return f"{s['slo']}: change points not judged: {s.get('reason') or 'too little data'}"
    if not cps:
        return f"{s['slo']}: no change point in the 6-hourly series (no regression seen)"
    latency = s["metric"].startswith("p")

    def shown(v: float) -> str:
        return f"{v * 1000:.1f} ms" if latency else f"{v:.3%}"
    moves = "; ".join(f"{shown(c['before'])} → {shown(c['after'])} from {c['at'][:16]} "
                      f"({'worse' if c['worse'] else 'better'})" for c in cps)
    verdict = "REGRESSION" if any(c["worse"] for c in cps) else "no regression"
    return f"{s['slo']}: {s['metric']} change points: {moves}: {verdict}"


def _band(s: Doc) -> str:
    target = _objective_s(s["objective"])
    value = float(s["value"])
    if target is None:
        return f"{s['slo']}: {s['metric']} {value * 1000:.1f} ms"
    change = value / target - 1.0
    where = "within" if change <= BAND else "over"
    return (f"{s['slo']}: {s['metric']} {value * 1000:.1f} ms vs target {target * 1000:g} ms "
            f"({change:+.0%}): {where} the +{BAND:.0%} band")


def _objective_s(text: str) -> float | None:
    from engine.units import UnitError, parse_duration

    try:
        return parse_duration(text.lstrip("<>= "))
    except UnitError:
        return None


def _stable(s: Doc) -> str:
    budget = 1.0 - float(s["target"])
    bad = [1.0 - d["compliance"] for d in s.get("per_day") or [] if d["compliance"] is not None]
    if not bad:
        return f"{s['slo']}: error rate per day: no data"
    over = sum(1 for b in bad if b > budget)
    verdict = "stable (every day within the budget)" if not over else \
        f"not stable: {over} day(s) over the budget"
    return (f"{s['slo']}: error rate per day {min(bad):.3%} to {max(bad):.3%} "
            f"(budget {budget:.3%}): {verdict}")


def production_chart(spec: Doc) -> str | None:
    """Per-day compliance as error budget burn (1x: the day spent exactly its share), one
    line per SLO; None without production data."""
    prod = spec.get("production") or {}
    series = []
    for s in prod.get("slos") or []:
        budget = 1.0 - float(s["target"])
        points = [(float(i + 1), (1.0 - d["compliance"]) / budget)
                  for i, d in enumerate(s.get("per_day") or []) if d["compliance"] is not None]
        series.append(Series(s["slo"], points))
    if not any(x.points for x in series):
        return None
    return line_chart(series, title="Production: per-day compliance as budget burn",
                      x=Axis("day of the window"), y=Axis("burn (x budget)"),
                      hlines=[HLine(1.0, "budget")], chart_id="production-days")
