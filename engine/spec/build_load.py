"""load section -> LoadProfile records (one per kind present)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from engine.spec.build_production import production_shape
from engine.spec.context import Ctx, P
from engine.spec.model import PROFILE_KINDS, LoadProfile, RunSettings, Stage, StopWhen
from engine.spec.think import build_think


def build_profiles(ctx: Ctx, raw: dict[str, Any]) -> tuple[LoadProfile, ...]:
    """Every profile kind given in ``load``, with defaults merged under each."""
    defaults = _settings(ctx, raw.get("defaults", {}), ("load", "defaults"), RunSettings())
    out = []
    for kind in PROFILE_KINDS:
        if kind in raw:
            path: P = ("load", kind)
            settings = _settings(ctx, raw[kind], path, defaults)
            out.append(_BUILDERS[kind](ctx, raw[kind], path, settings))
    return tuple(out)


def _settings(ctx: Ctx, raw: dict[str, Any], path: P, base: RunSettings) -> RunSettings:
    changes: dict[str, Any] = {}
    if "workers" in raw:
        changes["workers"] = 0 if raw["workers"] == "auto" else int(raw["workers"])
    for key in ("connections", "max_queue"):
        if key in raw:
            changes[key] = int(raw[key])
    for key, field in (("timeout", "timeout_s"), ("connect_timeout", "connect_timeout_s"),
                       ("interval", "interval_s")):
        if key in raw:
            changes[field] = ctx.duration((*path, key), raw[key]) or getattr(base, field)
    if "rate_tolerance" in raw:
        changes["rate_tolerance"] = ctx.percent((*path, "rate_tolerance"), raw["rate_tolerance"])
    if "model" in raw:
        changes["model"] = raw["model"]
    return dataclasses.replace(base, **{k: v for k, v in changes.items() if v is not None})


def _shape(ctx: Ctx, raw: dict[str, Any], path: P) -> dict[str, Any]:
    """Fields shared by baseline and soak: rate/vus, duration, ramp, stages, replay CSV."""
    think = build_think(ctx, (*path, "think_time"), raw.get("think_time"))
    out: dict[str, Any] = {
        "rate": ctx.rate((*path, "rate"), raw.get("rate")),
        "vus": raw.get("vus"),
        "duration_s": ctx.duration((*path, "duration"), raw.get("duration")) or 0.0,
        "ramp_up_s": ctx.duration((*path, "ramp_up"), raw.get("ramp_up"), positive=False) or 0.0,
        "think_time_s": think.mean_s if think else 0.0,
        "think": think if think is not None and think.kind != "fixed" else None,
        "stages": tuple(_stage(ctx, s, (*path, "stages", i))
                        for i, s in enumerate(raw.get("stages", []))),
    }
    if "rate_csv" in raw:
        out["rate_csv"] = _csv(ctx, str(raw["rate_csv"]), (*path, "rate_csv"))
    if "from_production" in raw:  # issue #17: stages resolved from Prometheus at run time
        out.update(production_shape(ctx, raw["from_production"], (*path, "from_production")))
    shapes = [k for k in ("rate", "vus", "stages", "rate_csv", "from_production") if k in raw]
    if len(shapes) != 1:
        ctx.error(path, "expected exactly one of rate, vus, stages, rate_csv or from_production"
                  + (f", got {', '.join(shapes)}" if shapes else ""))
    if ("rate" in raw or "vus" in raw) and "duration" not in raw:
        ctx.error(path, "missing required key 'duration'")
    return out


def _csv(ctx: Ctx, name: str, path: P) -> str:
    file = ctx.base_dir / name
    if not Path(file).is_file():
        ctx.error(path, f"expected an existing CSV file of t_s,rate rows, {str(file)!r} not found")
    return str(file)


def _stage(ctx: Ctx, raw: dict[str, Any], path: P) -> Stage:
    if ("rate" in raw) == ("vus" in raw):
        ctx.error(path, "expected exactly one of rate or vus in a stage")
    return Stage(ctx.duration((*path, "duration"), raw["duration"]) or 0.0,
                 ctx.rate((*path, "rate"), raw.get("rate")), raw.get("vus"))


def _model(shape: dict[str, Any], settings: RunSettings) -> RunSettings:
    closed = shape.get("vus") is not None or any(s.vus for s in shape.get("stages", ()))
    return dataclasses.replace(settings, model="closed" if closed else settings.model)


def _baseline(ctx: Ctx, raw: dict[str, Any], path: P, settings: RunSettings) -> LoadProfile:
    shape = _shape(ctx, raw, path)
    return LoadProfile("baseline", "baseline", _model(shape, settings), location=ctx.location(path),
                       **shape)


def _soak(ctx: Ctx, raw: dict[str, Any], path: P, settings: RunSettings) -> LoadProfile:
    shape = _shape(ctx, raw, path)
    window = ctx.duration((*path, "window"), raw.get("window"))
    horizon = ctx.duration((*path, "leak_horizon"), raw.get("leak_horizon"))
    return LoadProfile("soak", "soak", _model(shape, settings), window_s=window,
                       leak_horizon_s=horizon, location=ctx.location(path), **shape)


def _stress(ctx: Ctx, raw: dict[str, Any], path: P, settings: RunSettings) -> LoadProfile:
    stop = raw.get("stop_when", {})
    sp: P = (*path, "stop_when")
    p95 = ctx.comparison((*sp, "p95"), stop.get("p95"), "duration")
    p99 = ctx.comparison((*sp, "p99"), stop.get("p99"), "duration")
    err = ctx.comparison((*sp, "error_rate"), stop.get("error_rate"), "percent")
    stop_when = StopWhen(p95.value if p95 else None, p99.value if p99 else None,
                         err.value if err else None, bool(stop.get("slo_broken", True)))
    start = ctx.rate((*path, "start"), raw.get("start"))
    max_rate = ctx.rate((*path, "max_rate"), raw.get("max_rate"))
    if start and max_rate and max_rate < start:
        ctx.error((*path, "max_rate"), f"expected max_rate >= start ({raw.get('start')})")
    peak = ctx.rate((*path, "expected_peak"), raw.get("expected_peak"))
    if peak and max_rate and max_rate < peak:
        ctx.error((*path, "max_rate"), f"expected max_rate >= expected_peak "
                  f"({raw.get('expected_peak')}): the steps must reach the peak to test it")
    return LoadProfile(
        "stress", "stress", settings, start_rate=start, step_rate=ctx.rate((*path, "step"), raw["step"]),
        step_duration_s=ctx.duration((*path, "step_duration"), raw["step_duration"]),
        max_rate=max_rate, stop_when=stop_when, expected_peak=peak, location=ctx.location(path))


def _spike(ctx: Ctx, raw: dict[str, Any], path: P, settings: RunSettings) -> LoadProfile:
    base = ctx.rate((*path, "base"), raw["base"])
    peak = ctx.rate((*path, "peak"), raw["peak"])
    if base and peak and peak <= base:
        ctx.error((*path, "peak"), f"expected a peak above base ({raw['base']})")
    before = ctx.duration((*path, "before"), raw.get("before", "10s")) or 10.0
    spike = ctx.duration((*path, "spike"), raw["spike"]) or 0.0
    after = ctx.duration((*path, "after"), raw.get("after", "20s")) or 20.0
    tol = ctx.percent((*path, "recovery_tolerance"), raw.get("recovery_tolerance", "20%"))
    return LoadProfile("spike", "spike", settings, duration_s=before + spike + after,
                       base_rate=base, peak_rate=peak, before_s=before, spike_s=spike,
                       after_s=after, recovery_tolerance=0.2 if tol is None else tol,
                       location=ctx.location(path))


def _capacity(ctx: Ctx, raw: dict[str, Any], path: P, settings: RunSettings) -> LoadProfile:
    mults = tuple(float(m) for m in raw.get("multipliers", [3, 5, 10]))
    return LoadProfile(
        "capacity", "capacity", settings, rate=ctx.rate((*path, "base"), raw.get("base")),
        duration_s=ctx.duration((*path, "duration"), raw.get("duration", "10s")) or 10.0,
        multipliers=mults, location=ctx.location(path))


_BUILDERS = {"baseline": _baseline, "soak": _soak, "stress": _stress, "spike": _spike,
             "capacity": _capacity}
