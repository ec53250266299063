"""Load shaped like production (issue #17): a profile's ``from_production`` resolved into
stages from the production request rate over a past window, time-compressed and scaled.

One range query per profile, stepped so the replay has about STAGES stages; each stage
ramps linearly to the next production rate (the driver's piecewise-linear shape).
"""

from __future__ import annotations

import dataclasses
import time

from engine.production.client import PrometheusClient, PrometheusError
from engine.production.doc import iso
from engine.spec.model import LoadProfile, Spec, Stage
from engine.spec.production_model import ProductionShape

STAGES = 60
MIN_RATE = 0.1
"""Stages never ask for less than this (the driver's open model needs a positive rate)."""
MIN_COVERAGE = 0.5


class ShapeError(PrometheusError):
    """The production window gave too little to shape load with."""


def resolve_spec(spec: Spec, now: float | None = None) -> Spec:
    """The spec with every ``from_production`` profile's stages, and with ``production.mix``
    its journey weights, read from Prometheus (unchanged when it has neither). Raises
    PrometheusError (ShapeError for too little data)."""
    production = spec.production
    shaped = any(p.from_production for p in spec.profiles)
    if production is None or not (shaped or production.mix):
        return spec
    src = production.prometheus
    client = PrometheusClient(src.url, src.headers, src.timeout_s)
    at = time.time() if now is None else now
    profiles = tuple(_resolve(client, p, at) if p.from_production else p for p in spec.profiles)
    spec = dataclasses.replace(spec, profiles=profiles)
    return resolve_mix(client, spec, at) if production.mix else spec


def resolve_mix(client: PrometheusClient, spec: Spec, at: float) -> Spec:
    """Journey weights = each journey's route's production requests over the mix window
    (``production.mix``); a journey production never served keeps weight 0."""
    assert spec.production is not None and spec.production.mix is not None
    mix = spec.production.mix
    query = mix.query.replace("{window}", f"{int(mix.window_s)}s")
    counts: dict[str, float] = {}
    for s in client.query(query, at):
        name = s.labels.get(mix.label)
        if name is not None and s.points:
            counts[name] = counts.get(name, 0.0) + s.points[-1][1]
    weights = {j.name: counts.get(j.name, 0.0) for j in spec.journeys}
    total = sum(weights.values())
    if total <= 0:
        raise ShapeError(f"production mix: no {mix.label} of {query} names a journey of "
                         f"{spec.name} ({', '.join(j.name for j in spec.journeys)}); labels "
                         f"seen: {', '.join(sorted(counts)) or 'none'}")
    journeys = tuple(dataclasses.replace(j, weight=weights[j.name]) for j in spec.journeys)
    shares = ", ".join(f"{n} {w / total:.1%}" for n, w in weights.items())
    source = (f"journey mix from production: {shares} ({query} at {iso(at)}; "
              f"{len(counts)} {mix.label}s seen)")
    production = dataclasses.replace(spec.production,
                                     mix=dataclasses.replace(mix, source=source))
    return dataclasses.replace(spec, journeys=journeys, production=production)


def _resolve(client: PrometheusClient, profile: LoadProfile, at: float) -> LoadProfile:
    shape = profile.from_production
    assert shape is not None
    step = shape.window_s / STAGES
    series = client.query_range(shape.query, at - shape.window_s + step, at, step)
    if len(series) > 1:
        raise ShapeError(f"profile {profile.name}: from_production query returns "
                         f"{len(series)} series where one is needed: aggregate it with sum")
    points = series[0].points if series else ()
    if len(points) < STAGES * MIN_COVERAGE:
        raise ShapeError(f"profile {profile.name}: production rate has {len(points)} of "
                         f"{STAGES} points over the window: too little to shape load with")
    stages = _stages(points, shape, at - shape.window_s)
    source = (f"{profile.name} shaped like production: {shape.query} over {iso(at - shape.window_s)}"
              f" .. {iso(at)}, replayed {shape.compress:g}x faster at {shape.scale:g}x its rate "
              f"({len(points)} points, peak {max(v for _, v in points) * shape.scale:.1f}/s)")
    return dataclasses.replace(profile, stages=stages,
                               from_production=dataclasses.replace(shape, source=source))


def _stages(points: tuple[tuple[float, float], ...], shape: ProductionShape,
            start: float) -> tuple[Stage, ...]:
    out, prev_t = [], start
    for t, value in points:
        duration = (t - prev_t) / shape.compress
        out.append(Stage(duration, max(MIN_RATE, value * shape.scale)))
        prev_t = t
    return tuple(out)


def shape_messages(spec: Spec) -> list[str]:
    """Which production window each shaped profile's load came from (for the report)."""
    mix = spec.production.mix if spec.production else None
    return [p.from_production.source for p in spec.profiles
            if p.from_production is not None and p.from_production.source] + (
        [mix.source] if mix is not None and mix.source else [])


def resolve_all(specs: list[Spec]) -> list[Spec] | str:
    """Every spec resolved, or the first problem as one line (apply: exit 3, nothing run)."""
    try:
        return [resolve_spec(s) for s in specs]
    except PrometheusError as exc:
        return f"load from production not available: {exc}"
