"""Quick mode's flags -> the YAML text of a spec (``perfopt-engine run``).

The flags are written into an ordinary PerformanceFlow document, which then goes through
the same loader, schema and semantic checks as a file (engine.spec.loader.load_text), so
a bad ``--rate`` gets the same message as a bad ``rate:`` in a file; ``flag_error`` names
the flag instead of a line of a document the user never saw. ``--save`` writes that text.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from engine.spec.errors import SpecError

DEFAULT_RATE = "50/s"
DEFAULT_DURATION = "10s"
DEMO_PATH = "/users/{rand:1-100000}"
"""The demo's journey: one user by id (every slow pattern fixed, so it answers fast)."""
SLO_FORMS = '"p95<200ms", "p99<=1s", "errors<1%", "availability>=99.9%" or "throughput>=50/s"'
_SLO = re.compile(r"^\s*(?P<metric>p\d+(?:\.\d+)?|errors?|error_rate|availability|throughput"
                  r"|rps|rate)\s*(?P<op><=|>=|<|>)\s*(?P<value>\S.*?)\s*$", re.IGNORECASE)
_SLI = {"error": "error_rate", "errors": "error_rate", "error_rate": "error_rate",
        "availability": "availability", "throughput": "throughput", "rps": "throughput",
        "rate": "throughput"}


class FlagError(ValueError):
    """A flag that cannot even be written into a spec (the message names it)."""


@dataclass
class QuickFlags:
    """What ``run`` was given (strings as typed; the spec checks them)."""

    target: str
    rate: str | None = None
    vus: str | None = None
    duration: str = DEFAULT_DURATION
    slos: list[str] = field(default_factory=list)
    method: str = "GET"
    headers: list[str] = field(default_factory=list)
    name: str | None = None
    out: str | None = None


@dataclass
class QuickSpec:
    """The spec text, and which flag each section of it came from (for error messages)."""

    text: str
    origins: dict[str, str]
    """Spec path prefix ('load.baseline.rate', 'slos[1]') -> the flag as typed."""


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def split_url(url: str) -> tuple[str, str]:
    """'http://h:8080/a?b=1' -> ('http://h:8080', '/a?b=1'); FlagError if it is no URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FlagError(f"{url!r}: expected a URL like http://127.0.0.1:8080/path, or demo")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{parts.netloc}", path


def parse_slo(text: str, index: int, taken: set[str]) -> dict[str, str]:
    """'p95<200ms' -> the fields of an slos[] entry; FlagError naming the accepted forms."""
    m = _SLO.match(text)
    if m is None:
        raise FlagError(f"--slo {text!r}: expected METRIC OP VALUE like {SLO_FORMS}")
    metric = m["metric"].lower()
    latency = metric.startswith("p")
    fields = {"sli": "latency", "percentile": metric[1:]} if latency else {"sli": _SLI[metric]}
    name = metric if latency else fields["sli"]
    while name in taken:
        name = f"{name}-{index + 1}"
    taken.add(name)
    return {"name": name, **fields, "objective": f"{m['op']} {m['value']}"}


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise FlagError(f"--header {text!r}: expected \"Name: value\"")
    return name.strip(), value.strip()


def free_port() -> int:
    """A loopback port free right now (the demo's; --save keeps it, so apply reuses it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _default_name(base: str) -> str:
    host = urlsplit(base).netloc.split("@")[-1]
    return "quick-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", host).strip("-.")


def build_quick_spec(flags: QuickFlags) -> QuickSpec:
    """The spec text for ``flags``; FlagError for a flag that has no place in a spec."""
    origins: dict[str, str] = {}
    if flags.target == "demo":
        base, path = "", DEMO_PATH
        target = [f"  demo: {{port: {free_port()}, fix: [all]}}"]
        name = flags.name or "quick-demo"
    else:
        base, path = split_url(flags.target)
        target = [f"  url: {_q(base)}"]
        name = flags.name or _default_name(base)
        origins["target"] = origins["journeys[0].request.path"] = flags.target
    lines = [
        "apiVersion: perfopt/v1", "kind: PerformanceFlow",
        f"metadata: {{name: {_q(name)}, component: {_q(base or 'perfopt demo')}}}",
        "trigger: proactive", "target:", *target,
        "journeys:", "  - name: request", "    request:",
        f"      method: {_q(flags.method.upper())}", f"      path: {_q(path)}",
    ]
    origins["metadata.name"] = f"--name {name}"
    origins["journeys[0].request.method"] = f"--method {flags.method}"
    lines += _headers(flags.headers, origins)
    lines += _slos(flags.slos, origins)
    lines += _load(flags, origins)
    if flags.out:
        lines.append(f"report: {{dir: {_q(flags.out)}}}")
        origins["report"] = f"--out {flags.out}"
    return QuickSpec("\n".join(lines) + "\n", origins)


def _headers(headers: list[str], origins: dict[str, str]) -> list[str]:
    if not headers:
        return []
    out = ["      headers:"]
    for text in headers:
        name, value = parse_header(text)
        out.append(f"        {_q(name)}: {_q(value)}")
    origins["journeys[0].request.headers"] = "--header"
    return out


def _slos(slos: list[str], origins: dict[str, str]) -> list[str]:
    if not slos:
        return []
    out, taken = ["slos:"], set[str]()
    for i, text in enumerate(slos):
        entry = parse_slo(text, i, taken)
        out.append("  - {" + ", ".join(f"{k}: {_q(v)}" for k, v in entry.items()) + "}")
        origins[f"slos[{i}]"] = f"--slo {text}"
    return out


def _load(flags: QuickFlags, origins: dict[str, str]) -> list[str]:
    if flags.vus is not None:
        shape = f"vus: {flags.vus if flags.vus.isdigit() else _q(flags.vus)}"
        origins["load.baseline.vus"] = f"--vus {flags.vus}"
    else:
        rate = flags.rate or DEFAULT_RATE
        rate = f"{rate}/s" if re.fullmatch(r"\s*\d+(\.\d+)?\s*", rate) else rate
        shape = f"rate: {_q(rate)}"
        origins["load.baseline.rate"] = f"--rate {flags.rate or DEFAULT_RATE}"
    origins["load.baseline.duration"] = f"--duration {flags.duration}"
    origins["load"] = origins["load.baseline"] = "--rate/--vus/--duration"
    return ["load:", "  baseline:", f"    {shape}", f"    duration: {_q(flags.duration)}"]


def flag_error(error: SpecError, origins: dict[str, str]) -> str:
    """A spec error as a flag problem: '--rate fast: expected a rate like "500/s" ...'."""
    path = error.path
    best = max((p for p in origins if path == p or path.startswith((p + ".", p + "["))),
               key=len, default=None)
    if best is None:
        return f"{error.path or 'spec'}: {error.message}" if error.path else error.message
    return f"{origins[best]}: {error.message}"
