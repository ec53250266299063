"""target, journeys and data sections -> records."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from engine.spec.build_steps import build_checks, build_extracts, check_variables
from engine.spec.coerce import coerce_json_body
from engine.spec.context import Ctx, P
from engine.spec.model import (
    DEFAULT_REDIRECTS,
    DataFile,
    Journey,
    ProcessRef,
    Readiness,
    Request,
    StartCommand,
    Target,
    TlsSettings,
)
from engine.spec.think import build_think

DEMO_FIXES = ("index", "join", "cache", "async", "parallel", "linear", "pool")



def demo_command(port: int, fix: Sequence[str], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The command that runs the embedded demo service on 127.0.0.1:``port``."""
    cmd = [sys.executable, "-m", "engine.demo", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--fix", ",".join(fix) or "none"]
    return (*cmd, *extra)


def build_target(ctx: Ctx, raw: dict[str, Any], path: P) -> Target:
    """A target: URL, optional managed start command, optional process to profile, or demo."""
    process = _process(raw.get("process"))
    if "metrics" in raw and path != ("target",):  # engine.spec.model_target_metrics
        ctx.error((*path, "metrics"), "expected metrics only on the spec's own target")
    if "demo" in raw:
        return _demo_target(ctx, raw, path, process)
    url = str(raw.get("url", "")).rstrip("/")
    _check_port(ctx, url, (*path, "url"))
    start = _start(ctx, raw["start"], (*path, "start"), url) if "start" in raw else None
    return Target(url=url, start=start, process=process, tls=_tls(ctx, raw.get("tls"), path))


def _tls(ctx: Ctx, raw: Any, path: P) -> TlsSettings | None:
    """``tls: {verify, ca_file}``; a ca_file is resolved against the spec's folder."""
    if not isinstance(raw, dict):
        return None
    ca = raw.get("ca_file")
    if ca is not None:
        file = ctx.base_dir / str(ca)
        if not file.is_file():
            ctx.error((*path, "tls", "ca_file"), f"expected a PEM file, {str(file)!r} not found")
        ca = str(file)
    return TlsSettings(bool(raw.get("verify", True)), ca)


def _check_port(ctx: Ctx, url: str, path: P) -> None:
    """A URL's port must be 1..65535 (urlsplit raises later, mid-run, otherwise)."""
    try:
        port = urlsplit(url).port
    except ValueError:
        port = 0
    if port == 0:
        ctx.error(path, f"expected a URL port from 1 to 65535, got {url!r}")


def _process(raw: Any) -> ProcessRef | None:
    if not isinstance(raw, dict):
        return None
    return ProcessRef(pid=raw.get("pid"), name=raw.get("name"))


def _demo_target(ctx: Ctx, raw: dict[str, Any], path: P, process: ProcessRef | None) -> Target:
    demo = raw["demo"]
    port = int(demo["port"])
    fixes = [str(f) for f in demo.get("fix", [])]
    fix = DEMO_FIXES if "all" in fixes else tuple(f for f in DEMO_FIXES if f in fixes)
    url = f"http://127.0.0.1:{port}"
    if "url" in raw and str(raw["url"]).rstrip("/") != url:
        ctx.error((*path, "url"), f"expected no url with demo, or {url!r}")
    extra = [str(a) for a in demo.get("args", [])]
    if "users" in demo:
        extra = ["--users", str(demo["users"]), *extra]
    command = demo_command(port, fix, extra)
    start = StartCommand(tuple(command), ready=Readiness(path="/health", timeout_s=60.0))
    return Target(url=url, start=start, process=process, demo_fix=fix)


def _start(ctx: Ctx, raw: dict[str, Any], path: P, url: str) -> StartCommand:
    command = raw["command"]
    try:
        argv = tuple(shlex.split(command)) if isinstance(command, str) else tuple(command)
    except ValueError as exc:
        ctx.error((*path, "command"), f"expected a command line, got {command!r} ({exc})")
        argv = ()
    ready_raw = raw.get("ready", {})
    timeout = ctx.duration((*path, "ready", "timeout"), ready_raw.get("timeout")) or 30.0
    ready = Readiness(path=ready_raw.get("path"), tcp_port=ready_raw.get("tcp"), timeout_s=timeout)
    if ready.path is None and ready.tcp_port is None:
        ready = Readiness(path="/", timeout_s=timeout)
    env = MappingProxyType({str(k): str(v) for k, v in raw.get("env", {}).items()})
    if not url and ready.tcp_port is None:
        ctx.error(path, "expected a target url beside start")
    return StartCommand(argv, env=env, cwd=raw.get("cwd"), ready=ready)


def build_journeys(ctx: Ctx, raw: list[dict[str, Any]]) -> tuple[Journey, ...]:
    """Journeys with unique names; each a single request or a list of steps."""
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(raw):
        path: P = ("journeys", i)
        name = str(item["name"])
        if name in seen:
            ctx.error((*path, "name"), f"duplicate journey name {name!r} (first at journeys[{seen[name]}])")
        seen.setdefault(name, i)
        steps = _steps(ctx, item, path)
        check_variables(ctx, steps, (*path, "steps") if "steps" in item else (*path, "request"),
                        "steps" in item)
        weight = float(item.get("weight", 1))
        out.append(Journey(name, weight, steps, ctx.location(path),
                           bool(item.get("cookies", True)),
                           int(item.get("redirects", DEFAULT_REDIRECTS)), _tags(item.get("tags"))))
    return tuple(out)


def _steps(ctx: Ctx, item: dict[str, Any], path: P) -> tuple[Request, ...]:
    if ("request" in item) == ("steps" in item):
        ctx.error(path, "expected exactly one of 'request' or 'steps'")
        return ()
    if "request" in item:
        return (_request(ctx, item["request"], (*path, "request")),)
    return tuple(_request(ctx, r, (*path, "steps", k)) for k, r in enumerate(item["steps"]))


def _request(ctx: Ctx, raw: dict[str, Any], path: P) -> Request:
    body = _body_file(ctx, raw, path) if "body_file" in raw else raw.get("body")
    json_text = None
    if "json" in raw:
        json_text = json.dumps(coerce_json_body(raw["json"]), separators=(",", ":"))
    if sum(k in raw for k in ("body", "json", "body_file")) > 1:
        ctx.error(path, "expected one of 'body', 'json' or 'body_file', not several")
    method = str(raw.get("method", "POST" if body is not None or json_text else "GET"))
    expect = tuple(int(s) for s in raw.get("expect", {}).get("status", ())) or (200, 201, 202, 204)
    think = build_think(ctx, (*path, "think_time"), raw.get("think_time"))
    headers = MappingProxyType({str(k): str(v) for k, v in raw.get("headers", {}).items()})
    redirects = raw.get("redirects")
    if raw.get("follow_redirects") is False and redirects is None:
        redirects = 0
    return Request(method, str(raw["path"]), headers, body, json_text, expect,
                   think.mean_s if think else 0.0, bool(raw.get("follow_redirects", False)),
                   name=str(raw.get("name", "")), think=think,
                   extract=build_extracts(raw.get("extract", {})),
                   checks=build_checks(ctx, raw.get("checks", []), (*path, "checks")),
                   redirects=None if redirects is None else int(redirects),
                   tags=_tags(raw.get("tags")))


def _tags(raw: Any) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (raw or {}).items()})


def _body_file(ctx: Ctx, raw: dict[str, Any], path: P) -> str | None:
    """The text of ``body_file`` (relative to the spec's folder), read at load."""
    file = ctx.base_dir / str(raw["body_file"])
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        ctx.error((*path, "body_file"), f"expected a readable UTF-8 body file, "
                                        f"{str(file)!r}: {why}")
        return None


def build_data(ctx: Ctx, raw: list[dict[str, Any]]) -> tuple[DataFile, ...]:
    """CSV data files; relative paths resolve against the spec's folder."""
    out = []
    for i, item in enumerate(raw):
        file = ctx.base_dir / str(item["file"])
        if not file.is_file():
            ctx.error(("data", i, "file"), f"expected an existing CSV file, {str(file)!r} not found")
        out.append(DataFile(str(item["name"]), str(file), item.get("mode", "round-robin")))
    return tuple(out)
