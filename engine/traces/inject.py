"""A spec made to trace: every step sends ``traceparent`` and managed targets export their
spans to the engine's receiver. Plain specs are never touched (no header, no env)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

from engine.spec.model import Journey, Spec, Target
from engine.traces.ids import prefix

HEADER = "traceparent"
BATCH_DELAY_MS = 200
"""The target SDK's batch export delay: spans arrive while the run goes on."""


def advertised(advertise: str, endpoint: str) -> str:
    """The receiver URL targets export to: ``advertise`` (``tracing.advertise``), given the
    bound ``endpoint``'s port when it names none; the bound ``endpoint`` when empty."""
    if not advertise:
        return endpoint
    base = advertise.rstrip("/")
    if urlsplit(base).port is None:
        return f"{base}:{urlsplit(endpoint).port}"
    return base


def otel_env(endpoint: str) -> dict[str, str]:
    """The environment that points a target's OpenTelemetry SDK at ``endpoint``."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": str(BATCH_DELAY_MS),
            "OTEL_BSP_MAX_QUEUE_SIZE": "20000", "OTEL_TRACES_SAMPLER": "parentbased_always_on"}


def traced_journeys(journeys: tuple[Journey, ...], nonce: int, sample: float
                    ) -> tuple[Journey, ...]:
    """Each step with a ``{traceparent:...}`` header (engine.driver.templates), unless the
    spec sets its own traceparent."""
    out = []
    for j, journey in enumerate(journeys):
        steps = []
        for s, step in enumerate(journey.steps):
            if any(k.lower() == HEADER for k in step.headers):
                steps.append(step)
                continue
            value = f"{{traceparent:{prefix(nonce, j, s)}:{sample!r}}}"
            headers = MappingProxyType({**step.headers, HEADER: value})
            steps.append(dataclasses.replace(step, headers=headers))
        out.append(dataclasses.replace(journey, steps=tuple(steps)))
    return tuple(out)


def traced_target(target: Target, env: Mapping[str, str]) -> Target:
    """A managed target with ``env`` under its own start env (its own values win)."""
    if target.start is None:
        return target
    start = dataclasses.replace(target.start, env=MappingProxyType({**env, **target.start.env}))
    return dataclasses.replace(target, start=start)


def traced_spec(spec: Spec, nonce: int, sample: float, endpoint: str) -> Spec:
    """``spec`` with traced journeys and every managed target (its own, the hypotheses'
    variants) exporting to ``endpoint``."""
    env = otel_env(endpoint)
    hypotheses = tuple(dataclasses.replace(
        h, baseline=dataclasses.replace(h.baseline, target=traced_target(h.baseline.target, env)),
        candidate=dataclasses.replace(h.candidate,
                                      target=traced_target(h.candidate.target, env)))
        for h in spec.hypotheses)
    return dataclasses.replace(spec, journeys=traced_journeys(spec.journeys, nonce, sample),
                               target=traced_target(spec.target, env), hypotheses=hypotheses)
