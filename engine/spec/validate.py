"""JSON Schema (Draft 2020-12) validation with messages a person can act on."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from engine.spec.errors import SpecError, format_path
from engine.spec.source import Document

SCHEMA_NAME = "perfopt.v1.schema.json"


def schema_path(name: str = SCHEMA_NAME) -> Path:
    """The installed copy (engine/schemas) or the source tree's schemas/."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "schemas" / name, here.parent / "schemas" / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"schema {name} not found beside the engine package")


@cache
def load_schema(name: str = SCHEMA_NAME) -> Mapping[str, Any]:
    """The parsed JSON schema (cached)."""
    loaded: Mapping[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return loaded


def schema_errors(doc: Document, data: Any) -> list[SpecError]:
    """Every schema violation in ``data`` (already coerced), one SpecError each."""
    validator = Draft202012Validator(load_schema())
    out: list[SpecError] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        out.extend(_convert(doc, error))
    return sorted(_dedupe(out), key=lambda e: (e.line, e.column))


def _convert(doc: Document, error: ValidationError) -> Iterator[SpecError]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        for key in _extra_keys(error):
            yield _at(doc, (*path, key), _unknown_key(key, allowed))
        return
    yield _at(doc, path, _message(error))


def _extra_keys(error: ValidationError) -> list[str]:
    props = error.schema.get("properties", {})
    return [k for k in error.instance if k not in props]


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown key '{key}'{hint}; expected one of: {', '.join(sorted(allowed))}"


def _message(error: ValidationError) -> str:
    expected = error.schema.get("x-expected") if isinstance(error.schema, Mapping) else None
    got = _shown(error.instance)
    kind = error.validator
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return f"missing required key '{missing}'"
    if kind in ("anyOf", "oneOf") and not expected and error.context:
        return _message(best_match(error.context))
    if expected:
        return f"expected {expected}, got {got}"
    return _plain(error, got)


def _plain(error: ValidationError, got: str) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "enum":
        options = [str(v) for v in value]
        close = difflib.get_close_matches(str(error.instance), options, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"expected one of {', '.join(options)}, got {got}{hint}"
    if kind == "const":
        return f"expected {json.dumps(value)}, got {got}"
    if kind == "type":
        return f"expected {_article(value)}, got {got}"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=",
                 "exclusiveMaximum": "<"}[str(kind)]
        return f"expected a number {words} {value}, got {got}"
    if kind == "minItems":
        return f"expected at least {value} item(s), got {len(error.instance)}"
    if kind == "minLength":
        return f"expected a non-empty value, got {got}"
    if kind == "propertyNames":
        return f"unexpected name {got}"
    return str(error.message)


def _article(value: Any) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "a whole number", "number": "a number", "boolean": "true or false"}
    if isinstance(value, list):
        return " or ".join(names.get(str(v), str(v)) for v in value)
    return names.get(str(value), str(value))


def _shown(instance: Any) -> str:
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    text = json.dumps(instance, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + '..."'


def _at(doc: Document, path: tuple[Any, ...], message: str) -> SpecError:
    line, col = locate(doc, path)
    return SpecError(doc.file, line, col, format_path(path), message)


def locate(doc: Document, path: tuple[Any, ...]) -> tuple[int, int]:
    """Line and column of the deepest known node on ``path``."""
    probe = tuple(path)
    while probe and probe not in doc.lines:
        probe = probe[:-1]
    return doc.lines.get(probe, (doc.first_line, 1))


def _dedupe(errors: list[SpecError]) -> list[SpecError]:
    seen: set[str] = set()
    out = []
    for e in errors:
        if str(e) not in seen:
            seen.add(str(e))
            out.append(e)
    return out
