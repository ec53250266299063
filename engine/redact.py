"""Keep secrets out of everything the engine writes (reports, logs, history).

``redact`` replaces the values of sensitive headers/fields anywhere in nested
data: dict keys, ``[name, value]`` pairs, and ``Name: value`` / ``name=value`` /
``"name": "value"`` forms inside strings, and ``user:password@`` in URLs. Names match
case-insensitively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote

__all__ = ["ALWAYS_SECRET", "MIN_LITERAL", "REDACTED", "environment_values", "literal_forms",
           "redact", "secret_names", "secret_values_in"]

REDACTED = "[REDACTED]"
ALWAYS_SECRET: tuple[str, ...] = ("authorization", "cookie", "set-cookie", "proxy-authorization")


MIN_LITERAL = 4
"""Literal secret values shorter than this are not searched for (so "1" does not eat numbers).
Such a value is still redacted where it stands under a secret name (a header, a field, a
``name=value`` pair), only not wherever else it appears."""


def literal_forms(value: str) -> tuple[str, ...]:
    """``value`` and the escaped spellings a writer may show it in: as ``repr`` and JSON
    escape it (a value with quotes, backslashes or control characters) and percent-encoded
    (in a URL); each once."""
    forms = (value, repr(value)[1:-1], json.dumps(value)[1:-1], quote(value, safe=""))
    return tuple(dict.fromkeys(forms))


def secret_names(secrets: Iterable[str] = ()) -> frozenset[str]:
    """Lower-cased names whose values are redacted: the always-secret headers plus ``secrets``."""
    return frozenset(ALWAYS_SECRET) | {s.strip().lower() for s in secrets if s.strip()}


@lru_cache(maxsize=64)
def _pattern(names: frozenset[str]) -> re.Pattern[str]:
    # Longest first so "set-cookie" wins over "cookie". A name must not be glued to a
    # preceding word character or dash ("x-cookie-id" is not "cookie").
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"""(?<![\w-])(?P<name>{alternation})(?![\w-])
             (?P<sep>["']?\s*(?::|=)\s*)
             (?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\r\n]*)""",
        re.IGNORECASE | re.VERBOSE,
    )


def _replace(match: re.Match[str]) -> str:
    sep, value = match.group("sep"), match.group("value")
    if value[:1] in "\"'":
        quote = value[0]
        return f"{match.group('name')}{sep}{quote}{REDACTED}{quote}"
    if "=" in sep and ":" not in sep:
        # name=value in a query string or cookie list: the value ends at & ; , or space
        rest = re.split(r"[&;,\s\"']", value, maxsplit=1)
        tail = value[len(rest[0]):]
        return f"{match.group('name')}{sep}{REDACTED}{tail}"
    return f"{match.group('name')}{sep}{REDACTED}"


_ENCODED_HISTOGRAM = re.compile(r"HIST[A-Za-z0-9+/]+={0,2}")
# user:password@ in a URL is a credential whatever the spec marks secret
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@:]+:[^/\s@]*@")


def _redact_str(text: str, names: frozenset[str], values: Sequence[str]) -> str:
    if _ENCODED_HISTOGRAM.fullmatch(text):
        # base64 data, not prose: "...+token=" inside it is a coincidence, not a secret
        return text
    for v in values:
        text = text.replace(v, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _pattern(names).sub(_replace, text)


def _walk(obj: Any, names: frozenset[str], values: Sequence[str]) -> Any:
    if isinstance(obj, str):
        return _redact_str(obj, names, values)
    if isinstance(obj, dict):
        return {k: REDACTED if isinstance(k, str) and k.lower() in names
                else _walk(v, names, values) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        items = list(obj)
        if len(items) == 2 and isinstance(items[0], str) and items[0].lower() in names:
            pair = [items[0], REDACTED]
            return tuple(pair) if isinstance(obj, tuple) else pair
        walked = [_walk(i, names, values) for i in items]
        return tuple(walked) if isinstance(obj, tuple) else walked
    return obj


def redact(obj: Any, secrets: Iterable[str] = (), values: Iterable[str] = ()) -> Any:
    """A copy of ``obj`` with secret values replaced by ``"[REDACTED]"``.

    ``secrets`` are extra header/field names (case-insensitive) on top of
    Authorization, Cookie, Set-Cookie and Proxy-Authorization. ``values`` are literal
    secret strings (e.g. a token read from the environment) removed wherever they
    appear; values shorter than 4 characters are ignored so "1" does not eat numbers.
    Non-string scalars are returned as they are.
    """
    names = secret_names(secrets)
    literal = tuple(sorted({v for v in values if len(v) >= MIN_LITERAL}, key=len, reverse=True))
    return _walk(obj, names, literal)


def secret_values_in(data: Any, names: frozenset[str]) -> list[str]:
    """The string values under a secret name anywhere in raw spec ``data`` (a secret
    header's value, a ``start.env`` variable named in ``secrets:``), each also as
    ``repr`` escapes it (a value with CR/LF is shown escaped in an error message)."""
    found: list[str] = []
    stack, seen = [data], 0
    while stack and seen < 100_000:  # bounded: a spec is small, a hostile one is not
        obj, seen = stack.pop(), seen + 1
        if isinstance(obj, dict):
            for key, value in obj.items():
                if isinstance(key, str) and key.lower() in names and isinstance(value, str):
                    found += [value, repr(value)[1:-1]]
                else:
                    stack.append(value)
        elif isinstance(obj, list | tuple):
            stack.extend(obj)
    return found


def environment_values(secrets: Iterable[str], environ: Mapping[str, str]) -> list[str]:
    """Values of apply's environment variables named in ``secrets:`` (case-insensitive): a
    started target inherits them and may print them, a CI job may have exported them."""
    names = secret_names(secrets)
    return [v for k, v in environ.items() if k.lower() in names and len(v) >= MIN_LITERAL]
