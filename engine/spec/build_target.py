"""target, journeys and data sections -> records."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from engine.spec.coerce import coerce_json_body
from engine.spec.context import Ctx, P
from engine.spec.model import (
    DataFile,
    Journey,
    ProcessRef,
    Readiness,
    Request,
    StartCommand,
    Target,
)

DEMO_FIXES = ("index", "join", "cache", "async", "parallel", "linear", "pool")



def demo_command(port: int, fix: Sequence[str], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The command that runs the embedded demo service on 127.0.0.1:``port``."""
    cmd = [sys.executable, "-m", "engine.demo", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--fix", ",".join(fix) or "none"]
    return (*cmd, *extra)


def build_target(ctx: Ctx, raw: dict[str, Any], path: P) -> Target:
    """A target: URL, optional managed start command, optional process to profile, or demo."""
    process = _process(raw.get("process"))
    if "demo" in raw:
        return _demo_target(ctx, raw, path, process)
    url = str(raw.get("url", "")).rstrip("/")
    _check_port(ctx, url, (*path, "url"))
    start = _start(ctx, raw["start"], (*path, "start"), url) if "start" in raw else None
    return Target(url=url, start=start, process=process)


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
        weight = float(item.get("weight", 1))
        out.append(Journey(name, weight, steps, ctx.location(path)))
    return tuple(out)


def _steps(ctx: Ctx, item: dict[str, Any], path: P) -> tuple[Request, ...]:
    if ("request" in item) == ("steps" in item):
        ctx.error(path, "expected exactly one of 'request' or 'steps'")
        return ()
    if "request" in item:
        return (_request(ctx, item["request"], (*path, "request")),)
    return tuple(_request(ctx, r, (*path, "steps", k)) for k, r in enumerate(item["steps"]))


def _request(ctx: Ctx, raw: dict[str, Any], path: P) -> Request:
    body = raw.get("body")
    json_text = None
    if "json" in raw:
        json_text = json.dumps(coerce_json_body(raw["json"]), separators=(",", ":"))
    if body is not None and json_text is not None:
        ctx.error(path, "expected one of 'body' or 'json', not both")
    method = str(raw.get("method", "POST" if body is not None or json_text else "GET"))
    expect = tuple(int(s) for s in raw.get("expect", {}).get("status", ())) or (200, 201, 202, 204)
    think = ctx.duration((*path, "think_time"), raw.get("think_time"), positive=False) or 0.0
    headers = MappingProxyType({str(k): str(v) for k, v in raw.get("headers", {}).items()})
    return Request(method, str(raw["path"]), headers, body, json_text, expect, think,
                   bool(raw.get("follow_redirects", False)))


def build_data(ctx: Ctx, raw: list[dict[str, Any]]) -> tuple[DataFile, ...]:
    """CSV data files; relative paths resolve against the spec's folder."""
    out = []
    for i, item in enumerate(raw):
        file = ctx.base_dir / str(item["file"])
        if not file.is_file():
            ctx.error(("data", i, "file"), f"expected an existing CSV file, {str(file)!r} not found")
        out.append(DataFile(str(item["name"]), str(file), item.get("mode", "round-robin")))
    return tuple(out)
