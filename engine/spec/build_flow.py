"""slis, slos, hypotheses, gates, report and history sections -> records."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from engine.spec.build_target import build_target
from engine.spec.context import Ctx, P
from engine.spec.model import (
    DEFAULT_MIN_EFFECT_S,
    BaselinePolicy,
    Expectation,
    Gate,
    HistorySettings,
    Hypothesis,
    LoadProfile,
    ReportSettings,
    Sli,
    Slo,
    Variant,
)
from engine.units import UnitError, parse_effort_hours

BUILTIN_SLIS = ("latency", "throughput", "error_rate", "availability")
_OBJECTIVE_KIND = {"latency": "duration", "throughput": "rate", "error_rate": "percent",
                   "availability": "percent"}


def build_slis(ctx: Ctx, raw: list[dict[str, Any]], journeys: set[str]) -> tuple[Sli, ...]:
    out = []
    for i, item in enumerate(raw):
        _check_journey(ctx, ("slis", i, "journey"), item.get("journey"), journeys)
        out.append(Sli(str(item["name"]), item["kind"], item.get("journey"),
                       _float(item.get("percentile"))))
    return tuple(out)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _check_journey(ctx: Ctx, path: P, name: Any, journeys: set[str]) -> None:
    if name is not None and name not in journeys:
        known = ", ".join(sorted(journeys))
        ctx.error(path, f"unknown journey {name!r}; expected one of: {known}")


def build_slos(ctx: Ctx, raw: list[dict[str, Any]], slis: tuple[Sli, ...],
               journeys: set[str]) -> tuple[Slo, ...]:
    named = {s.name: s for s in slis}
    out: list[Slo] = []
    for i, item in enumerate(raw):
        slo = _slo(ctx, item, ("slos", i), named, journeys)
        if slo is not None:
            if any(s.name == slo.name for s in out):
                ctx.error(("slos", i, "name"), f"duplicate SLO name {slo.name!r}")
            out.append(slo)
    return tuple(out)


def _slo(ctx: Ctx, item: dict[str, Any], path: P, named: dict[str, Sli],
         journeys: set[str]) -> Slo | None:
    sli = _resolve_sli(ctx, item, path, named, journeys)
    if sli is None:
        return None
    objective = ctx.comparison((*path, "objective"), item["objective"], _OBJECTIVE_KIND[sli.kind])
    window = ctx.duration((*path, "window"), item.get("window", "28d")) or 28 * 86400.0
    if objective is None:
        return None
    target = ctx.percent((*path, "target"), item["target"]) if "target" in item else None
    if target is None:
        target = _derived_target(sli, objective.value)
    return Slo(str(item["name"]), sli, objective, window, target, ctx.location(path))


def _resolve_sli(ctx: Ctx, item: dict[str, Any], path: P, named: dict[str, Sli],
                 journeys: set[str]) -> Sli | None:
    ref = str(item["sli"])
    base = named.get(ref)
    if base is None and ref not in BUILTIN_SLIS:
        options = ", ".join([*BUILTIN_SLIS, *sorted(named)])
        ctx.error((*path, "sli"), f"unknown SLI {ref!r}; expected one of: {options}")
        return None
    kind = base.kind if base else ref
    journey = item.get("journey", base.journey if base else None)
    _check_journey(ctx, (*path, "journey"), journey, journeys)
    pct = _float(item.get("percentile")) or (base.percentile if base else None)
    if kind == "latency" and pct is None:
        ctx.error(path, "missing required key 'percentile' for a latency SLO (e.g. 95)")
        return None
    return Sli(ref, kind, journey, pct if kind == "latency" else None)  # type: ignore[arg-type]


def _derived_target(sli: Sli, objective: float) -> float | None:
    """Good-event ratio the error budget comes from (see Slo.target)."""
    if sli.kind == "latency" and sli.percentile is not None:
        return sli.percentile / 100.0
    if sli.kind == "availability":
        return objective
    if sli.kind == "error_rate":
        return 1.0 - objective
    return None


def metric_name(sli: Sli) -> str:
    """The metrics.py name for an SLI: p95, throughput, error_rate, availability."""
    if sli.kind == "latency" and sli.percentile is not None:
        pct = sli.percentile
        return f"p{int(pct)}" if float(pct).is_integer() else f"p{pct:g}"
    return sli.kind


def build_hypotheses(ctx: Ctx, raw: list[dict[str, Any]], slos: tuple[Slo, ...],
                     profiles: Mapping[str, LoadProfile], criteria: set[str],
                     journeys: set[str]) -> tuple[Hypothesis, ...]:
    out: list[Hypothesis] = []
    for i, item in enumerate(raw):
        path: P = ("hypotheses", i)
        if any(h.id == item["id"] for h in out):
            ctx.error((*path, "id"), f"duplicate hypothesis id {item['id']!r}")
        expect = _expectation(ctx, item["expect"], (*path, "expect"), slos, journeys)
        profile = str(item.get("profile", "baseline"))
        if profile not in profiles:
            ctx.error((*path, "profile"), f"expected a profile defined under load, "
                                          f"{profile!r} is not (have: {', '.join(sorted(profiles))})")
        for name in item.get("scores", {}):
            if name not in criteria:
                ctx.error((*path, "scores", name), f"unknown criterion {name!r}; define it under criteria")
        duration = _round_duration(ctx, item, path, profiles.get(profile))
        if expect is not None:
            out.append(_hypothesis(ctx, item, path, expect, profile, duration))
    return tuple(out)


def _round_duration(ctx: Ctx, item: dict[str, Any], path: P,
                    profile: LoadProfile | None) -> float | None:
    """The hypothesis's ``duration`` (None: the profile's own). Only a constant shape can be
    held shorter or longer: steps, stages, a replay or production's shape set their own
    length, and cutting one would run a different load than the profile says."""
    if "duration" not in item:
        return None
    value = ctx.duration((*path, "duration"), item["duration"])
    if value is None or profile is None:
        return value
    shaped = profile.kind not in ("baseline", "soak") or bool(
        profile.stages or profile.rate_csv or profile.from_production)
    if shaped:
        ctx.error((*path, "duration"), f"expected no duration: profile {profile.name!r} has a "
                                       "shape of its own (steps, stages, a replay or "
                                       "production's), whose length it sets; use a constant "
                                       "rate or vus profile")
        return None
    return value


def _hypothesis(ctx: Ctx, item: dict[str, Any], path: P, expect: Expectation,
                profile: str, duration_s: float | None) -> Hypothesis:
    return Hypothesis(
        id=str(item["id"]), title=str(item["title"]), type=item["type"], expect=expect,
        effort_hours=_effort(ctx, (*path, "effort"), item["effort"]),
        baseline=Variant(build_target(ctx, item["baseline"]["target"], (*path, "baseline", "target"))),
        candidate=Variant(build_target(ctx, item["candidate"]["target"],
                                       (*path, "candidate", "target"))),
        change=str(item.get("change", "")), risk=item.get("risk", "medium"),
        estimated_impact=_impact(item.get("impact")), profile=profile,
        rounds=_rounds(item.get("rounds", "auto")), max_rounds=int(item.get("max_rounds", 6)),
        duration_s=duration_s,
        scores=MappingProxyType({str(k): float(v) for k, v in item.get("scores", {}).items()}),
        location=ctx.location(path))


def _rounds(raw: Any) -> int | Literal["auto"]:
    """'auto' (the default) or a fixed number of A/B rounds (the schema checked which)."""
    return "auto" if raw == "auto" else int(raw)


def _effort(ctx: Ctx, path: P, text: Any) -> float:
    try:
        return parse_effort_hours(str(text))
    except UnitError as exc:
        ctx.error(path, f"expected {exc.expected}, got {text!r}")
        return 0.0


def _impact(text: Any) -> float | None:
    """'60%' -> 0.6; '10x' (10 times faster) -> 0.9 of the time removed."""
    if text is None:
        return None
    value = str(text).strip()
    if value.endswith("%"):
        return float(value[:-1]) / 100.0
    return 1.0 - 1.0 / float(value[:-1])


def _expectation(ctx: Ctx, raw: dict[str, Any], path: P, slos: tuple[Slo, ...],
                 journeys: set[str]) -> Expectation | None:
    slo_name = raw.get("slo")
    metric, journey = raw.get("metric"), raw.get("journey")
    if slo_name is not None:
        slo = next((s for s in slos if s.name == slo_name), None)
        if slo is None:
            known = ", ".join(s.name for s in slos) or "none defined"
            ctx.error((*path, "slo"), f"unknown SLO {slo_name!r}; expected one of: {known}")
            return None
        metric, journey = metric or metric_name(slo.sli), journey or slo.sli.journey
    if metric is None:
        ctx.error(path, "expected 'slo' or 'metric' naming what the change moves")
        return None
    _check_journey(ctx, (*path, "journey"), journey, journeys)
    kind = {"throughput": "rate", "error_rate": "percent", "availability": "percent"}.get(
        str(metric), "duration")
    change = ctx.change((*path, "change"), raw.get("change"))
    value = ctx.comparison((*path, "value"), raw.get("value"), kind)
    return Expectation(str(metric), journey, change, value, slo_name)


def build_gates(ctx: Ctx, raw: list[dict[str, Any]] | None, has_hypotheses: bool) -> tuple[Gate, ...]:
    if raw is None:
        kinds = ["slo", "validity", "regression", "error_budget", "load"]
        kinds += ["hypothesis"] if has_hypotheses else []
        return tuple(Gate(k, k) for k in kinds)  # type: ignore[arg-type]
    out: list[Gate] = []
    for i, item in enumerate(raw):
        path: P = ("gates", i)
        if any(g.name == item["name"] for g in out):
            ctx.error((*path, "name"), f"duplicate gate name {item['name']!r}")
        tolerances = {k: ctx.percent((*path, "tolerances", k), v)
                      for k, v in item.get("tolerances", {}).items()}
        delay = ctx.duration((*path, "abort_delay"), item.get("abort_delay"), positive=False)
        floor = ctx.duration((*path, "min_effect"), item.get("min_effect"), positive=False)
        out.append(Gate(str(item["name"]), item["kind"], bool(item.get("abort_on_fail", False)),
                        delay or 0.0, _strict(item.get("strict")),
                        MappingProxyType({k: v for k, v in tolerances.items() if v is not None}),
                        DEFAULT_MIN_EFFECT_S if floor is None else floor,
                        tuple(str(c) for c in item.get("fail_on", ()))))
        if item["kind"] == "advice" and not item.get("fail_on"):
            ctx.error((*path, "fail_on"), "an advice gate needs fail_on: the failure-mode "
                      "codes that fail it (see docs/ADVISOR.md)")
    return tuple(out)


def _strict(value: Any) -> bool | None:
    """Unset stays None: the gate kind decides (Gate.is_strict)."""
    return None if value is None else bool(value)


def build_report(raw: dict[str, Any]) -> ReportSettings:
    formats = tuple(raw.get("formats", ReportSettings.formats))
    return ReportSettings(formats, str(raw.get("dir", "reports")))


def build_history(ctx: Ctx, raw: dict[str, Any]) -> HistorySettings:
    b = raw.get("baseline", {})
    window = ctx.duration(("history", "baseline", "window"), b.get("window", "7d")) or 7 * 86400.0
    policy = BaselinePolicy(b.get("mode", "pinned" if "name" in b else "window"), window,
                            int(b.get("last", 5)), b.get("name"), bool(b.get("other_hosts", False)))
    if policy.mode == "pinned" and not policy.pinned:
        ctx.error(("history", "baseline"), "missing required key 'name' for a pinned baseline")
    return HistorySettings(str(raw.get("path", ".perfopt/history.db")), policy,
                           bool(raw.get("enabled", True)))
