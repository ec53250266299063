"""A step's ``extract`` and ``checks`` -> records, and the ``{var:NAME}`` order rule.

A variable must be extracted by an earlier step of the same journey before a template
uses it; anything else is a validation error at the step that uses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from engine.spec.context import Ctx, P
from engine.spec.jsonpath import parse_path
from engine.spec.model import Check, Extract, Request

VAR_RE = re.compile(r"\{var:([A-Za-z_][A-Za-z0-9_]*)\}")
"""A variable placeholder in a path, header or body (the driver's templates use it too)."""
SUBJECTS = ("status", "header", "json", "body_contains", "body_matches")


def build_extracts(raw: dict[str, Any]) -> tuple[Extract, ...]:
    """``{name: {json|header|regex|cookie: text}}`` -> Extract records (schema-checked)."""
    out = []
    for var, how in raw.items():
        (source, expr), = how.items()
        out.append(Extract(str(var), source, str(expr)))
    return tuple(out)


def build_checks(ctx: Ctx, raw: list[dict[str, Any]], path: P) -> tuple[Check, ...]:
    out = []
    for i, item in enumerate(raw):
        check = _check(ctx, item, (*path, i))
        if check is not None:
            out.append(check)
    return tuple(out)


def _check(ctx: Ctx, item: dict[str, Any], path: P) -> Check | None:
    subjects = [k for k in SUBJECTS if k in item]
    if len(subjects) != 1:
        ctx.error(path, f"expected exactly one of {', '.join(SUBJECTS)} in a check")
        return None
    subject = subjects[0]
    fail = bool(item.get("fail_request", False))
    check: Check | None
    if subject == "status":
        codes = item["status"] if isinstance(item["status"], list) else [item["status"]]
        check = Check("", "status", "in", codes=tuple(int(c) for c in codes), fail_request=fail)
    elif subject in ("body_contains", "body_matches"):
        op: Any = "contains" if subject == "body_contains" else "matches"
        check = Check("", "body", op, value=_regex(ctx, item[subject], (*path, subject), op),
                      fail_request=fail)
    else:
        check = _value_check(ctx, item, path, subject, fail)
    if check is None:
        return None
    name = str(item.get("name") or describe(check))
    return Check(name, check.subject, check.op, check.key, check.value, check.codes,
                 check.fail_request)


def _value_check(ctx: Ctx, item: dict[str, Any], path: P, subject: str,
                 fail: bool) -> Check | None:
    ops = [k for k in ("equals", "matches", "exists") if k in item]
    if len(ops) != 1:
        ctx.error(path, f"expected one of equals, matches or exists with {subject}")
        return None
    op = ops[0]
    key = str(item[subject])
    if subject == "json":
        try:
            parse_path(key)
        except ValueError as exc:
            ctx.error((*path, "json"), str(exc))
            return None
    value = item[op]
    if op == "exists":
        value = "true" if value in (True, "true") else "false"
    elif op == "matches":
        value = _regex(ctx, value, (*path, op), op)
    else:
        value = value if isinstance(value, str) else json.dumps(value)
    return Check("", subject, op, key, value,  # type: ignore[arg-type]
                 fail_request=fail)


def _regex(ctx: Ctx, value: Any, path: P, op: str) -> str:
    text = str(value)
    if op == "matches":
        try:
            re.compile(text)
        except re.error as exc:
            ctx.error(path, f"expected a regular expression, got {text!r} ({exc})")
    return text


def describe(c: Check) -> str:
    """A check in words: 'status is 200', 'json $.name == "alice"', 'body contains "ok"'."""
    if c.subject == "status":
        return "status is " + " or ".join(str(x) for x in c.codes)
    if c.subject == "body":
        return f"body {c.op} {c.value!r}"
    what = f"{c.subject} {c.key}"
    if c.op == "exists":
        return f"{what} {'exists' if c.value == 'true' else 'is absent'}"
    return f"{what} {'==' if c.op == 'equals' else 'matches'} {c.value!r}"


def check_variables(ctx: Ctx, steps: Sequence[Request], path: P, many: bool) -> None:
    """Every {var:NAME} names a variable an earlier step extracts; each extract is sane."""
    known: set[str] = set()
    for i, step in enumerate(steps):
        where: P = (*path, i) if many else path
        for text in _templates(step):
            for name in VAR_RE.findall(text):
                if name not in known:
                    ctx.error(where, f"{{var:{name}}} is used before any earlier step of "
                                     f"this journey extracts {name!r} (extracted so far: "
                                     f"{', '.join(sorted(known)) or 'none'})")
        for e in step.extract:
            _check_extract(ctx, e, (*where, "extract", e.var))
            known.add(e.var)


def _check_extract(ctx: Ctx, e: Extract, path: P) -> None:
    try:
        if e.source == "json":
            parse_path(e.expr)
        elif e.source == "regex":
            re.compile(e.expr)
    except (ValueError, re.error) as exc:
        ctx.error(path, f"expected a valid {e.source} expression: {exc}")


def _templates(step: Request) -> list[str]:
    out = [step.path, *step.headers.values()]
    body = step.json if step.json is not None else step.body
    return out + ([body] if body is not None else [])
