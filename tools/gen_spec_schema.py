"""Generate schemas/perfopt.v1.schema.json (run: python tools/gen_spec_schema.py).

The schema is written in Python for comments and shared fragments; the JSON
file is what ships, and tests/test_schema.py checks the two never drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

NUM = r"(\d+(\.\d+)?|\.\d+)"
DURATION = rf"^\s*{NUM}\s*(ns|us|µs|ms|s|min|m|h|d|w)\s*$"
RATE = rf"^\s*{NUM}\s*(/|per)\s*(s|sec|min|m|h)\s*$"
PERCENT = rf"^\s*{NUM}\s*%\s*$"
COMPARISON = r"^\s*(<=|>=|<|>|==)\s*\S.*$"
CHANGE = rf"^\s*(<=|>=|<|>)\s*[+-]?{NUM}\s*(%|x)\s*$"
EFFORT = rf"^\s*({NUM}\s*(h|d|w)|low|medium|high)\s*$"
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
PORT = r"(6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})"
# scheme, optional user:password@, host or [IPv6], optional :port 1-65535, no path
URL = rf"^https?://([^/\s@]*@)?(\[[0-9A-Fa-f:.]+\]|[^/\s:@\[\]]+)(:{PORT})?/?$"


def s(pattern: str, expected: str, desc: str) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern, "x-expected": expected, "description": desc}


def obj(props: dict[str, Any], required: list[str] | None = None, desc: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    if desc:
        out["description"] = desc
    return out


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


POS_INT = {"type": "integer", "minimum": 1}
STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
# RFC 9110 field names are tokens; a CR or LF in a value would inject a header or a request.
# ("not" a bad character: Python's "$" also matches before a trailing newline.)
HEADERS = {"type": "object",
           "propertyNames": {"minLength": 1, "not": {"pattern": r"[^!#$%&'*+.^_`|~0-9A-Za-z-]"},
                             "x-expected": "a header name (letters, digits, !#$%&'*+-.^_`|~)"},
           "additionalProperties": {"type": "string", "not": {"pattern": "[\r\n\x00]"},
                                    "x-expected": "a header value on one line (no CR, LF or NUL)"}}

DEFS: dict[str, Any] = {
    "duration": s(DURATION, 'a duration like "250ms", "1.5s", "5m" or "28d"', "A duration."),
    "rate": s(RATE, 'a rate like "500/s" or "30000/m"', "Requests per unit of time."),
    "percent": s(PERCENT, 'a percentage like "0.1%" or "99.9%"', "A percentage."),
    "comparison": s(COMPARISON, 'a comparison like "< 200ms", ">= 1000/s" or "< 0.1%"',
                    "An operator and a value with its unit."),
    "change": s(CHANGE, 'a change like "<= -50%", ">= +30%" or ">= 2x"',
                "An expected relative change."),
    "name": s(NAME, "a name of letters, digits, '-', '_' or '.'", "An identifier."),
    "readiness": obj({
        "path": {"type": "string", "pattern": "^/", "x-expected": 'a path like "/health"',
                 "description": "HTTP GET path answering 2xx/3xx when ready."},
        "tcp": {"type": "integer", "minimum": 1, "maximum": 65535,
                "description": "TCP port accepting connections when ready."},
        "timeout": ref("duration"),
    }, desc="How to tell the started target is ready (default: GET / on the target URL)."),
    "start": obj({
        "command": {"oneOf": [{"type": "string", "minLength": 1},
                              {"type": "array", "items": {"type": "string"}, "minItems": 1}],
                    "x-expected": "a command line or a list of arguments",
                    "description": "Command that starts the target (shell-split if a string)."},
        "env": STR_MAP,
        "cwd": {"type": "string"},
        "ready": ref("readiness"),
    }, ["command"], "A managed target: apply starts it, waits until ready, always stops it."),
    "demo": obj({
        "port": {"type": "integer", "minimum": 1024, "maximum": 65535},
        "fix": {"type": "array", "items": {"enum": [
            "index", "join", "cache", "async", "parallel", "linear", "pool", "all"]}},
        "users": {"type": "integer", "minimum": 100},
        "args": {"type": "array", "items": {"type": "string"}},
    }, ["port"], "The embedded demo service, started and stopped by apply."),
    "target": {
        "type": "object",
        "properties": {
            "url": {"type": "string", "pattern": URL,
                    "x-expected": 'a URL like "http://127.0.0.1:8080" (scheme, host, port '
                                  '1-65535; no path)'},
            "start": ref("start"),
            "demo": ref("demo"),
            "process": obj({"pid": POS_INT, "name": {"type": "string"}},
                           desc="A process to profile that apply does not start."),
        },
        "additionalProperties": False,
        "anyOf": [{"required": ["url"]}, {"required": ["demo"]}],
        "x-expected": "a target with a url (and optionally start) or a demo block",
        "description": "Where the load goes.",
    },
    "request": obj({
        "method": {"enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]},
        "path": {"type": "string", "pattern": "^/", "x-expected": 'a path starting with "/"',
                 "description": "Path template: {seq}, {rand:A-B}, {uuid}, {csv:NAME.COLUMN}."},
        "headers": HEADERS,
        "body": {"type": "string"},
        "json": {"description": "JSON body (templated after serialisation)."},
        "expect": obj({"status": {"type": "array", "items": {
            "type": "integer", "minimum": 100, "maximum": 599}, "minItems": 1}}),
        "think_time": ref("duration"),
        "follow_redirects": {"type": "boolean"},
    }, ["path"], "One HTTP request."),
    "journey": obj({
        "name": ref("name"),
        "weight": {"type": "number", "exclusiveMinimum": 0},
        "request": ref("request"),
        "steps": {"type": "array", "items": ref("request"), "minItems": 1},
    }, ["name"], "A weighted user journey: one request or several steps."),
    "sli": obj({
        "name": ref("name"),
        "kind": {"enum": ["latency", "throughput", "error_rate", "availability"]},
        "journey": ref("name"),
        "percentile": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
    }, ["name", "kind"], "A named indicator."),
    "slo": obj({
        "name": ref("name"),
        "sli": {"type": "string", "description":
                "latency, throughput, error_rate, availability, or a named SLI."},
        "journey": ref("name"),
        "percentile": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
        "objective": ref("comparison"),
        "window": ref("duration"),
        "target": ref("percent"),
        "description": {"type": "string"},
    }, ["name", "sli", "objective"], "A promise on an SLI."),
    "settings_props": {
        "workers": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 64},
                              {"const": "auto"}],
                    "x-expected": 'a number of worker processes or "auto"'},
        "connections": {"type": "integer", "minimum": 1, "maximum": 100000},
        "timeout": ref("duration"),
        "connect_timeout": ref("duration"),
        "max_queue": {"type": "integer", "minimum": 0},
        "rate_tolerance": ref("percent"),
        "interval": ref("duration"),
        "model": {"enum": ["open", "closed"]},
    },
}

SETTINGS = DEFS.pop("settings_props")


def profile(extra: dict[str, Any], desc: str) -> dict[str, Any]:
    return obj({**SETTINGS, **extra}, desc=desc)


SHAPE = {
    "rate": ref("rate"),
    "vus": POS_INT,
    "duration": ref("duration"),
    "ramp_up": ref("duration"),
    "think_time": ref("duration"),
    "stages": {"type": "array", "minItems": 1, "items": obj(
        {"duration": ref("duration"), "rate": ref("rate"), "vus": POS_INT}, ["duration"])},
    "rate_csv": {"type": "string", "description": "CSV of t_s,rate to replay."},
}
DEFS["settings"] = obj(dict(SETTINGS), desc="Driver settings for every profile.")
DEFS["baseline"] = profile(SHAPE, "Steady expected load: SLIs before and after.")
DEFS["soak"] = profile({**SHAPE, "window": ref("duration"), "leak_horizon": {
    **ref("duration"), "description": "How far the leak verdict projects the growth (default 24h)."}},
    "Long constant load: leaks, degradation.")
DEFS["stress"] = profile({
    "start": ref("rate"), "step": ref("rate"), "step_duration": ref("duration"),
    "max_rate": ref("rate"),
    "stop_when": obj({"p95": ref("comparison"), "p99": ref("comparison"),
                      "error_rate": ref("comparison"), "slo_broken": {"type": "boolean"}}),
}, "Step the arrival rate up until something breaks.")
DEFS["stress"]["required"] = ["start", "step", "step_duration"]
DEFS["spike"] = profile({
    "base": ref("rate"), "peak": ref("rate"), "before": ref("duration"),
    "spike": ref("duration"), "after": ref("duration"), "recovery_tolerance": ref("percent"),
}, "A sudden jump and drop: errors and recovery time.")
DEFS["spike"]["required"] = ["base", "peak", "spike"]
DEFS["capacity"] = profile({
    "base": ref("rate"), "multipliers": {"type": "array", "minItems": 1,
                                         "items": {"type": "number", "exclusiveMinimum": 0}},
    "duration": ref("duration"),
}, "The baseline load times multipliers: utilization and cost per transaction.")
DEFS["load"] = obj({
    "defaults": ref("settings"), "baseline": ref("baseline"), "stress": ref("stress"),
    "soak": ref("soak"), "spike": ref("spike"), "capacity": ref("capacity"),
}, desc="Load profiles by kind.")
DEFS["variant"] = obj({"target": ref("target")}, ["target"], "One side of a before/after test.")
DEFS["hypothesis"] = obj({
    "id": ref("name"), "title": {"type": "string", "minLength": 1},
    "type": {"enum": ["database", "caching", "algorithm", "async", "api", "pooling", "other"]},
    "change": {"type": "string", "description": 'The change in words: "if we add an index..."'},
    "expect": {**obj({
        "slo": ref("name"), "metric": {"type": "string", "pattern":
                                       r"^(p\d+(\.\d+)?|max|mean|throughput|error_rate)$",
                                       "x-expected": "p50, p95, p99, max, mean, throughput or "
                                                     "error_rate"},
        "journey": ref("name"), "change": ref("change"), "value": ref("comparison"),
    }), "anyOf": [{"required": ["change"]}, {"required": ["value"]}],
        "x-expected": "an expectation with a change (\"<= -50%\") or a value (\"<= 0.1%\")"},
    "effort": s(EFFORT, 'an effort like "4h", "2d", "low", "medium" or "high"', "Effort."),
    "risk": {"enum": ["low", "medium", "high"]},
    "impact": {"type": "string", "pattern": rf"^\s*{NUM}\s*(%|x)\s*$",
               "x-expected": 'an estimated impact like "60%" or "10x"'},
    "profile": {"enum": ["baseline", "stress", "soak", "spike", "capacity"]},
    "rounds": {"type": "integer", "minimum": 1, "maximum": 50},
    "scores": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0,
                                                          "maximum": 5}},
    "baseline": ref("variant"), "candidate": ref("variant"),
}, ["id", "title", "type", "expect", "effort", "baseline", "candidate"],
    "An optimization and what it is expected to do.")
DEFS["gate"] = obj({
    "name": ref("name"),
    "kind": {"enum": ["slo", "validity", "regression", "hypothesis", "error_budget", "checklist",
                      "load"]},
    "abort_on_fail": {"type": "boolean"}, "abort_delay": ref("duration"),
    "strict": {"type": "boolean", "description":
               "INCONCLUSIVE counts as FAIL. Default: true for slo (once an SLO was "
               "checked), false for the other kinds."},
    "tolerances": {"type": "object", "propertyNames": {"enum": [
        "p50", "p90", "p95", "p99", "max", "mean", "throughput", "error_rate"]},
        "additionalProperties": ref("percent")},
    "min_effect": {**ref("duration"), "description":
                   "Regression: a latency shift under this never fails (default 1ms)."},
}, ["name", "kind"], "A gate deciding the exit code.")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:perfopt:schema:perfopt.v1",
    "title": "perfopt/v1 PerformanceFlow",
    "description": "A performance-optimization flow: trigger, SLIs, SLOs, load, hypotheses, gates.",
    **obj({
        "apiVersion": {"const": "perfopt/v1"},
        "kind": {"const": "PerformanceFlow"},
        "metadata": obj({"name": ref("name"), "component": {"type": "string", "minLength": 1},
                         "project": {"type": "string"}, "description": {"type": "string"},
                         "owner": {"type": "string"}}, ["name", "component"]),
        "trigger": {"enum": ["slo-breach", "capacity-planning", "cost-reduction",
                             "user-complaint", "proactive", "new-feature"]},
        "target": ref("target"),
        "data": {"type": "array", "items": obj({
            "name": ref("name"), "file": {"type": "string"},
            "mode": {"enum": ["round-robin", "random"]}}, ["name", "file"])},
        "journeys": {"type": "array", "items": ref("journey"), "minItems": 1},
        "slis": {"type": "array", "items": ref("sli")},
        "slos": {"type": "array", "items": ref("slo")},
        "load": ref("load"),
        "hypotheses": {"type": "array", "items": ref("hypothesis")},
        "gates": {"type": "array", "items": ref("gate")},
        "report": obj({"formats": {"type": "array", "items": {
            "enum": ["markdown", "json", "html", "junit"]}}, "dir": {"type": "string"}}),
        "history": obj({"path": {"type": "string"}, "enabled": {"type": "boolean"},
                        "baseline": obj({"mode": {"enum": ["window", "last", "pinned"]},
                                         "window": ref("duration"), "last": POS_INT,
                                         "name": {"type": "string"},
                                         "other_hosts": {"type": "boolean"}})}),
        "secrets": {"type": "array", "items": {"type": "string"}},
        "cost": obj({"per_hour": {"type": "number", "minimum": 0},
                     "currency": {"type": "string"}}),
        "criteria": {"type": "object", "additionalProperties": {
            "type": "number", "minimum": 0, "maximum": 1}},
    }, ["apiVersion", "kind", "metadata", "trigger", "target", "journeys", "load"]),
    "$defs": DEFS,
}


def render() -> str:
    return json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "schemas" / "perfopt.v1.schema.json"
    if "--check" in sys.argv:
        sys.exit(0 if out.read_text(encoding="utf-8") == render() else 1)
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
