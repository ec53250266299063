"""Schema fragments of the production parts (issue #17), spliced in by gen_spec_schema.py."""

from __future__ import annotations

from typing import Any

PROMQL = {"type": "string", "minLength": 1, "description": ""}
SELECTOR = r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?$"


def _promql(desc: str) -> dict[str, Any]:
    return {**PROMQL, "description": desc}


def _selector(desc: str) -> dict[str, Any]:
    return {"type": "string", "pattern": SELECTOR,
            "x-expected": 'a metric name with optional matchers, like name{job="api"}',
            "description": desc}


def _obj(props: dict[str, Any], required: list[str], desc: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False,
                           "description": desc}
    if required:
        out["required"] = required
    return out


RATIO = _obj({
    "good": _promql("PromQL for good events per second over {window} (e.g. "
                    "sum(rate(x_total{code!~\"5..\"}[{window}]))); give good or bad."),
    "bad": _promql("PromQL for bad events per second over {window}; give good or bad."),
    "total": _promql("PromQL for all events per second over {window}."),
}, ["total"], "A ratio SLI as Sloth, Pyrra and OpenSLO write it: good/total or bad/total.")

LATENCY = _obj({
    "histogram": _selector("The Prometheus histogram (its name without _bucket), with "
                           "optional matchers; good = the le bucket of the threshold over "
                           "_count."),
    "threshold": {"$ref": "#/$defs/duration", "description":
                  "A good request is no slower than this; must be a bucket boundary. "
                  "Default: the SLO's objective (p95 < 50ms = 95% of requests within 50ms)."},
}, ["histogram"], "A latency SLI from a histogram: the share of requests within the threshold.")

AVAILABILITY = _obj({
    "requests": _selector("The request counter (e.g. http_requests_total) with optional "
                          "matchers."),
    "code_label": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$",
                   "description": "The label holding the status code. Default code."},
    "bad_codes": {"type": "string", "minLength": 1,
                  "description": "Regular expression of the bad status codes. Default 5..."},
}, ["requests"], "An availability SLI from status-code labels: bad = the bad codes' share.")

SLO_PRODUCTION = {
    "type": "object",
    "properties": {"ratio": RATIO, "latency": LATENCY, "availability": AVAILABILITY},
    "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "x-expected": "one of ratio, latency or availability",
    "description": "How this SLO is measured in production (read by monitor and rules): "
                   "one of ratio, latency or availability. Needs the top-level production.",
}

PRODUCTION = _obj({
    "prometheus": _obj({
        "url": {"type": "string", "pattern": r"^https?://\S+$",
                "x-expected": "an http(s) URL of the Prometheus server",
                "description": "Base URL of the Prometheus HTTP API (before /api/v1)."},
        "headers": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "Headers sent with every query (e.g. Authorization); their "
                                   "values are secrets, never written to a report."},
        "timeout": {"$ref": "#/$defs/duration",
                    "description": "Limit on one query. Default 10s."},
    }, ["url"], "The Prometheus server production SLIs are read from."),
    "window": {"$ref": "#/$defs/duration",
               "description": "Compliance window monitor judges. Default 14d, at least 7d."},
    "deployed_at": {"type": "string", "description":
                    "Time of the last deploy (ISO 8601, e.g. 2026-11-20T10:00:00Z): the "
                    "before/after split of the no-regression check."},
    "mix": _obj({
        "query": _promql("PromQL giving production's requests per route over {window}, one "
                         "series per route (e.g. sum by (route) (increase("
                         "http_requests_total[{window}])))."),
        "label": {"type": "string", "description": "The series label whose value is a "
                                                   "journey's name. Default route."},
        "window": {"$ref": "#/$defs/duration",
                   "description": "The past window counted. Default 1d."},
    }, ["query"], "The journey mix taken from production: each journey's weight becomes its "
       "route's share of production requests (read at apply time, like from_production)."),
}, ["prometheus"], "Where production metrics are read: the source of monitor and rules.")

FROM_PRODUCTION = _obj({
    "query": _promql("PromQL for the production request rate per second (e.g. "
                     "sum(rate(http_requests_total{job=\"shop\"}[5m]))), read over window."),
    "window": {"$ref": "#/$defs/duration",
               "description": "The past production window replayed, ending now. Default 1d."},
    "compress": {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*x?\s*$",
                 "x-expected": 'a time compression like "24x"',
                 "description": "How much faster than production it is replayed: 24x plays a "
                                "day in an hour. Default 24x."},
    "scale": {"type": "number", "exclusiveMinimum": 0,
              "description": "Multiplier of production's rate (2 = twice production). "
                             "Default 1."},
}, ["query"], "Arrival rate shaped like a past production window (needs the top-level "
   "production source); give it instead of rate, vus, stages or rate_csv.")
