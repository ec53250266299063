"""``production:`` and ``slos[].production`` -> records (issue #17).

Every SLI form is normalised to PromQL templates for good (or bad) and total events per
second over ``{window}``; monitor and rules only substitute the window.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from types import MappingProxyType
from typing import Any

from engine.spec.context import Ctx, P
from engine.spec.model import Slo, Stage
from engine.spec.production_model import (
    MIN_WINDOW_S,
    Production,
    ProductionMix,
    ProductionShape,
    ProductionSli,
    PrometheusSource,
)

WINDOW = "{window}"
_SELECTOR = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<matchers>.*)\})?$")
_PAIRS = {"(": ")", "{": "}", "[": "]"}


def build_production(ctx: Ctx, raw: dict[str, Any] | None) -> Production | None:
    """The spec-level block, or None when the spec has none."""
    if raw is None:
        return None
    path: P = ("production",)
    prom = raw["prometheus"]
    timeout = ctx.duration((*path, "prometheus", "timeout"), prom.get("timeout", "10s")) or 10.0
    window = ctx.duration((*path, "window"), raw.get("window", "14d")) or 14 * 86400.0
    if window < MIN_WINDOW_S:
        ctx.error((*path, "window"), f"expected a window of at least 7d, got {raw['window']!r}")
    headers = MappingProxyType({str(k): str(v) for k, v in prom.get("headers", {}).items()})
    source = PrometheusSource(str(prom["url"]).rstrip("/"), headers, timeout)
    deployed = _time(ctx, (*path, "deployed_at"), raw.get("deployed_at"))
    loc = ctx.location(path)
    return Production(source, window, deployed, (loc.file, loc.line), _mix(ctx, raw.get("mix")))


def _mix(ctx: Ctx, raw: dict[str, Any] | None) -> ProductionMix | None:
    if raw is None:
        return None
    window = ctx.duration(("production", "mix", "window"), raw.get("window", "1d")) or 86400.0
    return ProductionMix(str(raw["query"]), str(raw.get("label", "route")), window)


def _time(ctx: Ctx, path: P, text: Any) -> float | None:
    if text is None:
        return None
    try:
        stamp = datetime.fromisoformat(str(text).strip())
    except ValueError:
        ctx.error(path, f"expected an ISO 8601 time like 2026-11-20T10:00:00Z, got {text!r}")
        return None
    if stamp.tzinfo is None:
        ctx.error(path, f"expected a time with its zone (Z or +01:00), got {text!r}")
        return None
    return stamp.timestamp()


def attach_production(ctx: Ctx, raw_slos: list[dict[str, Any]], slos: tuple[Slo, ...],
                      production: Production | None) -> tuple[Slo, ...]:
    """The SLOs with their ``production`` SLI (checked against the SLO's kind)."""
    by_name = {s.name: s for s in slos}
    for i, item in enumerate(raw_slos):
        slo = by_name.get(str(item.get("name")))
        if "production" not in item or slo is None:
            continue
        path: P = ("slos", i, "production")
        if production is None:
            ctx.error(path, "expected a top-level production: block naming the Prometheus "
                            "source (production: {prometheus: {url: ...}})")
        sli = _sli(ctx, item["production"], path, slo)
        if sli is not None:
            by_name[slo.name] = dataclasses.replace(slo, production=sli)
    return tuple(by_name[s.name] for s in slos)


def _sli(ctx: Ctx, raw: dict[str, Any], path: P, slo: Slo) -> ProductionSli | None:
    if slo.sli.kind == "throughput" or slo.target is None:
        ctx.error(path, "expected production only on an SLO with an error budget (latency, "
                        "error_rate or availability), not throughput")
        return None
    if "ratio" in raw:
        return _ratio(ctx, raw["ratio"], (*path, "ratio"))
    if "latency" in raw:
        return _latency(ctx, raw["latency"], (*path, "latency"), slo)
    return _availability(ctx, raw["availability"], (*path, "availability"))


def _ratio(ctx: Ctx, raw: dict[str, Any], path: P) -> ProductionSli | None:
    if ("good" in raw) == ("bad" in raw):
        ctx.error(path, "expected exactly one of 'good' or 'bad' beside 'total'")
        return None
    ok = all([_check_promql(ctx, (*path, key), str(raw[key]))  # every problem, not the first
              for key in ("good", "bad", "total") if key in raw])
    if not ok:
        return None
    return ProductionSli("ratio", str(raw["total"]), good=raw.get("good"), bad=raw.get("bad"))


def _check_promql(ctx: Ctx, path: P, text: str) -> bool:
    """The checks that need no Prometheus: the {window} placeholder and balanced brackets."""
    if WINDOW not in text:
        ctx.error(path, f"expected PromQL with a {WINDOW} range placeholder, like "
                        f"sum(rate(http_requests_total[{WINDOW}])), got {text!r}")
        return False
    problem = _unbalanced(text.replace(WINDOW, "1h"))
    if problem:
        ctx.error(path, f"expected PromQL with balanced brackets: {problem} in {text!r}")
        return False
    return True


def _unbalanced(text: str) -> str:
    stack: list[str] = []
    quote = ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in _PAIRS.values() and (not stack or stack.pop() != ch):
            return f"unexpected {ch!r}"
    return f"missing {stack[-1]!r}" if stack else ("unclosed quote" if quote else "")


def _selector(text: str) -> tuple[str, str]:
    """'name{a="b"}' -> ('name', 'a="b"') (the schema checked the form)."""
    match = _SELECTOR.match(text.strip())
    if match is None:
        return text.strip(), ""
    return match["name"], (match["matchers"] or "").strip().rstrip(",")


def _with(matchers: str, extra: str) -> str:
    return "{" + ",".join(m for m in (matchers, extra) if m) + "}"


def le_matcher(threshold_s: float) -> str:
    """The ``le`` matcher of a bucket boundary; '1' and '1.0' both (Prometheus 3 writes 1.0)."""
    text = f"{threshold_s:.9g}"
    if "." in text or "e" in text:
        return f'le="{text}"'
    return f'le=~"{text}|{text}.0"'


def _latency(ctx: Ctx, raw: dict[str, Any], path: P, slo: Slo) -> ProductionSli | None:
    if slo.sli.kind != "latency":
        ctx.error(path, f"expected a latency SLO for a latency SLI, {slo.name!r} is "
                        f"{slo.sli.kind}")
        return None
    threshold = ctx.duration((*path, "threshold"), raw.get("threshold"))
    if threshold is None and "threshold" not in raw:
        if slo.objective.op not in ("<", "<="):
            ctx.error(path, "expected a threshold (the objective is not an upper bound)")
            return None
        threshold = slo.objective.value
    if threshold is None:
        return None
    name, matchers = _selector(str(raw["histogram"]))
    bucket = f"{name}_bucket{_with(matchers, le_matcher(threshold))}"
    return ProductionSli(
        "latency", f"sum(rate({name}_count{_with(matchers, '')}[{WINDOW}]))",
        good=f"sum(rate({bucket}[{WINDOW}]))", histogram=f"{name}_bucket{_with(matchers, '')}",
        threshold_s=threshold)


def _availability(ctx: Ctx, raw: dict[str, Any], path: P) -> ProductionSli:
    name, matchers = _selector(str(raw["requests"]))
    label = str(raw.get("code_label", "code"))
    codes = str(raw.get("bad_codes", "5..")).replace('"', '\\"')
    bad = _with(matchers, f'{label}=~"{codes}"')
    return ProductionSli("availability", f"sum(rate({name}{_with(matchers, '')}[{WINDOW}]))",
                         bad=f"sum(rate({name}{bad}[{WINDOW}]))")


def header_secrets(production: Production | None) -> tuple[str, ...]:
    """The Prometheus headers' names: their values are redacted like any secret header."""
    if production is None:
        return ()
    return tuple(production.prometheus.headers)


def production_shape(ctx: Ctx, raw: dict[str, Any], path: P) -> dict[str, Any]:
    """LoadProfile fields of ``from_production``: the shape, and one placeholder stage as
    long as the replay (so the plan and lint see its length) until it is resolved."""
    window = ctx.duration((*path, "window"), raw.get("window", "1d")) or 86400.0
    compress = float(str(raw.get("compress", "24x")).strip().rstrip("x").strip())
    if compress <= 0:
        ctx.error((*path, "compress"), f"expected a compression above 0, got {raw['compress']!r}")
        compress = 1.0
    query = str(raw["query"])
    problem = _unbalanced(query)
    if problem:
        ctx.error((*path, "query"), f"expected PromQL with balanced brackets: {problem} in "
                                    f"{query!r}")
    shape = ProductionShape(query, window, compress, float(raw.get("scale", 1.0)))
    return {"from_production": shape, "stages": (Stage(shape.duration_s),)}


def check_shapes(ctx: Ctx, profiles: tuple[Any, ...], production: Production | None) -> None:
    """A profile shaped from production needs the spec's production source."""
    for profile in profiles:
        if getattr(profile, "from_production", None) is not None and production is None:
            ctx.error(("load", profile.kind, "from_production"),
                      "expected a top-level production: block naming the Prometheus source")
