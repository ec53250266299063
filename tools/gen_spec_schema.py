"""Generate schemas/perfopt.v1.schema.json (run: python tools/gen_spec_schema.py).

The schema is written in Python for comments and shared fragments; the JSON
file is what ships, and tests/test_schema.py checks the two never drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.advisor.model import CODES  # the one list of advice codes

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


def d(prop: dict[str, Any], desc: str) -> dict[str, Any]:
    """``prop`` with its meaning: every property says what it does (default, unit)."""
    return {**prop, "description": desc}


POS_INT = {"type": "integer", "minimum": 1}
STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
# RFC 9110 field names are tokens; a CR or LF in a value would inject a header or a request.
# ("not" a bad character: Python's "$" also matches before a trailing newline.)
HEADERS = {"type": "object",
           "propertyNames": {"minLength": 1, "not": {"pattern": r"[^!#$%&'*+.^_`|~0-9A-Za-z-]"},
                             "x-expected": "a header name (letters, digits, !#$%&'*+-.^_`|~)"},
           "additionalProperties": {"type": "string", "not": {"pattern": "[\r\n\x00]"},
                                    "x-expected": "a header value on one line (no CR, LF or NUL)"}}

THINK = (rf"^\s*(({NUM}\s*(ns|us|µs|ms|s|min|m|h))|((uniform\s+)?{NUM}\s*(ns|us|µs|ms|s|min|m|h)"
         rf"\s*-\s*{NUM}\s*(ns|us|µs|ms|s|min|m|h))|(exponential\s+(mean\s+)?{NUM}\s*"
         r"(ns|us|µs|ms|s|min|m|h)))\s*$")
REDIRECTS = {"type": "integer", "minimum": 0, "maximum": 100}
TAGS = {"type": "object", "additionalProperties": {"type": "string"}}
VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"
EXTRACT = {
    "type": "object",
    "propertyNames": {"pattern": VAR, "x-expected": "a variable name (letters, digits, _)"},
    "additionalProperties": {
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "x-expected": "one of json: PATH, header: NAME, regex: PATTERN or cookie: NAME",
        "properties": {
            "json": {"type": "string", "pattern": r"^\$", "x-expected": 'a path like "$.a.b[0]"',
                     "description": "A path into the JSON body: $.key, .key, [index]."},
            "header": {"type": "string", "description": "A response header (first value)."},
            "regex": {"type": "string", "description":
                      "A regular expression over the body; its first group (else the match)."},
            "cookie": {"type": "string", "description": "A cookie the response set."}},
        "additionalProperties": False},
}
CHECK = obj({
    "name": {"type": "string", "description": "How the check is shown (default: what it tests)."},
    "status": {"oneOf": [{"type": "integer", "minimum": 100, "maximum": 599},
                         {"type": "array", "items": {"type": "integer", "minimum": 100,
                                                     "maximum": 599}, "minItems": 1}],
               "x-expected": "a status code or a list of them",
               "description": "Holds when the status is this code (or one of these)."},
    "header": {"type": "string", "description": "A response header to test (with equals, "
                                                "matches or exists)."},
    "json": {"type": "string", "pattern": r"^\$", "x-expected": 'a path like "$.a.b[0]"',
             "description": "A JSON body value to test (with equals, matches or exists)."},
    "body_contains": {"type": "string", "description": "Holds when the body contains this text."},
    "body_matches": {"type": "string", "description": "Holds when this regular expression "
                                                      "matches somewhere in the body."},
    "equals": {"type": ["string", "number", "boolean", "null"],
               "description": "The header or JSON value equals this (JSON values compared as "
                              "JSON, text as text)."},
    "matches": {"type": "string", "description": "A regular expression the header or JSON "
                                                 "value (as text) matches somewhere."},
    "exists": {"type": "boolean", "description": "The header or JSON value is (true) or is "
                                                 "not (false) there."},
    "fail_request": {"type": "boolean", "description":
                     "A failed check also fails the request (outcome check). Default false: "
                     "only counted."},
}, desc="One check: status, header, json, body_contains or body_matches.")
STATEFUL_REQUEST: dict[str, Any] = {
    "name": {"type": "string", "description": "The step's name in per-step results (default: "
                                              "METHOD /path)."},
    "body_file": {"type": "string", "description":
                  "Read the body from this file (relative to the spec; templated like path); "
                  "not with body or json."},
    "extract": d(EXTRACT, "Variables taken from the response, used by later steps as "
                          "{var:NAME}; a failed extraction ends the journey instance."),
    "checks": {"type": "array", "items": CHECK, "description":
               "Checks on the response, counted per step (k6's checks)."},
    "redirects": d(REDIRECTS, "Redirect hops followed for this step (default: the journey's)."),
    "tags": d(TAGS, "Tags of this step (merged over the journey's)."),
}

DEFS: dict[str, Any] = {
    "duration": s(DURATION, 'a duration like "250ms", "1.5s", "5m" or "28d"',
                  "A duration with its unit: ns, us, ms, s, min (or m), h, d or w."),
    "rate": s(RATE, 'a rate like "500/s" or "30000/m"', "Requests per second, minute or hour."),
    "think": s(THINK, 'a think time like "300ms", "uniform 100ms-500ms" or "exponential mean '
                      '300ms"', "A pause: a fixed duration, a uniform range or an "
                             "exponential mean."),
    "percent": s(PERCENT, 'a percentage like "0.1%" or "99.9%"', "A percentage (100% = all)."),
    "comparison": s(COMPARISON, 'a comparison like "< 200ms", ">= 1000/s" or "< 0.1%"',
                    "An operator and a value with its unit."),
    "change": s(CHANGE, 'a change like "<= -50%", ">= +30%" or ">= 2x"',
                "An expected relative change."),
    "name": s(NAME, "a name of letters, digits, '-', '_' or '.'",
              "A name of letters, digits, '-', '_' or '.'."),
    "readiness": obj({
        "path": {"type": "string", "pattern": "^/", "x-expected": 'a path like "/health"',
                 "description": "HTTP path polled with GET until it answers 2xx or 3xx. "
                                "Default `/` when neither path nor tcp is given."},
        "tcp": {"type": "integer", "minimum": 1, "maximum": 65535,
                "description": "TCP port polled until it accepts a connection (instead of "
                               "an HTTP check)."},
        "timeout": d(ref("duration"), "How long apply waits for the target to be ready "
                                      "before giving up. Default 30s (60s for target.demo)."),
    }, desc="How to tell the started target is ready (default: GET / on the target URL)."),
    "start": obj({
        "command": {"oneOf": [{"type": "string", "minLength": 1},
                              {"type": "array", "items": {"type": "string"}, "minItems": 1}],
                    "x-expected": "a command line or a list of arguments",
                    "description": "Command that starts the target: a string is split like "
                                   "a shell line, a list is taken as the arguments."},
        "env": d(STR_MAP, "Environment variables for the command, merged over apply's own."),
        "cwd": {"type": "string", "description": "Working directory of the command "
                                                 "(default: apply's)."},
        "ready": d(ref("readiness"), "How apply tells the target is ready (see "
                                     "target.start.ready). Default: GET / on the target URL "
                                     "answers 2xx or 3xx within 30s."),
    }, ["command"], "A managed target: apply starts it, waits until ready, always stops it."),
    "demo": obj({
        "port": {"type": "integer", "minimum": 1024, "maximum": 65535,
                 "description": "TCP port the demo listens on at 127.0.0.1; the target URL "
                                "is then http://127.0.0.1:PORT."},
        "fix": {"type": "array", "items": {"enum": [
            "index", "join", "cache", "async", "parallel", "linear", "pool", "all"]},
            "description": "Slow patterns the demo serves fixed (all = every one; default "
                           "none). index: GET /users?email=; join: GET /users/{id}/orders; "
                           "cache: GET /stats; async: POST /users; parallel: GET /dashboard; "
                           "linear: GET /recommendations; pool: GET /users/{id}."},
        "users": {"type": "integer", "minimum": 100,
                  "description": "Users seeded into the demo's database. Default 100000."},
        "args": {"type": "array", "items": {"type": "string"},
                 "description": "Extra arguments for the demo service (see `python -m "
                                "engine.demo --help`), e.g. --leak-kb 4."},
    }, ["port"], "The embedded demo service, started and stopped by apply."),
    "target": {
        "type": "object",
        "properties": {
            "url": {"type": "string", "pattern": URL,
                    "x-expected": 'a URL like "http://127.0.0.1:8080" (scheme, host, port '
                                  '1-65535; no path)',
                    "description": "Base URL the requests go to; request paths are appended. "
                                   "Required unless demo is given (then omit it or give "
                                   "http://127.0.0.1:PORT)."},
            "start": d(ref("start"), "A command apply starts as the target, and always stops "
                                     "(see target.start)."),
            "demo": d(ref("demo"), "Run the embedded demo service as the target (see "
                                   "target.demo)."),
            "tls": obj({
                "verify": {"type": "boolean", "description":
                           "false accepts any certificate (a self-signed test service). "
                           "Default true (also PERFOPT_TLS_VERIFY=0 turns it off)."},
                "ca_file": {"type": "string", "description":
                            "PEM file of CA certificates to trust besides the system ones "
                            "(relative to the spec file)."}},
                desc="How an https target's certificate is trusted."),
            "process": obj({
                "pid": d(POS_INT, "Process id to sample, with its child processes."),
                "name": {"type": "string", "description":
                         "Process name to sample when no pid is given; looked up when "
                         "sampling starts and again whenever no such process is alive."}},
                desc="A process apply does not start but samples (CPU, memory, file "
                     "descriptors, threads) while the load runs."),
        },
        "additionalProperties": False,
        "anyOf": [{"required": ["url"]}, {"required": ["demo"]}],
        "x-expected": "a target with a url (and optionally start) or a demo block",
        "description": "Where the load goes.",
    },
    "request": obj({
        "method": {"enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                   "description": "HTTP method. Default GET, or POST when body or json is "
                                  "given."},
        "path": {"type": "string", "pattern": "^/", "x-expected": 'a path starting with "/"',
                 "description": "Path and query appended to the target URL; templates: {seq} "
                                "(a sequence number), {rand:A-B} (a random integer A..B), "
                                "{uuid}, {csv:NAME.COLUMN} (a column of a data file)."},
        "headers": d(HEADERS, "Extra request headers (templated like path). Values of "
                              "Authorization, Cookie and the names under secrets are "
                              "redacted from reports, logs and history."),
        "body": {"type": "string", "description": "Request body text (templated like path); "
                                                  "give body or json, not both."},
        "json": {"description": "JSON body, serialised compactly and then templated; sends "
                               "Content-Type: application/json unless headers set one."},
        "expect": obj({"status": {"type": "array", "items": {
            "type": "integer", "minimum": 100, "maximum": 599}, "minItems": 1,
            "description": "Status codes that count as success; any other is an error. "
                           "Default 200, 201, 202, 204."}},
            desc="What counts as a successful response."),
        "think_time": d(ref("think"), "Pause after this step before the journey's next "
                                      "one (open and closed model). Default 0."),
        "follow_redirects": {"type": "boolean", "description":
                             "Deprecated: redirects are followed by default (see redirects); "
                             "false is redirects: 0."},
        **STATEFUL_REQUEST,
    }, ["path"], "One HTTP request."),
    "journey": obj({
        "name": d(ref("name"), "Unique journey name; results are broken down by it and "
                               "slis, slos and hypotheses can select it."),
        "weight": {"type": "number", "exclusiveMinimum": 0,
                   "description": "Share of the load relative to the other journeys' weights. "
                                  "Default 1."},
        "request": d(ref("request"), "The journey's one request; give request or steps."),
        "steps": {"type": "array", "items": ref("request"), "minItems": 1,
                  "description": "Requests sent in order as one pass of the journey; give "
                                 "request or steps."},
        "cookies": {"type": "boolean", "description":
                    "Keep Set-Cookie answers in a cookie jar (one per journey instance in the "
                    "open model, per virtual user in the closed one) and send them as Cookie "
                    "on later steps; single origin, so Path and Domain are ignored. Default "
                    "true (a one-step journey without extract or checks keeps none)."},
        "redirects": d(REDIRECTS, "Redirect hops followed per request (same origin only; 0: "
                                  "a 3xx is the answer). Default 10."),
        "tags": d(TAGS, "Tags carried into the results (per-tag results in reports)."),
    }, ["name"], "A weighted user journey: one request or several steps."),
    "sli": obj({
        "name": d(ref("name"), "The name slos[].sli refers to."),
        "kind": {"enum": ["latency", "throughput", "error_rate", "availability"],
                 "description": "What is measured: latency (a percentile of response time), "
                                "throughput (successful responses per second), error_rate "
                                "(share of requests that failed), availability (share that "
                                "succeeded)."},
        "journey": d(ref("name"), "Measure only this journey's requests (default: all "
                                  "journeys)."),
        "percentile": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100,
                       "description": "Latency percentile, e.g. 95 or 99.9 (latency only)."},
    }, ["name", "kind"], "A named indicator."),
    "slo": obj({
        "name": d(ref("name"), "Unique SLO name, shown in reports; hypotheses[].expect.slo "
                               "refers to it."),
        "sli": {"type": "string", "description":
                "What is promised on: latency, throughput, error_rate, availability, or the "
                "name of one of slis."},
        "journey": d(ref("name"), "Only this journey's requests (default: the named SLI's "
                                  "journey, else all journeys)."),
        "percentile": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100,
                       "description": "Latency percentile, e.g. 95; required for latency "
                                      "unless the named SLI gives one."},
        "objective": d(ref("comparison"), "The limit, in the SLI's unit: a duration for "
                                          "latency, a rate for throughput, a percentage for "
                                          "error_rate and availability."),
        "window": d(ref("duration"), "Compliance window: a run consumes burn rate x run "
                                     "length / window of the error budget. Default 28d."),
        "target": d(ref("percent"), "Share of good events the error budget derives from "
                                    "(budget = 100% - target). Default: the percentile for "
                                    "latency, the objective for availability, 100% - "
                                    "objective for error_rate; none for throughput."),
        "description": {"type": "string",
                        "description": "Free text for readers; the engine does not use it."},
    }, ["name", "sli", "objective"], "A promise on an SLI."),
    "settings_props": {
        "workers": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 64},
                              {"const": "auto"}],
                    "x-expected": 'a number of worker processes or "auto"',
                    "description": "Load-generator processes (auto = one per CPU core). "
                                   "Default 1."},
        "connections": {"type": "integer", "minimum": 1, "maximum": 100000,
                        "description": "Most keep-alive connections open to the target at "
                                       "once, shared out among the workers. Default 50."},
        "timeout": d(ref("duration"), "A request unanswered this long after it was sent is "
                                      "aborted and counted as a timeout. Default 5s."),
        "connect_timeout": d(ref("duration"), "Limit on the DNS lookup and connect of a new "
                                              "connection; past it, a connect error. "
                                              "Default 2s."),
        "max_queue": {"type": "integer", "minimum": 0,
                      "description": "Open model: arrivals that may wait for a free "
                                     "connection, per worker; an arrival beyond it is "
                                     "counted as dropped. Default 10000."},
        "rate_tolerance": d(ref("percent"), "How far the dispatched and the answered rate may "
                                            "fall short of the offered rate before the run is "
                                            "invalid (generator behind) or noted as the "
                                            "target not keeping up. Default 2%."),
        "interval": d(ref("duration"), "Length of one measurement interval: the time series, "
                                       "abort_on_fail checks and the soak and spike analyses "
                                       "go interval by interval. Default 1s."),
        "model": {"enum": ["open", "closed"],
                  "description": "open: requests arrive at the profile's rate whatever the "
                                 "target does, latency counted from the intended send time; "
                                 "closed: vus virtual users each wait for their response. "
                                 "Default open; a profile with vus runs closed."},
    },
}

SETTINGS = DEFS.pop("settings_props")


def profile(extra: dict[str, Any], desc: str) -> dict[str, Any]:
    return obj({**SETTINGS, **extra}, desc=desc)


SHAPE = {
    "rate": d(ref("rate"), "Open model: constant arrival rate for duration (after ramp_up). "
                           "Give exactly one of rate, vus, stages and rate_csv."),
    "vus": d(POS_INT, "Closed model: virtual users, each repeating a journey, for duration "
                      "(after ramp_up)."),
    "duration": d(ref("duration"), "How long the rate or vus is held after ramp_up; "
                                   "required with rate or vus."),
    "ramp_up": d(ref("duration"), "Linear ramp from 0 to the rate or vus before duration. "
                                  "Default 0."),
    "think_time": d(ref("think"), "Closed model: pause between a virtual user's journey "
                                  "passes (a duration, uniform A-B or exponential mean M). "
                                  "Default 0."),
    "stages": {"type": "array", "minItems": 1, "items": obj({
        "duration": d(ref("duration"), "Time to ramp linearly from the previous stage's "
                                       "level (0 at the start) to this one's."),
        "rate": d(ref("rate"), "Arrival rate reached at the stage's end (open model)."),
        "vus": d(POS_INT, "Virtual users reached at the stage's end (closed model); "
                          "every stage gives rate, or every stage vus."),
    }, ["duration"], "One stage of a piecewise-linear load."),
        "description": "Piecewise-linear load: stages run in order, each ramping to its "
                       "level (see load.baseline.stages[])."},
    "rate_csv": {"type": "string", "description":
                 "CSV file of t_s,rate rows (relative to the spec's folder) replayed as an "
                 "open-model rate, linear between rows; at least two rows."},
}
DEFS["settings"] = obj(dict(SETTINGS), desc=(
    "Driver settings shared by every profile: each profile (baseline, soak, stress, spike, "
    "capacity) accepts the same keys, and a value given in a profile overrides the default "
    "here for that profile."))
DEFS["baseline"] = profile(SHAPE, "Steady expected load: SLIs before and after.")
DEFS["soak"] = profile({**SHAPE, "window": d(ref("duration"), (
    "Length of the windows the degradation analysis compares. Default a tenth of the run, "
    "at least 1s.")), "leak_horizon": {
    **ref("duration"), "description": "How far the leak verdict projects the growth of "
                                      "memory, file descriptors and threads. Default 24h."}},
    "Long constant load: leaks, degradation.")
DEFS["stress"] = profile({
    "start": d(ref("rate"), "Arrival rate of the first step."),
    "step": d(ref("rate"), "Rate added at each following step."),
    "step_duration": d(ref("duration"), "How long each step runs."),
    "max_rate": d(ref("rate"), "Highest step rate; without it the steps go on until one fails "
                               "a stop condition (at most 50 steps)."),
    "stop_when": obj({
        "p95": d(ref("comparison"), "Stop after a step whose p95 latency exceeds this value "
                                    '(e.g. "> 250ms"; only the value is used).'),
        "p99": d(ref("comparison"), "Stop after a step whose p99 latency exceeds this value."),
        "error_rate": d(ref("comparison"), "Stop after a step whose error rate exceeds this "
                                           "value."),
        "slo_broken": {"type": "boolean", "description":
                       "Stop after a step that breaks an SLO. Default true."}},
        desc="When to stop stepping up: the first step failing a condition ends the test. "
             "An invalid step, a target that did not keep up or an aborted step always fails."),
    "expected_peak": d(ref("rate"), "The peak arrival rate production expects. The load gate "
                                    "FAILs a breaking point below it, and is INCONCLUSIVE when "
                                    "no step reached it; max_rate, when set, must reach it."),
}, "Step the arrival rate up until something breaks.")
DEFS["stress"]["required"] = ["start", "step", "step_duration"]
DEFS["spike"] = profile({
    "base": d(ref("rate"), "Arrival rate before and after the spike."),
    "peak": d(ref("rate"), "Arrival rate during the spike; above base."),
    "before": d(ref("duration"), "Time at base before the spike. Default 10s."),
    "spike": d(ref("duration"), "Time at peak."),
    "after": d(ref("duration"), "Time at base after the spike, in which recovery is measured. "
                                "Default 20s."),
    "recovery_tolerance": d(ref("percent"), (
        "Recovered once p95 is within this much of the p95 before the spike (at least 2ms), "
        "with the error rate at most 1 point above it, for 3 intervals in a row. Default 20%.")),
}, "A sudden jump and drop: errors and recovery time.")
DEFS["spike"]["required"] = ["base", "peak", "spike"]
DEFS["capacity"] = profile({
    "base": d(ref("rate"), "Rate the multipliers scale. Default: the baseline profile's rate."),
    "multipliers": {"type": "array", "minItems": 1,
                    "items": {"type": "number", "exclusiveMinimum": 0},
                    "description": "Factors of base, run one after another in ascending order. "
                                   "Default 3, 5, 10."},
    "duration": d(ref("duration"), "How long each multiplier runs. Default 10s."),
}, "The baseline load times multipliers: utilization and cost per transaction.")
DEFS["load"] = obj({
    "defaults": d(ref("settings"), "Driver settings every profile inherits (see "
                                   "load.defaults)."),
    "baseline": d(ref("baseline"), "Steady expected load: SLIs, regression and hypotheses "
                                   "are measured on it (see load.baseline)."),
    "stress": d(ref("stress"), "Step the rate up until a stop condition fails: the breaking "
                               "point (see load.stress)."),
    "soak": d(ref("soak"), "Long steady load: leaks and degradation (see load.soak)."),
    "spike": d(ref("spike"), "A sudden jump and drop: errors and recovery time (see "
                             "load.spike)."),
    "capacity": d(ref("capacity"), "A rate times multipliers: utilization and cost per "
                                   "transaction (see load.capacity)."),
}, desc="Load profiles by kind; which run is set by trigger (or apply --profile).")
DEFS["variant"] = obj({"target": d(ref("target"), (
    "Where this side's load goes: a url, a started command or the demo (see target)."))},
    ["target"], "One side of a before/after test.")
DEFS["hypothesis"] = obj({
    "id": d(ref("name"), "Unique id of the hypothesis, shown in reports and history."),
    "title": {"type": "string", "minLength": 1,
              "description": "One-line name of the optimization, shown in reports."},
    "type": {"enum": ["database", "caching", "algorithm", "async", "api", "pooling", "other"],
             "description": "Kind of optimization: gives the typical impact used for ranking "
                            "when impact is not given, and matches bottleneck hints."},
    "change": {"type": "string", "description": 'The change in words: "if we add an index..."'},
    "expect": {**obj({
        "slo": d(ref("name"), "An SLO whose metric and journey the expectation takes."),
        "metric": {"type": "string", "pattern":
                   r"^(p\d+(\.\d+)?|max|mean|throughput|error_rate)$",
                   "x-expected": "p50, p95, p99, max, mean, throughput or error_rate",
                   "description": "Metric the change moves; required without slo."},
        "journey": d(ref("name"), "Only this journey's requests (default: the SLO's journey, "
                                  "else all journeys)."),
        "change": d(ref("change"), "Expected change of the candidate against the baseline: a "
                                   "percentage (\"<= -50%\") or a factor (\">= 2x\" = "
                                   "twice the value)."),
        "value": d(ref("comparison"), "Expected value of the candidate in the metric's unit "
                                      "(\"<= 20ms\", \"<= 0.1%\")."),
    }, desc="What the candidate should do to a metric: a relative change or an absolute "
            "value (at least one)."),
        "anyOf": [{"required": ["change"]}, {"required": ["value"]}],
        "x-expected": "an expectation with a change (\"<= -50%\") or a value (\"<= 0.1%\")"},
    "effort": d(s(EFFORT, 'an effort like "4h", "2d", "low", "medium" or "high"', "Effort."),
                "Work the change costs: hours (h), 8-hour days (d), 40-hour weeks (w), or low "
                "(4h), medium (16h), high (48h). ROI = impact / effort."),
    "risk": {"enum": ["low", "medium", "high"],
             "description": "Risk of the change; a quick win needs low risk. Default medium."},
    "impact": {"type": "string", "pattern": rf"^\s*{NUM}\s*(%|x)\s*$",
               "x-expected": 'an estimated impact like "60%" or "10x"',
               "description": "Estimated improvement, used for ranking until measured: a "
                              "percentage, or a speed-up (10x = 90% of the time removed). "
                              "Default: the typical impact of the type."},
    "profile": {"enum": ["baseline", "stress", "soak", "spike", "capacity"],
                "description": "Load profile the A/B runs use; one defined under load. "
                               "Default baseline."},
    "rounds": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 50}, {"const": "auto"}],
               "x-expected": 'a number of A/B rounds (1-50) or "auto"',
               "description": 'A/B rounds run interleaved; "auto" (the default) adds rounds '
                              'until the interval decides or max_rounds is reached.'},
    "max_rounds": {"type": "integer", "minimum": 2, "maximum": 50,
                   "description": "The most A/B rounds that rounds: auto may run. "
                                  "Default 6."},
    "duration": d(ref("duration"), "How long each A/B run holds the profile's rate or "
                                   "VUs (after its ramp-up). Default: the profile's own "
                                   "duration. Only for a constant baseline or soak profile; "
                                   "a large expected effect decides in short runs while the "
                                   "regression gate's baseline stays long."),
    "scores": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0,
                                                          "maximum": 5},
               "description": "Option-matrix score 0-5 per criterion named under criteria."},
    "baseline": d(ref("variant"), "The before side: where its load goes (see "
                                  "hypotheses[].baseline / candidate)."),
    "candidate": d(ref("variant"), "The after side, with the change applied."),
}, ["id", "title", "type", "expect", "effort", "baseline", "candidate"],
    "An optimization and what it is expected to do.")
DEFS["gate"] = obj({
    "name": d(ref("name"), "Unique gate name, shown in reports; apply --gate NAME selects it."),
    "kind": {"enum": ["slo", "validity", "regression", "hypothesis", "error_budget", "checklist",
                      "load", "advice"],
             "description": "What it judges: slo (every SLO met), validity (every run measured "
                            "validly), regression (no metric worse than the history baseline), "
                            "hypothesis (every hypothesis confirmed), error_budget (every budget "
                            "burns under 1x), checklist (every measurable criterion met), load "
                            "(no soak leak or degradation, the spike recovered), advice (none of the "
                            "failure modes in fail_on was found; see docs/ADVISOR.md)."},
    "fail_on": {"type": "array", "items": {"enum": sorted(CODES)}, "minItems": 1,
                "uniqueItems": True,
                "description": "advice gates: the failure-mode codes that FAIL the gate when "
                               "the advisor finds them (the others stay warnings)."},
    "abort_on_fail": {"type": "boolean", "description":
                      "slo gates: stop a run early once an SLO is already broken on the data "
                      "so far (after abort_delay). Default false."},
    "abort_delay": d(ref("duration"), "Time from the run's start before abort_on_fail may "
                                      "stop it. Default 0."),
    "strict": {"type": "boolean", "description":
               "INCONCLUSIVE counts as FAIL. Default: true for slo (once an SLO was "
               "checked), false for the other kinds."},
    "tolerances": {"type": "object", "propertyNames": {"enum": [
        "p50", "p90", "p95", "p99", "max", "mean", "throughput", "error_rate"]},
        "additionalProperties": ref("percent"),
        "description": "Regression: the worsening allowed per metric, replacing the defaults "
                       "p50 +10%, p95 +15%, p99 +20%, max +30%, throughput -10%, error_rate "
                       "+0.1 points."},
    "min_effect": {**ref("duration"), "description":
                   "Regression: a latency shift under this never fails (default 1ms)."},
}, ["name", "kind"], "A gate deciding the exit code.")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:perfopt:schema:perfopt.v1",
    "title": "perfopt/v1 PerformanceFlow",
    "description": "A performance-optimization flow: trigger, SLIs, SLOs, load, hypotheses, gates.",
    **obj({
        "apiVersion": {"const": "perfopt/v1", "description": "Spec format version."},
        "kind": {"const": "PerformanceFlow", "description": "Document kind."},
        "metadata": obj({
            "name": d(ref("name"), "Name of the flow; history stores and compares runs under "
                                   "it."),
            "component": {"type": "string", "minLength": 1,
                          "description": "The service or component under test, shown in "
                                         "reports."},
            "project": {"type": "string", "description": "Project name, shown in reports."},
            "description": {"type": "string", "description": "Free text, shown in reports."},
            "owner": {"type": "string", "description": "Owning team or person, for readers; "
                                                       "the engine does not use it."}},
            ["name", "component"], "What the flow is and who it belongs to."),
        "trigger": {"enum": ["slo-breach", "capacity-planning", "cost-reduction",
                             "user-complaint", "proactive", "new-feature"],
                    "description": "Why the flow runs; picks the load profiles apply runs by "
                                   "default (see the table under What apply does)."},
        "target": d(ref("target"), "Where the load goes (see target)."),
        "data": {"type": "array", "items": obj({
            "name": d(ref("name"), "Name request templates use: {csv:NAME.COLUMN}."),
            "file": {"type": "string", "description": "CSV file with a header row naming the "
                                                      "columns, relative to the spec's folder."},
            "mode": {"enum": ["round-robin", "random"],
                     "description": "Which row a request takes: round-robin (in order, "
                                    "wrapping; the default) or random."}},
            ["name", "file"], "A CSV data file for request templates."),
            "description": "CSV data files request templates read (see data[])."},
        "journeys": {"type": "array", "items": ref("journey"), "minItems": 1,
                     "description": "The traffic: weighted user journeys (see journeys[])."},
        "slis": {"type": "array", "items": ref("sli"),
                 "description": "Named indicators SLOs can refer to (see slis[])."},
        "slos": {"type": "array", "items": ref("slo"),
                 "description": "Promises the runs are checked against (see slos[])."},
        "load": d(ref("load"), "Load profiles by kind (see load)."),
        "hypotheses": {"type": "array", "items": ref("hypothesis"),
                       "description": "Optimizations measured as interleaved A/B runs (see "
                                      "hypotheses[])."},
        "gates": {"type": "array", "items": ref("gate"),
                  "description": "Gates deciding the exit code (see gates[]). Default: slo, "
                                 "validity, regression, error_budget, load, and hypothesis when "
                                 "there are hypotheses."},
        "report": obj({
            "formats": {"type": "array", "items": {
                "enum": ["markdown", "json", "html", "junit"]},
                "description": "Report files written. Default all four."},
            "dir": {"type": "string", "description": "Folder the reports are written to "
                                                     "(apply --out overrides). Default reports."}},
            desc="Which reports apply writes, and where."),
        "history": obj({
            "path": {"type": "string", "description": "SQLite file the runs are stored in. "
                                                      "Default .perfopt/history.db."},
            "enabled": {"type": "boolean", "description":
                        "Store runs and compare them with the baseline; false also leaves the "
                        "regression gate without data. Default true."},
            "baseline": obj({
                "mode": {"enum": ["window", "last", "pinned"],
                         "description": "Which stored runs: window (started within window; "
                                        "the default), last (the last N), pinned (pinned "
                                        "under name; the default when name is given)."},
                "window": d(ref("duration"), "How far back window mode reaches. Default 7d."),
                "last": d(POS_INT, "How many recent runs last mode takes. Default 5."),
                "name": {"type": "string", "description":
                         "The pin pinned mode uses (perfopt-engine baseline pin NAME)."},
                "other_hosts": {"type": "boolean", "description":
                                "Also compare with runs from another host fingerprint (CPU "
                                "model and count, kernel, Python). Default false."}},
                desc="Which stored runs a new run is compared with (successful, valid runs "
                     "of the same spec, profile and variant).")},
            desc="Where runs are stored, and which of them a new run is compared with."),
        "execution": obj({
            "engine": {"enum": ["local", "dask"], "description":
                       "local: worker processes on this machine (the default). dask: the "
                       "generator hosts of a Dask cluster (pip install \"perfopt-engine[dask]\"), "
                       "each running its share of the load; their histograms are merged."},
            "scheduler": s(r"^(tcp|tls)://\S+:\d+$", "a scheduler address like tcp://HOST:8786",
                           "The Dask scheduler (default: $DASK_SCHEDULER_ADDRESS; apply "
                           "--scheduler overrides it)."),
            "nodes": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 10000},
                                {"const": "all"}],
                      "x-expected": 'a number of generator hosts or "all"',
                      "description": "Generator hosts (Dask workers started with --resources "
                                     "generator=1) to spread the load over; fewer in the "
                                     "cluster is an error before any load. Default all."},
            "workers_per_node": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 256},
                                           {"const": "auto"}],
                                 "x-expected": 'a number of worker processes or "auto"',
                                 "description": "Worker processes on each host (auto = one per "
                                                "core of that host). Default: the profile's "
                                                "workers."}},
            desc="Where the load generators run: this machine, or a Dask cluster of "
                 "generator hosts (docs: README, Scale out)."),
        "secrets": {"type": "array", "items": {"type": "string"},
                    "description": "Header and JSON field names whose values are redacted "
                                   "from reports, logs and history (Authorization, Cookie, "
                                   "Set-Cookie and Proxy-Authorization always are)."},
        "cost": obj({
            "per_hour": {"type": "number", "minimum": 0,
                         "description": "What running the target costs per hour; capacity "
                                        "then reports the cost per transaction."},
            "currency": {"type": "string", "description": "Currency of every money figure, "
                                                          "for readers. Default USD."},
            "cores": {"type": "integer", "minimum": 1,
                      "description": "CPU cores of one production instance, for the capacity "
                                     "model (instances = peak x CPU per request / 70% of "
                                     "cores, and at least peak / what one instance carries "
                                     "with a thread the runs saturated at 70% of its core). "
                                     "Default: this machine's."},
            "peak_rate": d(ref("rate"), "The production peak to provision for. Default: the "
                                        "stress profile's expected_peak, else the baseline "
                                        "rate."),
            "engineer_hour": {"type": "number", "minimum": 0,
                              "description": "What an engineering hour costs: hypotheses' "
                                             "effort becomes a payback period."},
            "value_per_ms": {"type": "number", "minimum": 0,
                             "description": "Business value per month of one millisecond "
                                            "less on a hypothesis' latency metric."},
            "value_per_request": {"type": "number", "minimum": 0,
                                  "description": "Business value of one request that no longer "
                                                 "fails (error-rate hypotheses)."}},
            desc="What the target costs to run and what speed is worth: capacity's cost per "
                 "transaction, and each optimization's monthly saving and payback "
                 "(docs/STATISTICS.md, Money)."),
        "criteria": {"type": "object", "additionalProperties": {
            "type": "number", "minimum": 0, "maximum": 1},
            "description": "Option-matrix criteria and their weights (0-1, summing to 1); "
                           "hypotheses are then ranked by their weighted scores, not by ROI."},
    }, ["apiVersion", "kind", "metadata", "trigger", "target", "journeys", "load"]),
    "$defs": DEFS,
}


from schema_production import (  # noqa: E402 (issue #17)
    FROM_PRODUCTION,
    PRODUCTION,
    SLO_PRODUCTION,
)

DEFS["slo"]["properties"]["production"] = SLO_PRODUCTION
SCHEMA["properties"]["production"] = PRODUCTION
for _kind in ("baseline", "soak"):
    DEFS[_kind]["properties"]["from_production"] = FROM_PRODUCTION

from schema_tracing import TRACING  # noqa: E402 (issue #21)

SCHEMA["properties"]["tracing"] = TRACING

from schema_profile import PROFILING  # noqa: E402 (issue #21: the sampling profiler)
from schema_target_metrics import TARGET_METRICS  # noqa: E402 (issue #21: remote resources)

DEFS["target"]["properties"]["metrics"] = TARGET_METRICS

SCHEMA["properties"]["profiling"] = PROFILING


def render() -> str:
    return json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "schemas" / "perfopt.v1.schema.json"
    if "--check" in sys.argv:
        sys.exit(0 if out.read_text(encoding="utf-8") == render() else 1)
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
