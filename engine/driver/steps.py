"""A step's extract and checks compiled once (StepPlan), and their evaluation on an answer.

Nothing here is timed: it runs after the answer's done time was taken, on answers of the
steps that declared something to extract or check.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from engine.hotpath.native import OUTCOME_NAMES
from engine.spec.jsonpath import MISSING, PathKey, lookup, parse_path
from engine.spec.model import Check, Extract, Request

Headers = list[tuple[bytes, bytes]]
"""Response headers as (lower-case name, value), in order."""


@dataclass(frozen=True)
class StepPlan:
    """What one step needs from its answer. ``series``: its per-step series (-1: none)."""

    name: str
    series: int
    cookies: bool
    headers: bool
    body: bool
    extracts: tuple[tuple[Extract, Any], ...]
    checks: tuple[tuple[Check, Any], ...]
    check_base: int
    """Index of this step's first check among its journey's checks."""


def step_name(r: Request) -> str:
    return r.name or f"{r.method.upper()} {r.path}"


def compile_plan(r: Request, series: int, cookies: bool, check_base: int) -> StepPlan:
    extracts = tuple((e, _compile(e.source, e.expr)) for e in r.extract)
    checks = tuple((c, parse_path(c.key) if c.subject == "json" else
                    _compile("regex", c.value) if c.op == "matches" else None) for c in r.checks)
    headers = any(e.source == "header" for e in r.extract) or any(
        c.subject == "header" for c in r.checks)
    body = any(e.source in ("json", "regex") for e in r.extract) or any(
        c.subject in ("json", "body") for c in r.checks)
    cookies = cookies or any(e.source == "cookie" for e in r.extract)
    return StepPlan(step_name(r), series, cookies, headers, body, extracts, checks, check_base)


def _compile(kind: str, expr: str) -> Any:
    if kind == "json":
        return parse_path(expr)
    if kind == "regex":
        try:
            return re.compile(expr)
        except re.error:
            return None
    return None


# -- answers --------------------------------------------------------------------------------
class Answer:
    """One answer's status, headers and body, the JSON parsed at most once."""

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body
        self._json: Any = MISSING
        self.text = ""

    def header(self, name: str) -> str | None:
        low = name.lower().encode("latin-1")
        return next((v.decode("latin-1") for n, v in self.headers if n == low), None)

    def json_at(self, keys: PathKey) -> Any:
        if self._json is MISSING:
            try:
                self._json = json.loads(self.body)
            except ValueError:
                self._json = _NOT_JSON
        return MISSING if self._json is _NOT_JSON else lookup(self._json, keys)

    def body_text(self) -> str:
        if not self.text and self.body:
            self.text = self.body.decode("utf-8", "replace")
        return self.text


_NOT_JSON = object()


def as_text(value: Any) -> str:
    """A JSON value as a variable's text: strings as they are, others as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


# -- checks ---------------------------------------------------------------------------------
def evaluate(plan: StepPlan, counts: list[int], status: int, headers: Headers,
             body: bytes) -> bool:
    """Count each check of ``plan`` as passed or failed; True if a fail_request one failed."""
    answer = Answer(status, headers, body)
    failed_request = False
    for k, (check, compiled) in enumerate(plan.checks):
        ok = _holds(check, compiled, answer)
        counts[2 * (plan.check_base + k) + (0 if ok else 1)] += 1
        if not ok and check.fail_request:
            failed_request = True
    return failed_request


def _holds(c: Check, compiled: Any, a: Answer) -> bool:
    if c.subject == "status":
        return a.status in c.codes
    if c.subject == "body":
        text = a.body_text()
        return c.value in text if c.op == "contains" else bool(
            compiled is not None and compiled.search(text))
    value: Any = a.header(c.key) if c.subject == "header" else a.json_at(compiled)
    present = value is not None and value is not MISSING
    if c.op == "exists":
        return present == (c.value == "true")
    if not present:
        return False
    text = value if isinstance(value, str) else as_text(value)
    if c.op == "equals":
        return text == c.value
    return re.search(c.value, text) is not None


# -- extraction -----------------------------------------------------------------------------
def extract_all(plan: StepPlan, state: Any, status: int, headers: Headers, body: bytes,
                outcome: int) -> str:
    """Set ``state.vars`` from the answer; the reason of the first failure, else ""."""
    answer = Answer(status, headers, body)
    for e, compiled in plan.extracts:
        if not status:
            why = f"no answer ({OUTCOME_NAMES[outcome]})"
        else:
            value, why = _EXTRACTORS[e.source](e, compiled, answer, state)
            if value is not None:
                state.vars[e.var] = value
                continue
        return f"extract {e.var} failed at step {plan.name}: {why}"
    return ""


def _json(e: Extract, keys: Any, a: Answer, state: Any) -> tuple[str | None, str]:
    value = a.json_at(keys)
    if value is MISSING:
        return None, f"{e.expr} not in body" + ("" if a.body else " (empty body)")
    return as_text(value), ""


def _header(e: Extract, _: Any, a: Answer, state: Any) -> tuple[str | None, str]:
    value = a.header(e.expr)
    return value, "" if value is not None else f"header {e.expr} not in the answer"


def _regex(e: Extract, rx: Any, a: Answer, state: Any) -> tuple[str | None, str]:
    m = rx.search(a.body_text()) if rx is not None else None
    if m is None:
        return None, f"regex {e.expr!r} did not match the body"
    return (m.group(1) if m.re.groups else m.group(0)), ""


def _cookie(e: Extract, _: Any, a: Answer, state: Any) -> tuple[str | None, str]:
    jar: dict[str, str] = {}
    for name, value in a.headers:
        if name == b"set-cookie":
            set_cookie(jar, value)
    found = jar.get(e.expr, state.jar.get(e.expr))
    return found, "" if found is not None else f"cookie {e.expr} not set"


_EXTRACTORS: dict[str, Callable[[Extract, Any, Answer, Any], tuple[str | None, str]]] = {
    "json": _json, "header": _header, "regex": _regex, "cookie": _cookie}


# -- cookies --------------------------------------------------------------------------------
def set_cookie(jar: dict[str, str], raw: bytes) -> None:
    """Apply one Set-Cookie value: keep name=value, or delete on Max-Age <= 0 / past Expires."""
    first, *attrs = raw.decode("latin-1").split(";")
    name, sep, value = first.partition("=")
    name = name.strip()
    if not sep or not name:
        return
    if _expired(attrs):
        jar.pop(name, None)
    else:
        jar[name] = value.strip()


def _expired(attrs: list[str]) -> bool:
    expires: bool | None = None
    for attr in attrs:
        key, _, value = attr.partition("=")
        key = key.strip().lower()
        if key == "max-age":
            try:
                return int(value.strip()) <= 0  # Max-Age wins over Expires
            except ValueError:
                continue
        if key == "expires":
            try:
                expires = parsedate_to_datetime(value.strip()).timestamp() <= time.time()
            except (TypeError, ValueError):
                continue
    return bool(expires)


def cookie_line(jar: dict[str, str]) -> str:
    """The Cookie header line for the jar ('' when empty)."""
    if not jar:
        return ""
    return "Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()) + "\r\n"
