"""``${VAR}`` and ``${VAR:-default}`` in a spec's string values, resolved from the environment.

Runs on the parsed document, before coercion and the schema, so a header, a URL, a port or
a rate can come from the environment alike. Mapping keys are never substituted, and names
(journey, SLI, SLO, hypothesis, gate, data and spec names, and the fields that refer to
them) are identifiers: a ``${...}`` there is an error. ``$${`` is a literal ``${``. A
variable that is unset or empty, without a default, is an error at the reference's
file:line:col; every such problem of a document is reported at once.

Every value taken from the environment is a secret (``Substituted.secret_values``, kept
on the Spec): the writers remove it wherever it appears. A default written in the spec
is not, unless it sits under a secret name (Authorization, Cookie, ``secrets:``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.redact import literal_forms
from engine.spec.errors import SpecError, format_path
from engine.spec.source import Document, token_position

__all__ = ["REFERENCE", "Substituted", "is_name", "string_values", "substitute"]

VAR_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
REFERENCE = re.compile(
    rf"\$\$\{{|\$\{{(?:(?P<name>{VAR_NAME})(?::-(?P<default>[^}}\n]*))?\}}|(?P<bad>[^}}\n]{{0,40}}\}}?))")
"""``$${`` (escape), ``${NAME}`` / ``${NAME:-default}``, or any other ``${...}`` (malformed)."""

P = tuple[str | int, ...]
_NAMES: frozenset[tuple[str, ...]] = frozenset({
    ("metadata", "name"), ("journeys", "*", "name"), ("slis", "*", "name"),
    ("slis", "*", "journey"), ("slos", "*", "name"), ("slos", "*", "sli"),
    ("slos", "*", "journey"), ("hypotheses", "*", "id"), ("hypotheses", "*", "profile"),
    ("hypotheses", "*", "expect", "slo"), ("hypotheses", "*", "expect", "journey"),
    ("gates", "*", "name"), ("data", "*", "name"), ("history", "baseline", "name"),
})
_FORM = "${NAME} or ${NAME:-default} (NAME: letters, digits and _, not starting with a digit)"


def is_name(path: P) -> bool:
    """Whether the value at ``path`` is an identifier (a name, or a reference to one)."""
    return tuple("*" if isinstance(p, int) else p for p in path) in _NAMES


def string_values(data: Any, path: P = ()) -> Iterator[tuple[P, str]]:
    """(path, text) of every string value in plain parsed data, in document order."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from string_values(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from string_values(item, (*path, i))


@dataclass
class Substituted:
    """The document's data with every reference resolved, what went wrong, and the values
    that came from the environment (each with the escaped forms a writer may show)."""

    data: Any
    errors: list[SpecError] = field(default_factory=list)
    secret_values: tuple[str, ...] = ()


def substitute(doc: Document, environ: Mapping[str, str]) -> Substituted:
    """Resolve ``${...}`` in every string value of ``doc`` from ``environ``."""
    resolver = _Resolver(doc, environ)
    data = resolver.walk(doc.data, ())
    forms = sorted({f for v in resolver.used for f in literal_forms(v)}, key=lambda v: (-len(v), v))
    errors = sorted(resolver.errors, key=lambda e: (e.line, e.column))
    return Substituted(data, errors, tuple(forms))


class _Resolver:
    def __init__(self, doc: Document, environ: Mapping[str, str]) -> None:
        self.doc, self.environ = doc, environ
        self.errors: list[SpecError] = []
        self.used: set[str] = set()

    def walk(self, data: Any, path: P) -> Any:
        if isinstance(data, str):
            return self.text(data, path) if "$" in data else data
        if isinstance(data, dict):
            return {k: self.walk(v, (*path, str(k))) for k, v in data.items()}
        if isinstance(data, list):
            return [self.walk(item, (*path, i)) for i, item in enumerate(data)]
        return data

    def text(self, text: str, path: P) -> str:
        out: list[str] = []
        last = 0
        for match in REFERENCE.finditer(text):
            nth = text.count(match.group(0), 0, match.start())  # the same text written before
            out += [text[last:match.start()], self.replacement(match, path, nth)]
            last = match.end()
        return "".join([*out, text[last:]])

    def replacement(self, match: re.Match[str], path: P, nth: int) -> str:
        token, name, default = match.group(0), match.group("name"), match.group("default")
        if token == "$${":
            return "${"
        if name is None:
            return self.error(path, token, nth, f"expected {_FORM}, got {token!r}; write $${{ "
                                                "for a literal ${")
        if is_name(path):
            return self.error(path, token, nth, f"{token} in a name: journey, SLI, SLO, "
                              "hypothesis, gate, data and spec names (and the fields that name "
                              "them) are identifiers and are not substituted; write the name")
        value = self.environ.get(name, "")
        if value:
            self.used.add(value)
            return value
        if default is not None:
            return default
        state = "is set but empty" if name in self.environ else "is not set"
        return self.error(path, token, nth, f"environment variable {name} {state}: set it, or "
                                            f"write ${{{name}:-default}}")

    def error(self, path: P, token: str, nth: int, message: str) -> str:
        line, col = token_position(self.doc, path, token, nth)
        self.errors.append(SpecError(self.doc.file, line, col, format_path(path), message))
        return token
